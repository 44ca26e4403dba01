/**
 * @file The few DOM helpers every view shares: build an element with attributes and children,
 * save a data URL or Blob as a file, and format numbers the way the CLI prints them.
 */

type Child = Node | string | null | undefined | false;

/** `<tag attr=…>children</tag>`; a `class` attribute sets className, `on…` is not supported (add listeners). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** The element with this id, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}: index.html and main.ts disagree`);
  return element as T;
}

/** Saves `data` (a Blob or a data: URL) as a file called `fileName`. */
export function saveFile(data: Blob | string, fileName: string): void {
  const url = typeof data === 'string' ? data : URL.createObjectURL(data);
  const link = el('a', { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the object URL can go after this turn.
  if (typeof data !== 'string') setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** 0.9652 as "0.9652" (four decimals, as the CLI prints accuracies); NaN as "—". */
export function formatAccuracy(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(4);
}

/** A number with about three significant digits, for axis ticks and readouts. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}
