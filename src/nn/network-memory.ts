/**
 * @file How much of a backend's memory a network needs, from its spec and the largest batch it
 * runs: what the network reserves before it allocates (so that running it never grows wasm
 * memory, which would detach every array a caller holds), and what a config is checked against
 * before anything is allocated. An upper bound, in bytes, per part.
 */
import { layerShapes, type NetworkSpec } from './spec.js';

const FLOAT_BYTES = 4;
/** What the wasm kernels keep besides (staging regions, packed sparse rows, short transposes): an allowance. */
const KERNEL_FIXED_BYTES = 1024 * 1024;
/** BatchNorm per feature, float32: γ, β, their gradients, the moving averages, the folded scale and shift, two batches' mean, variance and 1/σ. */
const BATCH_NORM_FLOATS_PER_FEATURE = 14;
/** Layer, Group and RMS Norm per feature: γ, β and their gradients (no running state). */
const EXAMPLE_NORM_FLOATS_PER_FEATURE = 4;
/** Weight Norm per unit: g and its gradient, ‖v‖, g/‖v‖, the moving and batch means, the shift, ∇g of a step and v's coefficient. */
const WEIGHT_NORM_FLOATS_PER_FEATURE = 9;
/** Batch Renormalization adds r, d, their folded scale and shift, and two backward sums. */
const RENORM_EXTRA_FLOATS_PER_FEATURE = 6;

export interface NetworkMemory {
  /** Parameters, their gradients and the layers' state: independent of the batch size. */
  fixedBytes: number;
  /** Activations and gradients of one example, and the kernels' working memory for it. */
  bytesPerRow: number;
}

export function networkMemory(spec: NetworkSpec): NetworkMemory {
  let fixedFloats = 0;
  for (const [inputs, outputs] of layerShapes(spec)) fixedFloats += 2 * (inputs * outputs + outputs); // W and b, with gradients
  let hiddenUnits = 0;
  for (const width of spec.hiddenSizes) hiddenUnits += width;
  if (spec.batchNorm || spec.renorm || spec.ghost) fixedFloats += BATCH_NORM_FLOATS_PER_FEATURE * hiddenUnits;
  if (spec.renorm) fixedFloats += RENORM_EXTRA_FLOATS_PER_FEATURE * hiddenUnits;
  // Ghost BN: μ, σ² and 1/σ per virtual batch (one more row of each for a batch it does not divide).
  if (spec.ghost) fixedFloats += 3 * hiddenUnits;
  if (spec.exampleNorm) fixedFloats += EXAMPLE_NORM_FLOATS_PER_FEATURE * hiddenUnits;
  if (spec.weightNorm) fixedFloats += WEIGHT_NORM_FLOATS_PER_FEATURE * hiddenUnits;
  // Per example: the input; per hidden unit x·W, f(·) and ∂L/∂input of the next layer, with a norm
  // also its output, x̂ and ∂L/∂input (and Group Norm's 1/σ per group); the logits and their gradient.
  const normGroups = spec.exampleNorm ? spec.exampleNorm.groups * spec.hiddenSizes.length : 0;
  const ghostStatistics = spec.ghost ? (3 * hiddenUnits) / spec.ghost.virtualBatch : 0;
  const rowFloats = spec.inputSize + (spec.norm === 'none' ? 3 : 6) * hiddenUnits + normGroups + ghostStatistics + 2 * spec.outputSize;
  // The kernels' working memory per example: the input as bytes twice (a batch drawn, a split's
  // rows staged; staging regions double), the sparse first layer's scratch in xᵀ·dY (its nonzeros
  // by column, or xᵀ: at most twice, as scratch grows), the input as its nonzeros (a column and a
  // value each, at most every input, and a row start: `sparseInputFor`, or the first layer's own
  // packing of float rows; a network trained both ways grows memory once), and the loss's label and terms.
  const kernelRowBytes = 2 * spec.inputSize + 2 * FLOAT_BYTES * spec.inputSize + 2 * FLOAT_BYTES * spec.inputSize + 4 + 24;
  return { fixedBytes: fixedFloats * FLOAT_BYTES + KERNEL_FIXED_BYTES, bytesPerRow: rowFloats * FLOAT_BYTES + kernelRowBytes };
}
