/**
 * @file The inference panel: draw a digit (or take a random test image), see both networks' ten
 * class probabilities, switch the BN inference statistics (they apply to the networks with BN or a
 * successor of it) and "one example at a time", and tally each network's confusion matrix on the
 * test set. With the batch's own statistics and one example at a time a network with BN collapses,
 * as the article warns: the panel says so.
 */
import { barChartSpec } from '../../lab/charts/bar-chart.js';
import type { VegaLiteSpec } from '../../lab/charts/types.js';
import type { ImageSource, InferenceChoice, SessionEvent } from '../../lab/live/session-messages.js';
import type { Estimator } from '../../nn/spec.js';
import { describeInference, drawConfusion } from './confusion-view.js';
import { el } from './dom.js';
import { DrawPad, drawDigit } from './draw-pad.js';
import { canvasesToPng, createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, hasBatchStatistics, type NormPair, networkLabel, networkPhrase, networkSlug, networkTextColor } from './network-style.js';
import { VegaChart } from './vega-chart.js';

type Classified = Extract<SessionEvent, { type: 'classified' }>;
type Confusion = Extract<SessionEvent, { type: 'confusion' }>;

/** What the panel asks of the two networks, [left, right] in every answer. */
export interface InferenceTarget {
  classify(image: ImageSource, inference: InferenceChoice): Promise<Classified[]>;
  confusion(inference: InferenceChoice): Promise<Confusion[]>;
  testImages: number;
  evalBatchSize(): number;
  /** A refusal or error, for the page's alert region. */
  onError(error: unknown): void;
}

/** The last answer, for tests and the benchmark (window.bnlabLab.inference). */
export interface InferenceResult {
  source: 'drawn' | 'test';
  label: number | null;
  inference: InferenceChoice;
  probabilities: number[][];
}

/** The last confusion matrices' accuracies, [left, right], and how they were computed. */
export interface ConfusionResult {
  inference: InferenceChoice;
  accuracy: number[];
}

const DEFAULT_WARNING =
  "The batch's own statistics with one example at a time: every input is normalized by itself (its variance is 0, so x̂ = 0), " +
  'and the network with BN answers with β alone, the same class for every image (about 10% right). This is the failure the article warns about.';

const ESTIMATOR_LABELS: Record<Estimator, string> = {
  ema: 'moving average (ema)',
  average: "Algorithm 2's average",
  batch: "the batch's own statistics",
};

export class InferencePanel {
  readonly figure: Figure;
  last: InferenceResult | null = null;
  lastConfusion: ConfusionResult | null = null;
  private readonly pad: DrawPad;
  private readonly preview: HTMLCanvasElement;
  private readonly imageCaption: HTMLElement;
  private readonly chart: VegaChart;
  private readonly predictions: HTMLElement;
  private readonly oneAtATime: HTMLInputElement;
  private readonly estimatorInputs: HTMLInputElement[];
  private readonly warning: HTMLElement;
  private readonly scope: HTMLElement;
  private norms: NormPair = DEFAULT_NORMS;
  private readonly confusionCanvases: HTMLCanvasElement[];
  private readonly confusionButton: HTMLButtonElement;
  private image: ImageSource | null = null;

