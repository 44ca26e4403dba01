/**
 * @file The small tools every claim's experiment shares: networks without and with BN from the
 * same initial weights, training with checkpoints on train/'s one loop, predictions and
 * accuracies on a slice of a split, percentiles, and number formatting. Pure (no Node APIs): runs in a browser too.
 */
import type { ActivationKind, Kernels } from '../../core/kernels.js';
import type { Matrix } from '../../core/matrix.js';
import { Rng } from '../../core/rng.js';
import { type MnistData, type Split, splitExamples } from '../../data/mnist.js';
import { drawInitialWeights, type HiddenBuffers, MLP } from '../../nn/mlp.js';
import { argmaxRow } from '../../nn/softmax-cross-entropy.js';
import { type BatchNormOptions, type InferenceStatistics, makeSpec, type NetworkSpec } from '../../nn/spec.js';
import { resolveTrainConfig } from '../../train/config.js';
import { deriveSeed } from '../../train/seeds.js';
import { runToEnd, type TrainHooks, TrainingRun } from '../../train/trainer.js';

export interface NetworkChoice {
  hiddenSizes: number[];
  activation: ActivationKind;
  initStd: number;
}

/** The spec of the article's network (784-…-10) with or without BN after every hidden linear layer. */
export function specFor(choice: NetworkChoice, batchNorm: boolean | Partial<BatchNormOptions>, hiddenBias?: boolean): NetworkSpec {
  return makeSpec({ hiddenSizes: choice.hiddenSizes, activation: choice.activation, batchNorm, ...(hiddenBias === undefined ? {} : { hiddenBias }) });
}

/** N(0, initStd²) weights for every linear layer, drawn from the seed's `weights` stream. */
export function initialWeightsFor(choice: NetworkChoice, seed: number): Matrix[] {
  return drawInitialWeights(specFor(choice, false), choice.initStd, new Rng(deriveSeed(seed, 'weights')));
}

/** The article's pair: the network without BN and the one with BN, from the same initial weight matrices. */
export function networkPair(kernels: Kernels, choice: NetworkChoice, seed: number, bnOptions: Partial<BatchNormOptions> = {}): { withoutBn: MLP; withBn: MLP } {
  const weights = initialWeightsFor(choice, seed);
  return {
    withoutBn: new MLP(kernels, specFor(choice, false), weights),
    withBn: new MLP(kernels, specFor(choice, bnOptions), weights),
  };
}

export interface ClaimTraining {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Seeds the batch order; two networks trained with the same seed see the same batches. */
  seed: number;
  /** Call `onCheckpoint` before the first step and after every this many steps (and after the last). */
  checkpointEvery?: number;
  onCheckpoint?(step: number): void;
}

/**
 * Plain SGD on shuffled mini-batches of `data.train` (TensorFlow's next_batch order) with the
 * one training loop (train/trainer.ts's TrainingRun), without its validations and test
 * evaluation: a claim measures the network itself, at its checkpoints. To train on part of the
 * training split, pass `{ ...data, train: headOf(data.train, n) }`. Returns the run: `step`,
 * `divergedAtStep`, `trainingMs`.
 */
export async function trainForClaim(net: MLP, data: MnistData, training: ClaimTraining): Promise<TrainingRun> {
  const { steps, batchSize, learningRate, seed, checkpointEvery, onCheckpoint } = training;
  const config = resolveTrainConfig({ steps, batchSize, learningRate, seed, shuffle: true, stopOnDivergence: false });
  const hooks: TrainHooks = {};
  if (onCheckpoint && checkpointEvery)
    hooks.onStep = (step) => {
      if (step % checkpointEvery === 0 || step === steps) onCheckpoint(step);
    };
  const run = new TrainingRun(net, data, config, hooks, { validate: false });
  onCheckpoint?.(0);
  await runToEnd(run);
  return run;
}

/** The first `count` examples of a split, as a split (views, no copy). */
export function headOf(split: Split, count: number): Split {
  const n = Math.min(count, split.count);
  return { pixels: split.pixels.subarray(0, n * split.width), labels: split.labels.subarray(0, n), count: n, width: split.width };
}

/**
 * The predicted class of every example of `split`, in inference mode, `batchSize` rows at a time,
 * with the network's inference statistics or, for this call only, `statistics`.
 */
export function predictClasses(net: MLP, split: Split, batchSize: number, statistics?: InferenceStatistics): Uint8Array {
  const predictions = new Uint8Array(split.count);
  const examples = splitExamples(split);
  for (let start = 0; start < split.count; start += batchSize) {
    const rows = Math.min(batchSize, split.count - start);
    const x = net.inputFor(rows); // [rows, 784]
    examples.copyRows(start, rows, x, net.kernels);
    const logits = net.forward(x, 'infer', statistics); // [rows, 10]
    for (let i = 0; i < rows; i++) predictions[start + i] = argmaxRow(logits, i);
  }
  return predictions;
}

export function accuracyOf(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return predictions.length ? correct / predictions.length : NaN;
}

/** Accuracy of `net` on `split` in inference mode. */
export function accuracyOn(net: MLP, split: Split, batchSize = 500): number {
  return accuracyOf(predictClasses(net, split, batchSize), split.labels);
}

/** The p-th percentile (0..100) of ascending `sorted` values, linearly interpolated (numpy's default). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const position = (p / 100) * (sorted.length - 1);
  const low = Math.floor(position),
    high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** A number with a fixed number of decimals, or in exponent notation when tiny or huge (NaN stays "NaN"). */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(2);
  return value.toFixed(digits);
}

export function formatPercent(fraction: number, digits = 1): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : String(fraction);
}

/** Least-squares slope of log(y) against log(x): the exponent of a power law y ∝ x^slope. */
export function logLogSlope(xs: readonly number[], ys: readonly number[]): number {
  const lx = xs.map(Math.log),
    ly = ys.map(Math.log);
  const n = lx.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n,
    my = ly.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my);
    den += (lx[i]! - mx) ** 2;
  }
  return num / den;
}

/** Milliseconds since `started` (a performance.now() reading). */
export function elapsedSince(started: number): number {
  return performance.now() - started;
}

/** A probe's own statistics: every BN layer normalizes the batch by itself, and no estimate is touched. */
export const BATCH_STATISTICS: InferenceStatistics = Object.freeze({ estimator: 'batch', unbiased: true });

/**
 * The hidden layers' buffers after an inference-mode forward of `probe` in which every BN layer
 * normalizes with the probe's own statistics (estimator `batch`): with a probe of hundreds of
 * images these are close to population statistics, without the lag of the moving averages, and
 * no estimate of the network is touched.
 */
export function probeHiddenLayers(net: MLP, probe: Split): readonly HiddenBuffers[] {
  const x = net.inputFor(probe.count); // [probe, 784]
  splitExamples(probe).copyRows(0, probe.count, x, net.kernels);
  net.forward(x, 'infer', BATCH_STATISTICS);
  return net.hiddenBuffers(probe.count);
}

/** Column `column` of a [rows, cols] matrix, sorted ascending. */
export function sortedColumn(matrix: Matrix, column: number): Float64Array {
  const values = new Float64Array(matrix.rows);
  for (let i = 0; i < matrix.rows; i++) values[i] = matrix.data[i * matrix.cols + column]!;
  return values.sort();
}
