/**
 * @file The inside of a network's hidden layers, measured the way `bnlab explain` measures it: a
 * fixed probe of validation images goes through the network with every BN layer normalizing by
 * the probe's own statistics (claims' `probeHiddenLayers`, so no estimate is touched), then per
 * layer the watched unit's 15/50/85th percentiles (covariate-shift, the BN paper's Figure 1b-c),
 * the saturated or dead fraction (saturation), and a histogram of the activation's input. Any
 * norm: these read the activation's input. BN and its successors (Batch Renorm, Ghost BN) also
 * show their γ, β and statistics.
 */
import type { ActivationKind } from '../../core/kernels.js';
import type { Matrix } from '../../core/matrix.js';
import type { Split } from '../../data/mnist.js';
import { BatchNorm } from '../../nn/batch-norm.js';
import { GhostBatchNorm } from '../../nn/ghost-batch-norm.js';
import type { MLP } from '../../nn/mlp.js';
import { PERCENTILES } from '../claims/covariate-shift.js';
import { percentileOfSorted, probeHiddenLayers, sortedColumn } from '../claims/experiment-kit.js';
import { SATURATED_DERIVATIVE, SATURATION_THRESHOLD } from '../claims/saturation.js';
import type { BatchNormView, Histogram, LayerView, ProbeSample } from './session-messages.js';

const HISTOGRAM_BINS = 40;

/** tanh'(z) = 1 − tanh²(z) < 0.01 exactly when |z| > atanh(√0.99) ≈ 2.99. */
const TANH_SATURATION_THRESHOLD = Math.atanh(Math.sqrt(1 - SATURATED_DERIVATIVE));

/** One probe of `net` at `step`: the sample for the curves over training, and each layer's view now. */
export function probeLayers(net: MLP, probe: Split, step: number, watchedUnit: number): { sample: ProbeSample; layers: LayerView[] } {
  // Read before the probe's forward: the latest training batch's statistics.
  const batchNorm = net.normLayers.map((norm) => (norm instanceof BatchNorm ? batchNormView(norm) : null));
  const hidden = probeHiddenLayers(net, probe);
  // Ghost BN's training batch is normalized in virtual batches: its statistics are set against the probe's instead.
  net.normLayers.forEach((norm, l) => {
    if (norm instanceof GhostBatchNorm) Object.assign(batchNorm[l]!, columnStatistics(hidden[l]!.linear), { batchSource: 'probe' });
  });
  const sample: ProbeSample = { step, percentiles: [], saturation: [] };
  const layers: LayerView[] = hidden.map((buffers, l) => {
    const inputs = buffers.preActivation; // [probe, width]: the activation's input
    const unit = Math.min(watchedUnit, inputs.cols - 1);
    const sorted = sortedColumn(inputs, unit);
    sample.percentiles.push(PERCENTILES.map((p) => percentileOfSorted(sorted, p)) as [number, number, number]);
    sample.saturation.push(saturatedFraction(inputs, net.spec.activation));
    return { histogram: histogramOf(inputs.data, HISTOGRAM_BINS), batchNorm: batchNorm[l]! };
  });
  return { sample, layers };
}

/**
 * sigmoid and tanh: the fraction of (image, unit) pairs whose derivative is below 0.01 (the
 * saturation claim's measure); relu: the fraction of units that are zero on every probe image
 * (dead: no gradient reaches their weights); identity never saturates.
 */
function saturatedFraction(inputs: Matrix, activation: ActivationKind): number {
  const { rows, cols, data } = inputs;
  switch (activation) {
    case 'sigmoid':
    case 'tanh': {
      const threshold = activation === 'sigmoid' ? SATURATION_THRESHOLD : TANH_SATURATION_THRESHOLD;
      let saturated = 0;
      for (let i = 0; i < data.length; i++) if (Math.abs(data[i]!) > threshold) saturated++;
      return data.length ? saturated / data.length : NaN;
    }
    case 'relu': {
      let dead = 0;
      for (let j = 0; j < cols; j++) {
        let alive = false;
        for (let i = 0; i < rows && !alive; i++) alive = data[i * cols + j]! > 0;
        if (!alive) dead++;
      }
      return cols ? dead / cols : NaN;
    }
    case 'identity':
      return 0;
    default:
      return activation satisfies never;
  }
}

/** `bins` equal bins from the smallest to the largest finite value; non-finite values are left out. */
function histogramOf(values: ArrayLike<number>, bins: number): Histogram {
  let low = Infinity,
    high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  const counts = new Array<number>(bins).fill(0);
  if (low > high) return { start: 0, binWidth: 0, counts };
  const binWidth = high > low ? (high - low) / bins : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.floor((v - low) / binWidth))]!++;
  }
  return { start: low, binWidth, counts };
}

/** Each column's mean and biased variance (as BN computes a batch's), as plain numbers. */
function columnStatistics(matrix: Matrix): { batchMean: number[]; batchVariance: number[] } {
  const { rows, cols, data } = matrix;
  const mean = new Array<number>(cols).fill(0),
    variance = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j]! += data[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j]! /= rows || 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const centred = data[i * cols + j]! - mean[j]!;
      variance[j]! += centred * centred;
    }
  }
  for (let j = 0; j < cols; j++) variance[j]! /= rows || 1;
  return { batchMean: mean, batchVariance: variance };
}

/** The γ, β, population estimates and the statistics of the latest training batch of a layer of BN or a successor of it. */
function batchNormView(norm: BatchNorm): BatchNormView {
  const width = norm.features;
  return {
    gamma: Array.from(norm.gamma?.data ?? new Float32Array(width).fill(1)),
    beta: Array.from(norm.beta?.data ?? new Float32Array(width)),
    movingMean: Array.from(norm.movingMean.data),
    movingVariance: Array.from(norm.movingVariance.data),
    batchMean: Array.from(norm.trainingBatch.mean.data),
    batchVariance: Array.from(norm.trainingBatch.variance.data),
    batchSource: 'training batch',
  };
}
