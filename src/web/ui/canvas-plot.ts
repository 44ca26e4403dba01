/**
 * @file A tiny plotter for the live canvas views: a frame with nice ticks, lines, bands, bars and
 * dots. The layer views redraw many small plots several times a second while two workers use
 * both cores, so they draw straight on a canvas (a few hundred path segments) instead of
 * rebuilding a Vega scene graph.
 */
import { formatNumber } from './dom.js';

export const FONT = '11px "DejaVu Sans", Verdana, sans-serif';
const AXIS_COLOR = '#666';
const GRID_COLOR = '#e4e4e4';

export interface PlotOptions {
  title: string;
  xDomain: [number, number];
  yDomain: [number, number];
  /** CSS pixels; the width is the canvas's laid-out width. */
  height: number;
  xLabel?: string;
  /** Draw the x ticks as whole numbers (steps, units). */
  xWhole?: boolean;
  /** A legend on its own line under the title. */
  legend?: ReadonlyArray<{ name: string; color: string }>;
}

export interface PlotFrame {
  ctx: CanvasRenderingContext2D;
  left: number;
  top: number;
  width: number;
  height: number;
  x(value: number): number;
  y(value: number): number;
}

/** Sizes the canvas to its laid-out width (sharp on high-DPI screens), clears it and draws the frame, ticks and title. */
export function preparePlot(canvas: HTMLCanvasElement, options: PlotOptions): PlotFrame {
  const cssWidth = Math.max(160, Math.round(canvas.clientWidth || canvas.parentElement?.clientWidth || 300));
  const ratio = Math.min(2, globalThis.devicePixelRatio || 1);
  const pixelWidth = Math.round(cssWidth * ratio),
    pixelHeight = Math.round(options.height * ratio);
  if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
    canvas.width = pixelWidth;
    canvas.height = pixelHeight;
    canvas.style.height = `${options.height}px`;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, cssWidth, options.height);

  const left = 46,
    top = options.legend ? 34 : 20,
    right = 10,
    bottom = options.xLabel ? 32 : 20;
  const width = cssWidth - left - right,
    height = options.height - top - bottom;
  const [x0, x1] = options.xDomain,
    [y0, y1] = options.yDomain;
  const frame: PlotFrame = {
    ctx,
    left,
    top,
    width,
    height,
    x: (value) => left + ((value - x0) / (x1 - x0 || 1)) * width,
    y: (value) => top + height - ((value - y0) / (y1 - y0 || 1)) * height,
  };

  ctx.font = FONT;
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const tick of niceTicks(y0, y1, 4)) {
    const y = Math.round(frame.y(tick)) + 0.5;
    ctx.strokeStyle = GRID_COLOR;
    line(ctx, left, y, left + width, y);
    ctx.fillStyle = AXIS_COLOR;
    ctx.fillText(formatNumber(tick), left - 4, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const tick of niceTicks(x0, x1, Math.max(2, Math.floor(width / 70)), options.xWhole)) {
    const x = Math.round(frame.x(tick)) + 0.5;
    ctx.strokeStyle = AXIS_COLOR;
    line(ctx, x, top + height, x, top + height + 3);
    ctx.fillStyle = AXIS_COLOR;
    ctx.fillText(formatNumber(tick), x, top + height + 5);
  }
  if (options.xLabel) ctx.fillText(options.xLabel, left + width / 2, top + height + 18);
  ctx.strokeStyle = '#ccc';
  ctx.strokeRect(left + 0.5, top + 0.5, width, height);
  ctx.fillStyle = '#222';
  ctx.textAlign = 'left';
  ctx.font = `bold ${FONT}`;
  ctx.fillText(options.title, left, 3);
  ctx.font = FONT;
  if (options.legend) drawLegend(ctx, left, 24, options.legend);
  return frame;
}

