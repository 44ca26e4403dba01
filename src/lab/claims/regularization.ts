/**
 * @file Claim `regularization`: batch statistics are noisy estimates, so an example's BN output
 * depends on which mini-batch it sits in, like dropout noise. Measured as the spread of one fixed
 * example's BN output across random mini-batches for several batch sizes (expected to shrink like
 * 1/√m), and as the train-versus-validation accuracy gap without and with BN on a small training
 * subset (small so that overfitting shows within a short run).
 */
import { Batcher } from '../../data/batcher.js';
import { PIXEL_SCALE, type Split } from '../../data/mnist.js';
import type { ForwardPass } from '../../nn/layer.js';
import type { MLP } from '../../nn/mlp.js';
import { deriveSeed } from '../../train/seeds.js';
import { barChartSpec } from '../charts/bar-chart.js';
import { lineChartSpec } from '../charts/line-chart.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import {
  accuracyOf,
  accuracyOn,
  BATCH_STATISTICS,
  elapsedSince,
  formatNumber,
  formatPercent,
  headOf,
  logLogSlope,
  type NetworkChoice,
  networkPair,
  predictClasses,
  trainForClaim,
} from './experiment-kit.js';

export interface RegularizationBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  /** Training examples the gap runs train on (a small subset, so that a short run overfits). */
  trainingSubset: number;
  validationCount: number;
  /** The noise measurement: batch sizes, mini-batches per size, first-layer units averaged. */
  noiseBatchSizes: number[];
  noiseSamples: number;
  noiseUnits: number;
}

const REGULARIZATION_FULL: RegularizationBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  steps: 5000,
  batchSize: 60,
  trainingSubset: 2000,
  validationCount: 5000,
  noiseBatchSizes: [8, 16, 60, 256],
  noiseSamples: 1000,
  noiseUnits: 8,
};

export const REGULARIZATION_QUICK: RegularizationBudget = {
  ...REGULARIZATION_FULL,
  steps: 1500,
  trainingSubset: 1000,
  validationCount: 2000,
  noiseSamples: 200,
};

/** The spread should follow m^slope with slope −1/2; a measured slope within this of −1/2 agrees. */
export const SLOPE_TOLERANCE = 0.2;

export const regularizationClaim: Claim = {
  name: 'regularization',
  title: 'BN regularizes: batch statistics add noise',
  description: "the spread of one example's BN output across mini-batches (~1/√m) and the train-validation gap without and with BN",
  articleSays: 'BN has a regularising effect: batch statistics are noisy estimates of the population statistics, like dropout noise.',
  run: (context) => runRegularization(context, context.quick ? REGULARIZATION_QUICK : REGULARIZATION_FULL),
};

interface NoisePoint {
  batchSize: number;
  /** Std of the example's BN output across mini-batches, averaged over the measured units. */
  spread: number;
}

