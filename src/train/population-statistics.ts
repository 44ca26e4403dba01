/**
 * @file The paper's Algorithm 2 (steps 8-11) for the `average` estimator: with the trained weights
 * frozen, run training-mode forwards over N mini-batches so that every BatchNorm's sums hold
 * E[μ_B] and E[σ²_B] of the network as it is now, not of the early, still-changing network.
 */

import { BatchFeeder } from '../data/batch-feeder.js';
import type { Split } from '../data/mnist.js';
import type { MLP } from '../nn/mlp.js';
import { deriveSeed } from './seeds.js';

/**
 * Recomputes the `average` sums over `batches` batches of `batchSize` drawn (shuffled, from
 * `seed`) from `split`. The moving averages take these batches in too, so they are put back:
 * only the `average` estimate changes. The batches are gathered from the split's bytes in the
 * backend's memory, placed there once per backend (data/resident-pixels.ts): calling it often
 * allocates nothing more.
 */
export function recomputeAverageStatistics(net: MLP, split: Split, batchSize: number, batches: number, seed: number): void {
  const saved = net.norms.map((norm) => norm && { mean: norm.movingMean.data.slice(), variance: norm.movingVariance.data.slice() });
  for (const norm of net.norms) norm?.resetAverage();
  const feeder = new BatchFeeder(net.kernels, split, batchSize, { shuffle: true, seed: deriveSeed(seed, 'experiment') });
  const x = net.inputFor(batchSize); // [batchSize, inputs]
  const labels = new Uint8Array(batchSize);
  for (let b = 0; b < batches; b++) {
    feeder.next(x, labels);
    net.forward(x, 'train');
  }
  net.norms.forEach((norm, l) => {
    if (!norm) return;
    norm.movingMean.data.set(saved[l]!.mean);
    norm.movingVariance.data.set(saved[l]!.variance);
  });
}
