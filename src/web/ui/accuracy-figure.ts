/**
 * @file Validation accuracy and training loss of both networks over training: two line charts
 * of src/lab/charts side by side (one above the other on a phone), each network named and colored
 * by its norm as every chart names and colors it. Updated by replacing their rows, not by
 * rebuilding them (a change of norms rebuilds them).
 */
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import type { VegaLiteSpec } from '../../lab/charts/types.js';
import { el } from './dom.js';
import { createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, type NormPair, networkLabel } from './network-style.js';
import type { NetworkTrace } from './network-trace.js';
import { VegaChart, withNamedData } from './vega-chart.js';

interface Row {
  series: string;
  x: number;
  y: number;
}

/** The two series, left then right, named (and so colored) by their norms. */
function seriesOf(norms: NormPair): Array<{ name: string; points: [] }> {
  return norms.map((norm) => ({ name: networkLabel(norm), points: [] }));
}

/** Validation accuracy on [0, 1], its rows in the dataset "rows"; `width` is the plot area. */
function accuracySpec(width: number, norms: NormPair = DEFAULT_NORMS): VegaLiteSpec {
  return legendOnTop(
    withNamedData(
      lineChartSpec({
        title: 'Validation accuracy',
        xTitle: 'training step',
        yTitle: 'validation accuracy',
        series: seriesOf(norms),
        yDomain: [0, 1],
        width,
        height: 200,
      }),
      'rows',
    ),
  );
}

/** The legend above the plot: two side-by-side charts have no room for one at the right. */
function legendOnTop(spec: VegaLiteSpec): VegaLiteSpec {
  return { ...spec, config: { ...spec.config, legend: { ...spec.config?.legend, orient: 'top' } } };
}

/** Mean training-batch loss per probe interval on a log axis, its rows in the dataset "rows". */
function lossSpec(width: number, norms: NormPair = DEFAULT_NORMS): VegaLiteSpec {
  const spec = legendOnTop(
    withNamedData(
      lineChartSpec({
        title: 'Training loss',
        xTitle: 'training step',
        yTitle: 'mean batch loss (log scale)',
        series: seriesOf(norms),
        yScale: 'log',
        width,
        height: 200,
      }),
      'rows',
    ),
  );
  // ~100 loss points per run: the line reads better without a dot on each.
  return 'mark' in spec ? { ...spec, mark: { type: 'line', clip: true, point: false } } : spec;
}

const DEFAULT_NOTE =
  'Both networks start from the same weights and see the same batches; the only difference is BatchNorm. ' +
  'With BN the accuracy climbs sooner and, at a large learning rate or a wide initialization, the network trains where the plain one stalls near 10% or diverges. ' +
  "This is the article's experiment, as bnlab compare runs it.";
const OTHER_NOTE =
  'Both networks start from the same weights and see the same batches; the only difference is their normalization. ' +
  "This is the article's experiment with other norms, as bnlab compare --norms runs it.";

export class AccuracyFigure {
  readonly figure: Figure;
  private readonly charts: VegaChart[];
  private builtForWidth = 0;
  private builtForNorms = '';
  private norms: NormPair = DEFAULT_NORMS;
  private drawnVersions = '';

  constructor() {
    this.figure = createFigure({
      id: 'accuracy',
      title: 'Validation accuracy and training loss',
      note: DEFAULT_NOTE,
      claim: 'scale-invariance',
    });
    this.charts = [new VegaChart(el('div', { class: 'chart' })), new VegaChart(el('div', { class: 'chart' }))];
    this.figure.body.append(el('div', { class: 'pair' }, ...this.charts.map((chart) => chart.container)));
    const [accuracy, loss] = this.charts as [VegaChart, VegaChart];
    this.figure.addSave('png', 'bnlab-accuracy', () => accuracy.toImageURL('png'), 'Save accuracy PNG');
    this.figure.addSave('svg', 'bnlab-accuracy', () => accuracy.toImageURL('svg'), 'Save accuracy SVG');
    this.figure.addSave('png', 'bnlab-loss', () => loss.toImageURL('png'), 'Save loss PNG');
    this.figure.addSave('svg', 'bnlab-loss', () => loss.toImageURL('svg'), 'Save loss SVG');
  }

  /** The networks' norms, left and right: the series' names and colors. */
  setNorms(norms: NormPair): void {
    this.norms = norms;
    this.figure.setNote(norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1] ? DEFAULT_NOTE : OTHER_NOTE);
  }

  async draw(traces: readonly NetworkTrace[]): Promise<void> {
    const [accuracy, loss] = this.charts as [VegaChart, VegaChart];
    const width = accuracy.container.clientWidth;
    const norms = this.norms;
    const rebuild = !accuracy.ready || (width > 0 && Math.abs(width - this.builtForWidth) > 30) || norms.join() !== this.builtForNorms;
    const versions = traces.map((trace) => `${trace.runId}.${trace.version}`).join();
    if (!rebuild && versions === this.drawnVersions) return;
    if (rebuild) {
      this.builtForWidth = width;
      this.builtForNorms = norms.join();
      // The plot area is the container less the y axis, its title and the padding (about 75 px).
      const plotWidth = Math.max(160, (width || 400) - 75);
      await Promise.all([accuracy.show(accuracySpec(plotWidth, norms)), loss.show(lossSpec(plotWidth, norms))]);
    }
    this.drawnVersions = versions;
    const accuracyRows: Row[] = [];
    const lossRows: Row[] = [];
    for (const trace of traces) {
      const series = networkLabel(trace.norm);
      for (const point of trace.curve) if (Number.isFinite(point.validationAccuracy)) accuracyRows.push({ series, x: point.step, y: point.validationAccuracy });
      // A log axis shows no zero, NaN or infinity: a diverged network's loss line ends where it diverged.
      for (const [step, value] of trace.losses) if (Number.isFinite(value) && value > 0) lossRows.push({ series, x: step, y: value });
    }
    await Promise.all([accuracy.setData({ rows: accuracyRows }), loss.setData({ rows: lossRows })]);
  }
}
