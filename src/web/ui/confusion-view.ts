/**
 * @file A network's confusion matrix on the test set as a heatmap: rows the true digit, columns
 * the predicted one, each cell's count printed, with the accuracy and the inference statistics
 * it was computed under in the title.
 */
import type { InferenceChoice } from '../../lab/live/session-messages.js';
import type { NormKind } from '../../nn/spec.js';
import { FONT } from './canvas-plot.js';
import { formatAccuracy } from './dom.js';
import { networkLabel } from './network-style.js';

const CELL = 30;
const LEFT = 34,
  TOP = 48;

/** "ema, in batches of 1000" / "batch, one example at a time". */
export function describeInference(inference: InferenceChoice, evalBatchSize: number): string {
  return `${inference.estimator}, ${inference.oneAtATime ? 'one example at a time' : `in batches of ${evalBatchSize}`}`;
}

export function drawConfusion(canvas: HTMLCanvasElement, norm: NormKind, matrix: number[][], accuracy: number, how: string): void {
  const size = matrix.length;
  const width = LEFT + size * CELL + 8,
    height = TOP + size * CELL + 8;
  canvas.width = width * 2;
  canvas.height = height * 2;
  canvas.style.width = `${width}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(2, 0, 0, 2, 0, 0);
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, width, height);
  ctx.font = `bold ${FONT}`;
  ctx.fillStyle = '#222';
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText(`${networkLabel(norm)}: test accuracy ${formatAccuracy(accuracy)}`, 4, 2);
  ctx.font = FONT;
  ctx.fillStyle = '#555';
  ctx.fillText(`${how}; rows: true digit, columns: predicted`, 4, 17);
  // Each row scaled by its own total: a cell's shade is the fraction of that digit sent there.
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  matrix.forEach((row, truth) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    ctx.fillStyle = '#333';
    ctx.fillText(String(truth), LEFT - 12, TOP + truth * CELL + CELL / 2);
    row.forEach((count, predicted) => {
      const share = count / total;
      const x = LEFT + predicted * CELL,
        y = TOP + truth * CELL;
      ctx.fillStyle = heat(share, truth === predicted);
      ctx.fillRect(x, y, CELL - 1, CELL - 1);
      ctx.fillStyle = share > 0.5 ? 'white' : '#333';
      if (count > 0) ctx.fillText(count > 999 ? `${(count / 1000).toFixed(1)}k` : String(count), x + CELL / 2, y + CELL / 2);
    });
  });
  for (let predicted = 0; predicted < size; predicted++) {
    ctx.fillStyle = '#333';
    ctx.fillText(String(predicted), LEFT + predicted * CELL + CELL / 2, TOP - 9);
  }
}

/** White to blue on the diagonal (right answers), white to red off it (mistakes). */
function heat(share: number, diagonal: boolean): string {
  const t = Math.sqrt(share); // small error rates stay visible
  const [r, g, b] = diagonal ? [76, 120, 168] : [228, 87, 86];
  const mix = (channel: number): number => Math.round(255 + (channel - 255) * t);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}
