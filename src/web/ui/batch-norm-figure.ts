/**
 * @file Each BN layer of the network with BN: its learned γ and β per unit, and its population
 * estimates (the moving averages inference uses) against the statistics of the latest training
 * batch, mean and variance, one dot per unit. Dots on the diagonal: the estimate has caught up.
 */
import type { BatchNormView } from '../../lab/live/session-messages.js';
import type { NetworkTrace } from './network-trace.js';
import { drawDots, drawLine, extent, preparePlot } from './canvas-plot.js';
import { el } from './dom.js';
import { canvasesToPng, createFigure, type Figure } from './figure.js';
import { networkColor } from './network-style.js';

const GAMMA_COLOR = networkColor(true);
const BETA_COLOR = '#54a24b';
const PLOT_HEIGHT = 170;

interface Row {
  heading: HTMLElement;
  canvases: HTMLCanvasElement[]; // [γ and β, means, variances]
}

export class BatchNormFigure {
  readonly figure: Figure;
  private readonly rowsContainer: HTMLElement;
  private rows: Row[] = [];
  private drawnVersion = '';

  constructor() {
    this.figure = createFigure({
      id: 'batch-norm',
      title: 'BatchNorm layers: γ, β and the statistics',
      note: 'Left: the scale γ and shift β each unit learned (they start at 1 and 0; BN can undo itself if training wants it). Middle and right: '
        + 'the running mean and variance (the moving average, momentum 0.99 by default) against the current batch\'s, one dot per unit. '
        + 'Early in training the running estimates lag behind the batch statistics; inference with them is only as good as this agreement.',
      claim: 'inference-statistics',
    });
    this.rowsContainer = el('div', { class: 'layer-blocks' });
    this.figure.body.append(this.rowsContainer);
    this.figure.addSave('png', 'bnlab-batch-norm', () => canvasesToPng(this.rows.flatMap((row) => row.canvases), 3), 'Save PNG (canvas)');
  }

  setLayers(hiddenSizes: readonly number[]): void {
    if (this.rows.length === hiddenSizes.length) return;
    this.rowsContainer.replaceChildren();
    this.rows = hiddenSizes.map((_, l) => {
      const heading = el('h3', {}, `BN layer ${l + 1}`);
      const labels = ['γ and β per unit', 'running mean against the batch mean', 'running variance against the batch variance'];
      const canvases = labels.map((label) => el('canvas', { class: 'plot', 'aria-label': `BN layer ${l + 1}: ${label}` }));
      this.rowsContainer.append(el('div', { class: 'layer-block' }, heading, el('div', { class: 'triple' }, ...canvases)));
      return { heading, canvases };
    });
    this.drawnVersion = '';
  }

  draw(trace: NetworkTrace): void {
    const version = `${trace.runId}.${trace.version}/${this.figure.body.clientWidth}`;
    if (version === this.drawnVersion) return;
    this.drawnVersion = version;
    this.rows.forEach((row, l) => {
      const view = trace.layers?.[l]?.batchNorm ?? null;
      this.drawScaleShift(row.canvases[0]!, view, l);
      this.drawAgainst(row.canvases[1]!, view?.batchMean ?? [], view?.movingMean ?? [], 'mean', false);
      this.drawAgainst(row.canvases[2]!, view?.batchVariance ?? [], view?.movingVariance ?? [], 'variance', true);
    });
  }

  private drawScaleShift(canvas: HTMLCanvasElement, view: BatchNormView | null, layer: number): void {
    const gamma = view?.gamma ?? [], beta = view?.beta ?? [];
    const units = gamma.map((_, unit) => unit);
    const frame = preparePlot(canvas, {
      title: 'γ and β per unit',
      xDomain: [0, Math.max(1, gamma.length - 1)],
      yDomain: extent([...gamma, ...beta], [0, 1]),
      height: PLOT_HEIGHT,
      xLabel: `unit (layer ${layer + 1})`,
      xWhole: true,
      legend: [{ name: 'γ (scale)', color: GAMMA_COLOR }, { name: 'β (shift)', color: BETA_COLOR }],
    });
    drawDots(frame, units, gamma, GAMMA_COLOR, 1.8);
    drawDots(frame, units, beta, BETA_COLOR, 1.8);
  }

  /** Running estimate (y) against the batch's statistic (x), with the diagonal y = x. */
  private drawAgainst(canvas: HTMLCanvasElement, batch: number[], running: number[], statistic: string, fromZero: boolean): void {
    const domain = extent([...batch, ...running], fromZero ? [0] : []);
    const frame = preparePlot(canvas, {
      title: `running ${statistic} (y)`, xDomain: domain, yDomain: domain, height: PLOT_HEIGHT, xLabel: `this batch's ${statistic} (x)`,
    });
    drawLine(frame, domain, domain, '#bbb', 1);
    drawDots(frame, batch, running, GAMMA_COLOR, 1.8);
  }
}
