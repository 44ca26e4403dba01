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
  if (spec.batchNorm) fixedFloats += BATCH_NORM_FLOATS_PER_FEATURE * hiddenUnits;
  // Per example: the input; per hidden unit x·W, f(·) and ∂L/∂input of the next layer, with BN also
  // its output, x̂ and ∂L/∂input; the logits and their gradient.
  const rowFloats = spec.inputSize + (spec.batchNorm ? 6 : 3) * hiddenUnits + 2 * spec.outputSize;
  // The kernels' working memory per example: the input as bytes twice (a batch drawn, a split's
  // rows staged; staging regions double), xᵀ of the sparse first layer's weight gradient (at most
  // twice, as its scratch grows), and the loss's label and terms.
  const kernelRowBytes = 2 * spec.inputSize + 2 * FLOAT_BYTES * spec.inputSize + 24;
  return { fixedBytes: fixedFloats * FLOAT_BYTES + KERNEL_FIXED_BYTES, bytesPerRow: rowFloats * FLOAT_BYTES + kernelRowBytes };
}