  constructor(
    private readonly target: InferenceTarget,
    estimator: Estimator,
  ) {
    this.figure = createFigure({
      id: 'inference',
      title: 'Inference: draw a digit',
      note:
        "Your digit is cropped, scaled to fit 20×20 and centred by its mass in 28×28, as MNIST's digits were, then both networks classify it. " +
        "At inference BN needs population statistics: the moving average or Algorithm 2's average over training batches. " +
        "The batch's own statistics work only in a large batch; alone, an example has no variance.",
      claim: 'inference-statistics',
    });
    this.pad = new DrawPad(() => void this.classify({ kind: 'pixels', pixels: this.pad.pixels() }, 'drawn'));
    const clear = el('button', { type: 'button', id: 'clear-pad' }, 'Clear');
    clear.addEventListener('click', () => this.pad.clear());
    const random = el('button', { type: 'button', id: 'random-test-image' }, 'Random test image');
    random.addEventListener('click', () => {
      this.pad.clear();
      void this.classify({ kind: 'test', index: Math.floor(Math.random() * target.testImages) }, 'test');
    });
    this.preview = el('canvas', { class: 'digit-preview', width: 28, height: 28, 'aria-label': 'The 28×28 image the networks see' });
    this.imageCaption = el('p', { class: 'caption', 'data-field': 'image-caption' }, 'Draw a digit, or take a random test image.');

    this.chart = new VegaChart(el('div', { class: 'chart probabilities' }));
    this.predictions = el('p', { class: 'predictions', 'data-field': 'predictions', 'aria-live': 'polite' });
    this.estimatorInputs = (['ema', 'average', 'batch'] as const).map((name) =>
      el('input', { type: 'radio', name: 'inference-estimator', value: name, id: `inference-${name}`, checked: name === estimator }),
    );
    this.oneAtATime = el('input', { type: 'checkbox', id: 'one-at-a-time' });
    this.warning = el('p', { class: 'warning', 'data-field': 'batch-warning', hidden: true }, DEFAULT_WARNING);
    this.scope = el('p', { class: 'caption', 'data-field': 'estimator-scope', hidden: true });
    for (const input of [...this.estimatorInputs, this.oneAtATime]) input.addEventListener('change', () => this.inferenceChanged());
    const switches = el(
      'fieldset',
      { class: 'inference-switch' },
      el('legend', {}, 'BN statistics at inference'),
      ...this.estimatorInputs.map((input) => el('label', { class: 'choice' }, input, ` ${ESTIMATOR_LABELS[input.value as Estimator]}`)),
      el('label', { class: 'choice' }, this.oneAtATime, ' one example at a time'),
      this.scope,
    );

    this.confusionCanvases = DEFAULT_NORMS.map((norm) =>
      el('canvas', { class: 'confusion', 'aria-label': `${networkLabel(norm)}: confusion matrix on the test set` }),
    );
    this.confusionButton = el('button', { type: 'button', id: 'confusion' }, 'Confusion matrix on the test set');
    this.confusionButton.addEventListener('click', () => void this.tallyConfusion());

    this.figure.body.append(
      el(
        'div',
        { class: 'inference-grid' },
        el(
          'div',
          { class: 'pad-column' },
          this.pad.canvas,
          el('div', { class: 'button-row' }, clear, random),
          el('div', { class: 'preview-row' }, this.preview, this.imageCaption),
        ),
        el('div', { class: 'answer-column' }, this.chart.container, this.predictions, switches, this.warning),
      ),
      el('div', { class: 'confusion-block' }, this.confusionButton, el('div', { class: 'pair confusion-pair' }, ...this.confusionCanvases)),
    );
    this.figure.addSave('png', 'bnlab-probabilities', () => this.chart.toImageURL('png'), 'Save probabilities PNG');
    this.figure.addSave('svg', 'bnlab-probabilities', () => this.chart.toImageURL('svg'), 'Save probabilities SVG');
    this.figure.addSave('png', 'bnlab-confusion', () => canvasesToPng(this.confusionCanvases, 2), 'Save confusion PNG (canvas)');
    this.inferenceChanged(false);
  }

  /** The inference statistics chosen in the panel. */
  get inference(): InferenceChoice {
    const checked = this.estimatorInputs.find((input) => input.checked);
    return { estimator: (checked?.value ?? 'ema') as Estimator, oneAtATime: this.oneAtATime.checked };
  }

  /** Follows the training setting's estimator after a reset. */
  setEstimator(estimator: Estimator): void {
    for (const input of this.estimatorInputs) input.checked = input.value === estimator;
    this.inferenceChanged(false);
  }