function line(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

/** Drawing inside the frame only: a diverging curve must not scribble over the axes. */
function clipped(frame: PlotFrame, draw: () => void): void {
  const { ctx } = frame;
  ctx.save();
  ctx.beginPath();
  ctx.rect(frame.left, frame.top, frame.width, frame.height);
  ctx.clip();
  draw();
  ctx.restore();
}

/** A polyline through the finite points (a gap where a value is not finite). */
export function drawLine(frame: PlotFrame, xs: ArrayLike<number>, ys: ArrayLike<number>, color: string, lineWidth = 1.5): void {
  clipped(frame, () => {
    const { ctx } = frame;
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    let drawing = false;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!,
        y = ys[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(frame.x(x), frame.y(y));
      else ctx.moveTo(frame.x(x), frame.y(y));
      drawing = true;
    }
    ctx.stroke();
  });
}

/** The area between `lower` and `upper` (finite points only). */
export function drawBand(frame: PlotFrame, xs: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>, color: string): void {
  const indices: number[] = [];
  for (let i = 0; i < xs.length; i++) if ([xs[i]!, lower[i]!, upper[i]!].every(Number.isFinite)) indices.push(i);
  if (indices.length < 2) return;
  clipped(frame, () => {
    const { ctx } = frame;
    ctx.fillStyle = color;
    ctx.beginPath();
    indices.forEach((i, k) => {
      if (k === 0) ctx.moveTo(frame.x(xs[i]!), frame.y(upper[i]!));
      else ctx.lineTo(frame.x(xs[i]!), frame.y(upper[i]!));
    });
    for (let k = indices.length - 1; k >= 0; k--) ctx.lineTo(frame.x(xs[indices[k]!]!), frame.y(lower[indices[k]!]!));
    ctx.closePath();
    ctx.fill();
  });
}

/** Bars from `start`, each `binWidth` wide, of the given heights (a histogram). */
export function drawBars(frame: PlotFrame, start: number, binWidth: number, heights: readonly number[], color: string): void {
  clipped(frame, () => {
    const { ctx } = frame;
    ctx.fillStyle = color;
    const base = frame.y(0);
    heights.forEach((height, i) => {
      if (!(height > 0)) return;
      const x0 = frame.x(start + i * binWidth),
        x1 = frame.x(start + (i + 1) * binWidth);
      const y = frame.y(height);
      ctx.fillRect(x0, y, Math.max(1, x1 - x0 - 0.5), base - y);
    });
  });
}

/** A dot per finite (x, y). */
export function drawDots(frame: PlotFrame, xs: ArrayLike<number>, ys: ArrayLike<number>, color: string, radius = 2): void {
  clipped(frame, () => {
    const { ctx } = frame;
    ctx.fillStyle = color;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!,
        y = ys[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      ctx.beginPath();
      ctx.arc(frame.x(x), frame.y(y), radius, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
}

/** A row of colored swatches and names, from (x, y) (the swatches' vertical middle). */
function drawLegend(ctx: CanvasRenderingContext2D, x: number, y: number, entries: ReadonlyArray<{ name: string; color: string }>): void {
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const entry of entries) {
    ctx.fillStyle = entry.color;
    ctx.fillRect(x, y - 5, 10, 10);
    ctx.fillStyle = '#333';
    ctx.fillText(entry.name, x + 13, y);
    x += ctx.measureText(entry.name).width + 24;
  }
}

/** Smallest and largest finite value, widened a little (and to a unit range when all are equal); [0, 1] when there is none. */
export function extent(values: Iterable<number>, include: number[] = []): [number, number] {
  let low = Infinity,
    high = -Infinity;
  for (const value of [...values, ...include]) {
    if (!Number.isFinite(value)) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (low > high) return [0, 1];
  if (low === high) return [low - 1, high + 1];
  const pad = (high - low) * 0.05;
  return [low - pad, high + pad];
}

/** About `count` round tick values (1, 2 or 5 × 10^k apart) within [low, high]. */
function niceTicks(low: number, high: number, count: number, whole = false): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high) || high <= low) return [];
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(whole ? 1 : 0, [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power);
  const ticks: number[] = [];
  // k·step, not a running sum: zero stays exactly zero (no 1.4e-17 tick).
  for (let k = Math.ceil(low / step); k * step <= high + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}