export async function runRegularization(context: ClaimContext, budget: RegularizationBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;

  // The gap: both networks on the same small subset, from the same weights and batches.
  const subset = headOf(data.train, budget.trainingSubset);
  const validation = headOf(data.validation, budget.validationCount);
  const { withoutBn, withBn } = networkPair(kernels, budget.network, seed);
  const gaps: Record<string, { train: number; validation: number; gap: number }> = {};
  const validationPredictions: Record<string, Uint8Array> = {};
  for (const [label, net] of [
    [withoutBnName, withoutBn],
    [withBnName, withBn],
  ] as const) {
    context.onProgress?.(`regularization: ${label}, ${budget.steps} steps on ${subset.count} training images`);
    await trainForClaim(net, { ...data, train: subset }, { steps: budget.steps, batchSize: budget.batchSize, learningRate: budget.learningRate, seed });
    const train = accuracyOn(net, subset);
    validationPredictions[label] = predictClasses(net, validation, 500);
    const valid = accuracyOf(validationPredictions[label]!, validation.labels);
    gaps[label] = { train, validation: valid, gap: train - valid };
  }
  const gapWithout = gaps[withoutBnName]!.gap,
    gapWith = gaps[withBnName]!.gap;
  const gapNoise = 2 * pairedAccuracyDifferenceStdError(validationPredictions[withoutBnName]!, validationPredictions[withBnName]!, validation.labels);
  const gapHolds = gapWithout - gapWith > gapNoise;

  // The noise: one validation image placed in random training mini-batches of each size, through the trained BN network's first layer.
  context.onProgress?.(`regularization: BN noise over ${budget.noiseSamples} mini-batches per batch size`);
  const noise: NoisePoint[] = budget.noiseBatchSizes.map((batchSize) => ({
    batchSize,
    spread: bnOutputSpread(withBn, data.train, data.validation, batchSize, budget, seed),
  }));
  const slope = logLogSlope(
    noise.map((n) => n.batchSize),
    noise.map((n) => n.spread),
  );
  const decreasing = noise.every((n, i) => i === 0 || n.spread < noise[i - 1]!.spread);
  const noiseHolds = decreasing && Math.abs(slope + 0.5) <= SLOPE_TOLERANCE;
  const holds = noiseHolds && gapHolds;

  const lines = [
    ...noise.map(
      (n) =>
        `batch ${String(n.batchSize).padEnd(4)} spread of the example's BN output ${formatNumber(n.spread, 4)} (× √m = ${formatNumber(n.spread * Math.sqrt(n.batchSize), 3)})`,
    ),
    `log-log slope of spread against m: ${slope.toFixed(3)} (1/√m is −0.5)`,
    ...[withoutBnName, withBnName].map(
      (label) =>
        `${label.padEnd(10)} trained on ${subset.count} images: train accuracy ${formatPercent(gaps[label]!.train, 2)}, validation ${formatPercent(gaps[label]!.validation, 2)}, gap ${formatPercent(gaps[label]!.gap, 2)}`,
    ),
  ];
  const verdictText = [
    noiseHolds
      ? `the noise BN adds shrinks like m^${slope.toFixed(2)} (1/√m expected)`
      : `the noise does not follow 1/√m here (slope ${slope.toFixed(2)}${decreasing ? '' : ', not decreasing'})`,
    gapHolds
      ? `; the train-validation gap is smaller with BN (${formatPercent(gapWith, 2)} vs ${formatPercent(gapWithout, 2)}, more than the ±${formatPercent(gapNoise, 2)} noise of the measurement).`
      : `; the train-validation gap with BN (${formatPercent(gapWith, 2)}) is not smaller than without (${formatPercent(gapWithout, 2)}) by more than the ±${formatPercent(gapNoise, 2)} noise of the measurement, so the regularising effect is not shown at this budget.`,
  ].join('');
  const reference = noise.find((n) => n.batchSize === 60) ?? noise[0]!;
  return {
    name: regularizationClaim.name,
    title: regularizationClaim.title,
    articleSays: regularizationClaim.articleSays,
    method:
      `Gap: networks 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) without and with BN from the same weights, ${budget.steps} SGD steps of ${budget.batchSize} ` +
      `at learning rate ${budget.learningRate} on the first ${subset.count} training images only (about ${Math.round((budget.steps * budget.batchSize) / subset.count)} epochs, so that overfitting shows); ` +
      `accuracy on those images vs the first ${validation.count} validation images; the gaps must differ by more than two standard errors of the paired difference of validation accuracies on these images (±${formatPercent(gapNoise, 2)}; seed-to-seed variation is not included). ` +
      `Noise: validation image 0 is placed in ${budget.noiseSamples} random mini-batches of training images for each batch size m; the spread is the std of its first-layer BN output ` +
      `(the trained BN network, normalizing each mini-batch with its own statistics) across mini-batches, averaged over units 1-${budget.noiseUnits}.` +
      `${context.quick ? ' Quick budget: a smaller subset, fewer steps and fewer mini-batches than the full run.' : ''}`,
    numbers: {
      ...Object.fromEntries(noise.map((n) => [`spread@m${n.batchSize}`, n.spread])),
      spreadSlope: slope,
      trainAccuracyWithoutBn: gaps[withoutBnName]!.train,
      validationAccuracyWithoutBn: gaps[withoutBnName]!.validation,
      gapWithoutBn: gapWithout,
      trainAccuracyWithBn: gaps[withBnName]!.train,
      validationAccuracyWithBn: gaps[withBnName]!.validation,
      gapWithBn: gapWith,
      gapNoise,
    },
    tables: [
      {
        title: "Spread of one example's first-layer BN output across mini-batches",
        columns: ['batch size m', 'spread (std)', 'spread × √m'],
        rows: noise.map((n) => [n.batchSize, formatNumber(n.spread, 4), formatNumber(n.spread * Math.sqrt(n.batchSize), 3)]),
      },
      {
        title: `Train-validation gap (trained on ${subset.count} images)`,
        columns: ['network', 'train accuracy', 'validation accuracy', 'gap'],
        rows: [withoutBnName, withBnName].map((label) => [
          label,
          formatPercent(gaps[label]!.train, 2),
          formatPercent(gaps[label]!.validation, 2),
          formatPercent(gaps[label]!.gap, 2),
        ]),
      },
    ],
    verdict: { holds, text: `${holds ? 'holds: ' : 'partly shown: '}${verdictText}` },
    figures: [
      {
        name: 'noise',
        caption:
          "Std of one fixed example's BN output across random mini-batches it is placed in, against the batch size (log-log), with the 1/√m line through the m = 60 point.",
        spec: lineChartSpec({
          title: 'The noise BN adds shrinks with the batch size',
          xTitle: 'batch size m (log scale)',
          yTitle: 'spread of the BN output (log scale)',
          xScale: 'log',
          yScale: 'log',
          series: [
            { name: 'measured', points: noise.map((n) => ({ x: n.batchSize, y: n.spread })) },
            { name: '1/√m', points: noise.map((n) => ({ x: n.batchSize, y: reference.spread * Math.sqrt(reference.batchSize / n.batchSize) })) },
          ],
        }),
      },
      {
        name: 'gap',
        caption: `Accuracy on the ${subset.count} training images trained on and on ${validation.count} validation images, without and with BN.`,
        spec: barChartSpec({
          title: 'Train vs validation accuracy',
          xTitle: '',
          yTitle: 'accuracy',
          yDomain: [0, 1],
          bars: [withoutBnName, withBnName].flatMap((label) => [
            { category: 'training subset', group: label, value: gaps[label]!.train },
            { category: 'validation', group: label, value: gaps[label]!.validation },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}

/**
 * Std across `noiseSamples` mini-batches of size m of validation image 0's first-layer BN output,
 * averaged over the first `noiseUnits` units. Row 0 of each batch is the example, the other m − 1
 * rows are random training images; the layer normalizes with the batch's own statistics and
 * updates no population estimate.
 */
function bnOutputSpread(net: MLP, train: Split, validation: Split, batchSize: number, budget: RegularizationBudget, seed: number): number {
  const { kernels } = net;
  const dense = net.dense[0]!,
    norm = net.norms[0]!;
  const width = train.width,
    units = Math.min(budget.noiseUnits, dense.outputs);
  const x = net.inputFor(batchSize); // [m, 784]
  const pixels = kernels.byteBuffer(batchSize * width); // [m, 784] bytes: the example, then m − 1 training images
  const otherLabels = new Uint8Array(batchSize - 1);
  const batcher = new Batcher(train, batchSize - 1, { shuffle: true, seed: deriveSeed(seed + batchSize, 'experiment') });
  const sums = new Float64Array(units),
    squares = new Float64Array(units);
  const probe: ForwardPass = { mode: 'infer', statistics: BATCH_STATISTICS };
  for (let sample = 0; sample < budget.noiseSamples; sample++) {
    pixels.data.set(validation.pixels.subarray(0, width), 0);
    batcher.next(pixels.data.subarray(width), otherLabels);
    kernels.bytesToFloats(pixels.data, PIXEL_SCALE, x);
    const output = norm.forward(dense.forward(x), probe); // [m, h]
    for (let j = 0; j < units; j++) {
      const value = output.data[j]!; // row 0, unit j
      sums[j] += value;
      squares[j] += value * value;
    }
  }
  let spread = 0;
  const n = budget.noiseSamples;
  for (let j = 0; j < units; j++) spread += Math.sqrt(Math.max(0, (squares[j]! - (sums[j]! * sums[j]!) / n) / (n - 1)));
  return spread / units;
}

/**
 * The standard error of the difference of two classifiers' accuracies on the same images
 * (paired, as in McNemar's test): only the images where exactly one of them is right vary it.
 */
export function pairedAccuracyDifferenceStdError(first: Uint8Array, second: Uint8Array, labels: Uint8Array): number {
  const n = labels.length;
  let onlyFirst = 0,
    onlySecond = 0;
  for (let i = 0; i < n; i++) {
    const a = first[i] === labels[i],
      b = second[i] === labels[i];
    if (a && !b) onlyFirst++;
    else if (b && !a) onlySecond++;
  }
  const variance = (onlyFirst + onlySecond - (onlyFirst - onlySecond) ** 2 / n) / (n * n);
  return Math.sqrt(Math.max(0, variance));
}