  /**
   * The networks' norms, left and right: their names, and what the estimator choice and its
   * warning say (the estimator applies to BN and its successors only). Old answers are cleared.
   */
  setNorms(norms: NormPair): void {
    if (norms[0] === this.norms[0] && norms[1] === this.norms[1]) return;
    this.norms = norms;
    this.confusionCanvases.forEach((canvas, i) => {
      canvas.setAttribute('aria-label', `${networkLabel(norms[i]!)}: confusion matrix on the test set`);
      canvas.width = 0;
      canvas.height = 0;
    });
    this.lastConfusion = null;
    const withStatistics = norms.filter(hasBatchStatistics);
    const defaultPair = norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1];
    this.scope.hidden = defaultPair;
    this.scope.textContent =
      withStatistics.length === 2
        ? 'These apply to both networks (BN and its successors infer with batch statistics).'
        : withStatistics.length === 1
          ? `These apply to the network ${networkPhrase(withStatistics[0]!)} only: the one ${networkPhrase(norms.find((norm) => !hasBatchStatistics(norm))!)} has no batch statistics.`
          : 'Neither network has batch statistics: these change nothing here.';
    this.warning.textContent = defaultPair
      ? DEFAULT_WARNING
      : withStatistics.length === 0
        ? "The batch's own statistics with one example at a time: neither network normalizes by the batch, so neither depends on it."
        : "The batch's own statistics with one example at a time: every input is normalized by itself (its variance is 0, so x̂ = 0), " +
          `and the network ${withStatistics.map(networkPhrase).join(' and the one ')} answers with β alone, the same class for every image (about 10% right). ` +
          'This is the failure the article warns about.';
  }

  /** Asks again for the image on screen (after a reset or a loaded network, say). */
  refresh(): void {
    if (this.image) void this.classify(this.image, this.image.kind === 'test' ? 'test' : 'drawn');
  }

  private inferenceChanged(reclassify = true): void {
    const { estimator, oneAtATime } = this.inference;
    this.warning.hidden = !(estimator === 'batch' && oneAtATime);
    if (reclassify) this.refresh();
  }

  private async classify(image: ImageSource, source: 'drawn' | 'test'): Promise<void> {
    if (image.kind === 'pixels' && image.pixels.every((value) => value === 0)) return;
    this.image = image;
    const inference = this.inference;
    try {
      const answers = await this.target.classify(image, inference);
      const [first] = answers;
      if (!first) return;
      drawDigit(this.preview, first.pixels);
      this.imageCaption.textContent =
        first.label === null ? 'Your digit as the networks see it (28×28).' : `Test image ${image.kind === 'test' ? image.index : ''}: a ${first.label}.`;
      this.last = { source, label: first.label, inference, probabilities: answers.map((answer) => answer.probabilities) };
      this.predictions.replaceChildren(
        ...answers.map((answer, i) => {
          const best = argmax(answer.probabilities);
          const norm = this.norms[i]!;
          return el(
            'span',
            { class: 'prediction', 'data-network': networkSlug(norm), style: `color: ${networkTextColor(norm)}` },
            `${networkLabel(norm)}: ${best} (${(answer.probabilities[best]! * 100).toFixed(1)}%)`,
          );
        }),
      );
      await this.chart.show(
        probabilitiesSpec(
          answers.map((answer) => answer.probabilities),
          describeInference(inference, this.target.evalBatchSize()),
          this.chart.container.clientWidth || 320,
          this.norms,
        ),
      );
    } catch (error) {
      this.target.onError(error);
    }
  }

  private async tallyConfusion(): Promise<void> {
    const inference = this.inference;
    this.confusionButton.disabled = true;
    this.confusionButton.textContent = 'Tallying 10,000 test images…';
    try {
      const answers = await this.target.confusion(inference);
      const how = describeInference(inference, this.target.evalBatchSize());
      answers.forEach((answer, i) => {
        drawConfusion(this.confusionCanvases[i]!, this.norms[i]!, answer.matrix, answer.accuracy, how);
      });
      this.lastConfusion = { inference, accuracy: answers.map((answer) => answer.accuracy) };
    } catch (error) {
      this.target.onError(error);
    } finally {
      this.confusionButton.disabled = false;
      this.confusionButton.textContent = 'Confusion matrix on the test set';
    }
  }
}

/**
 * Both networks' ten probabilities as src/lab/charts' grouped bars, fitted to `width` pixels:
 * the legend on top and without a printed value on each of the twenty bars (the line under the
 * chart names each network's answer).
 */
function probabilitiesSpec(probabilities: readonly number[][], how: string, width: number, norms: NormPair = DEFAULT_NORMS): VegaLiteSpec {
  const spec = barChartSpec({
    title: 'Class probabilities',
    xTitle: 'digit',
    yTitle: 'probability',
    bars: probabilities.flatMap((values, i) => values.map((value, digit) => ({ category: String(digit), group: networkLabel(norms[i]!), value }))),
    yDomain: [0, 1],
    // A digit's slot is two bars and the padding between slots: about 2.5 bar widths.
    barWidth: Math.max(6, Math.min(16, Math.floor((width - 70) / 25))),
    height: 160,
  });
  const layers = 'layer' in spec ? { layer: spec.layer.slice(0, 1) } : {};
  return {
    ...spec,
    ...layers,
    title: { text: 'Class probabilities', subtitle: how },
    config: { ...spec.config, legend: { ...spec.config?.legend, orient: 'top' } },
  };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((value, i) => {
    if (value > values[best]!) best = i;
  });
  return best;
}
