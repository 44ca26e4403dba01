/**
 * @file Each layer of BN, or of its successors Batch Renorm and Ghost BN, in the networks that have
 * one (one or both): its learned γ and β per unit, and its population estimates (the moving
 * averages inference uses) against the statistics of the latest training batch (Ghost BN, which
 * normalizes in virtual batches: of the probe images), mean and variance, one dot per unit. Dots on
 * the diagonal: the estimate has caught up. Without such a network the figure says why it is empty.
 */
import type { BatchNormView } from '../../lab/live/session-messages.js';
import type { NormKind } from '../../nn/spec.js';
import { drawDots, drawLine, extent, preparePlot } from './canvas-plot.js';
import { el } from './dom.js';
import { canvasesToPng, createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, hasBatchStatistics, type NormPair, networkColor, networkPhrase } from './network-style.js';
import type { NetworkTrace } from './network-trace.js';

const BETA_COLOR = '#54a24b';
/** β's color when green is a network's on the page (Layer Norm's). */
const BETA_COLOR_ALT = '#777777';
const PLOT_HEIGHT = 170;

const DEFAULT_NOTE =
  'Left: the scale γ and shift β each unit learned (they start at 1 and 0; BN can undo itself if training wants it). Middle and right: ' +
  "the running mean and variance (the moving average, momentum 0.99 by default) against the current batch's, one dot per unit. " +
  'Early in training the running estimates lag behind the batch statistics; inference with them is only as good as this agreement.';
const GHOST_NOTE = " Ghost BN normalizes each training batch in virtual batches, so its estimates are set against the 256 probe images' statistics.";
const RENORM_NOTE =
  " Batch Renorm trains with the batch's statistics corrected towards the running ones (r and d, clipped), so what it learns already fits them.";

/** The name of a layer of this norm in a heading. */
const LAYER_NAMES: Partial<Record<NormKind, string>> = { bn: 'BN', brn: 'Batch Renorm', ghost: 'Ghost BN' };

interface Row {
  /** Which network (0: left, 1: right). */
  network: number;
  layer: number;
  heading: HTMLElement;
  canvases: HTMLCanvasElement[]; // [γ and β, means, variances]
}

export class BatchNormFigure {
  readonly figure: Figure;
  private readonly rowsContainer: HTMLElement;
  private readonly empty: HTMLElement;
  private rows: Row[] = [];
  private layout = '';
  private betaColor = BETA_COLOR;
  private drawnVersion = '';

  constructor() {
    this.figure = createFigure({
      id: 'batch-norm',
      title: 'BatchNorm layers: γ, β and the statistics',
      note: DEFAULT_NOTE,
      claim: 'inference-statistics',
    });
    this.rowsContainer = el('div', { class: 'layer-blocks' });
    this.empty = el('p', { class: 'figure-empty', 'data-field': 'no-batch-norm', hidden: true });
    this.figure.body.append(this.empty, this.rowsContainer);
    this.figure.addSave(
      'png',
      'bnlab-batch-norm',
      () =>
        canvasesToPng(
          this.rows.flatMap((row) => row.canvases),
          3,
        ),
      'Save PNG (canvas)',
    );
  }

