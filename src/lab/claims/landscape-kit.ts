/**
 * @file Tools for the claims that probe a network between training steps without changing it:
 * copies of every parameter, BN's running estimates saved and put back (a probe's training-mode
 * forwards would otherwise move them), gradients as one flat vector, and a probe batch of the
 * training split. Pure (no Node APIs).
 */
import { type Split, splitExamples } from '../../data/mnist.js';
import type { MLP } from '../../nn/mlp.js';

/** Every learnable parameter's values, in `net.parameters()` order. */
export function copyParameters(net: MLP): Float32Array[] {
  return net.parameters().map(({ value }) => value.data.slice() as Float32Array);
}

export function restoreParameters(net: MLP, saved: readonly Float32Array[]): void {
  net.parameters().forEach(({ value }, i) => {
    value.data.set(saved[i]!);
  });
}

/** Runs `probe` and puts every BatchNorm's moving averages and `average` sums back as they were. */
export function withStatisticsKept<T>(net: MLP, probe: () => T): T {
  const saved = net.norms.map(
    (norm) =>
      norm && {
        mean: norm.movingMean.data.slice(),
        variance: norm.movingVariance.data.slice(),
        sums: [norm.batchMeanSum.slice(), norm.batchVarianceSum.slice(), norm.unbiasedVarianceSum.slice()],
        count: norm.averagedBatches,
      },
  );
  try {
    return probe();
  } finally {
    net.norms.forEach((norm, l) => {
      const kept = saved[l];
      if (!norm || !kept) return;
      norm.movingMean.data.set(kept.mean);
      norm.movingVariance.data.set(kept.variance);
      norm.batchMeanSum.set(kept.sums[0]!);
      norm.batchVarianceSum.set(kept.sums[1]!);
      norm.unbiasedVarianceSum.set(kept.sums[2]!);
      norm.averagedBatches = kept.count;
    });
  }
}

/** A batch of `rows` consecutive examples of `split` from `start`: its input in the network's buffer, and its labels. */
export function loadBatch(net: MLP, split: Split, start: number, rows: number): { x: ReturnType<MLP['inputFor']>; labels: number[] } {
  const x = net.inputFor(rows);
  splitExamples(split).copyRows(start, rows, x, net.kernels);
  return { x, labels: Array.from(split.labels.subarray(start, start + rows)) };
}

/** The training-mode loss and every parameter's gradient on (x, labels), as one flat float64 vector. */
export function lossAndGradient(net: MLP, x: ReturnType<MLP['inputFor']>, labels: number[]): { loss: number; gradient: Float64Array } {
  const { loss } = net.computeGradients(x, labels);
  return { loss, gradient: flatGradient(net) };
}

export function flatGradient(net: MLP, parameterNames?: ReadonlySet<string>): Float64Array {
  const parameters = net.parameters().filter(({ name }) => !parameterNames || parameterNames.has(name));
  const size = parameters.reduce((sum, { grad }) => sum + grad.data.length, 0);
  const out = new Float64Array(size);
  let offset = 0;
  for (const { grad } of parameters) {
    out.set(grad.data, offset);
    offset += grad.data.length;
  }
  return out;
}

/** Sets every parameter to saved − step·direction (direction flat, in `net.parameters()` order). */
export function moveAlong(net: MLP, saved: readonly Float32Array[], direction: Float64Array, step: number): void {
  let offset = 0;
  net.parameters().forEach(({ value }, i) => {
    const base = saved[i]!,
      data = value.data;
    for (let k = 0; k < data.length; k++) data[k] = base[k]! - step * direction[offset + k]!;
    offset += data.length;
  });
}

function norm2(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}

export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot / (norm2(a) * norm2(b));
}
