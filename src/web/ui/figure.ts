/**
 * @file The frame every view sits in: a titled section with the view, two or three sentences
 * beside it (what it shows, what to look for, which `bnlab explain` claim measures it) and
 * buttons that save it as an image.
 */
import { el, saveFile } from './dom.js';

export interface FigureOptions {
  id: string;
  title: string;
  /** The sentences beside the view. */
  note: string;
  /** The `bnlab explain` claim that measures what the view shows, or null. */
  claim: string | null;
}

export interface Figure {
  section: HTMLElement;
  /** Where the view goes. */
  body: HTMLElement;
  note: HTMLElement;
  /** Replaces the sentences beside the view (the claim that measures it stays). */
  setNote(text: string): void;
  /** Adds a "Save PNG"/"Save SVG" button that saves what `image` returns (a data URL) as `<fileStem>.<format>`. */
  addSave(format: 'png' | 'svg', fileStem: string, image: () => Promise<string> | string, label?: string): HTMLButtonElement;
}

export function createFigure(options: FigureOptions): Figure {
  const body = el('div', { class: 'figure-body' });
  const noteText = document.createTextNode(options.note);
  const note = el('p', { class: 'figure-note' }, noteText);
  if (options.claim) note.append(' Measured by ', el('code', {}, `bnlab explain ${options.claim}`), '.');
  const actions = el('div', { class: 'figure-actions' });
  const section = el(
    'section',
    { class: 'figure', id: options.id, 'aria-labelledby': `${options.id}-title` },
    el('h2', { id: `${options.id}-title` }, options.title),
    el('div', { class: 'figure-layout' }, body, el('div', { class: 'figure-side' }, note, actions)),
  );
  return {
    section,
    body,
    note,
    setNote(text) {
      noteText.data = text;
    },
    addSave(format, fileStem, image, label) {
      const button = el('button', { type: 'button', class: 'small' }, label ?? `Save ${format.toUpperCase()}`);
      button.addEventListener('click', async () => saveFile(await image(), `${fileStem}.${format}`));
      actions.append(button);
      return button;
    },
  };
}

/** One PNG of several canvases laid out in `columns` columns (a figure of small canvases saved whole). */
export function canvasesToPng(canvases: readonly HTMLCanvasElement[], columns: number): string {
  const visible = canvases.filter((canvas) => canvas.width > 0 && canvas.height > 0);
  const cellWidth = Math.max(1, ...visible.map((canvas) => canvas.width));
  const cellHeight = Math.max(1, ...visible.map((canvas) => canvas.height));
  const rows = Math.ceil(visible.length / columns);
  const sheet = document.createElement('canvas');
  sheet.width = cellWidth * Math.min(columns, visible.length);
  sheet.height = cellHeight * rows;
  const ctx = sheet.getContext('2d')!;
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, sheet.width, sheet.height);
  visible.forEach((canvas, i) => {
    ctx.drawImage(canvas, (i % columns) * cellWidth, Math.floor(i / columns) * cellHeight);
  });
  return sheet.toDataURL('image/png');
}