  /** One row per hidden layer of each network with BN or a successor of it; none: a sentence that says why. */
  setLayers(hiddenSizes: readonly number[], norms: NormPair): void {
    const layout = `${hiddenSizes.length}/${norms.join(',')}`;
    if (layout === this.layout) return;
    this.layout = layout;
    const networks = [0, 1].filter((i) => hasBatchStatistics(norms[i]!));
    this.rowsContainer.replaceChildren();
    this.rows = hiddenSizes.flatMap((_, l) =>
      networks.map((network) => {
        const norm = norms[network]!;
        const name = `${LAYER_NAMES[norm] ?? norm} layer ${l + 1}`;
        const heading = el('h3', {}, name);
        const labels = ['γ and β per unit', 'running mean against the batch mean', 'running variance against the batch variance'];
        const canvases = labels.map((label) => el('canvas', { class: 'plot', 'aria-label': `${name}: ${label}` }));
        this.rowsContainer.append(el('div', { class: 'layer-block', 'data-norm': norm }, heading, el('div', { class: 'triple' }, ...canvases)));
        return { network, layer: l, heading, canvases };
      }),
    );
    const defaultPair = norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1];
    const shown = networks.map((i) => norms[i]!);
    const without = norms.find((norm) => !hasBatchStatistics(norm));
    this.figure.setNote(
      defaultPair
        ? DEFAULT_NOTE
        : DEFAULT_NOTE.replace('BN can undo', 'the layer can undo') +
            (shown.includes('brn') ? RENORM_NOTE : '') +
            (shown.includes('ghost') ? GHOST_NOTE : '') +
            (networks.length === 1 && without ? ` The network ${networkPhrase(without)} keeps no batch statistics: it has nothing here.` : ''),
    );
    this.betaColor = norms.some((norm) => networkColor(norm) === BETA_COLOR) ? BETA_COLOR_ALT : BETA_COLOR;
    this.empty.hidden = networks.length > 0;
    this.empty.textContent =
      networks.length > 0
        ? ''
        : `Neither network has BatchNorm's batch statistics and moving averages: the one ${networkPhrase(norms[0])} and the one ${networkPhrase(norms[1])} ` +
          'normalize each example by itself, or not at all, and infer exactly as they train. Choose bn, brn or ghost for one of the networks to see its γ, β and running statistics here.';
    this.drawnVersion = '';
  }

  draw(traces: readonly NetworkTrace[]): void {
    const version = `${traces.map((trace) => `${trace.runId}.${trace.version}`).join()}/${this.figure.body.clientWidth}`;
    if (version === this.drawnVersion) return;
    this.drawnVersion = version;
    for (const row of this.rows) {
      const trace = traces[row.network];
      if (!trace) continue;
      const view = trace.layers?.[row.layer]?.batchNorm ?? null;
      const color = networkColor(trace.norm);
      const against = view?.batchSource === 'probe' ? "the probe's" : "this batch's";
      this.drawScaleShift(row.canvases[0]!, view, row.layer, color);
      this.drawAgainst(row.canvases[1]!, view?.batchMean ?? [], view?.movingMean ?? [], 'mean', false, color, against);
      this.drawAgainst(row.canvases[2]!, view?.batchVariance ?? [], view?.movingVariance ?? [], 'variance', true, color, against);
    }
  }

  private drawScaleShift(canvas: HTMLCanvasElement, view: BatchNormView | null, layer: number, color: string): void {
    const gamma = view?.gamma ?? [],
      beta = view?.beta ?? [];
    const units = gamma.map((_, unit) => unit);
    const frame = preparePlot(canvas, {
      title: 'γ and β per unit',
      xDomain: [0, Math.max(1, gamma.length - 1)],
      yDomain: extent([...gamma, ...beta], [0, 1]),
      height: PLOT_HEIGHT,
      xLabel: `unit (layer ${layer + 1})`,
      xWhole: true,
      legend: [
        { name: 'γ (scale)', color },
        { name: 'β (shift)', color: this.betaColor },
      ],
    });
    drawDots(frame, units, gamma, color, 1.8);
    drawDots(frame, units, beta, this.betaColor, 1.8);
  }

  /** Running estimate (y) against the batch's statistic (x), with the diagonal y = x. */
  private drawAgainst(
    canvas: HTMLCanvasElement,
    batch: number[],
    running: number[],
    statistic: string,
    fromZero: boolean,
    color: string,
    against: string,
  ): void {
    const domain = extent([...batch, ...running], fromZero ? [0] : []);
    const frame = preparePlot(canvas, {
      title: `running ${statistic} (y)`,
      xDomain: domain,
      yDomain: domain,
      height: PLOT_HEIGHT,
      xLabel: `${against} ${statistic} (x)`,
    });
    drawLine(frame, domain, domain, '#bbb', 1);
    drawDots(frame, batch, running, color, 1.8);
  }
}
