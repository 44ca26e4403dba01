/**
 * @file The layer interface every part of a network implements (Dense, the normalizations, the
 * activations): forward and backward on [batch, features] matrices, its learnable parameters, its
 * state (what it learns without gradients, e.g. BatchNorm's population statistics) and the
 * tensors a checkpoint holds. A network is a sequence of layers (mlp.ts), built from its spec
 * (build-layers.ts): a new layer is a file implementing this, plus a line in the builder.
 *
 * Buffers: a layer allocates its activations once, for the largest batch its network runs
 * (`allocate`), and runs a smaller batch on their first rows, so a step allocates nothing and
 * memory never grows while the network runs.
 */
import type { Matrix } from '../core/matrix.js';
import type { InferenceStatistics } from './spec.js';

/** A learnable tensor and its gradient buffer, named as in checkpoints. */
export interface Parameter {
  name: string;
  value: Matrix;
  grad: Matrix;
  /**
   * A training step updates it inside its layer's backward (the weight matrices: W −= lr·xᵀ·dY in
   * the gradient kernel), so the optimizer leaves it alone and `grad` is not filled by that step.
   */
  updatedInBackward: boolean;
}

/** How a forward normalizes: with the batch's own statistics (updating the estimates), or with the given population statistics. */
export type ForwardPass = { readonly mode: 'train' } | { readonly mode: 'infer'; readonly statistics: InferenceStatistics };

export const TRAINING_PASS: ForwardPass = Object.freeze({ mode: 'train' });

export type CheckpointDtype = 'F32' | 'F64' | 'I64';

/** One tensor of a checkpoint, named as the README lists them, read from and written into the layer. */
export interface CheckpointTensor {
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  /** The values now (F32/F64 elements; I64 as numbers). Read at once: it may be a view of the layer's memory. */
  read(): Float32Array | Float64Array | number[];
  /** Restores values of `dtype` and `shape`; a RangeError names a value the layer cannot hold. */
  write(values: Float32Array | Float64Array | BigInt64Array): void;
}

export interface Layer {
  readonly inputWidth: number;
  readonly outputWidth: number;
  /**
   * Allocates the buffers for batches of up to `maxRows` rows, once, before the first forward.
   * `needsInputGradient` false: backward computes no ∂L/∂input (the first layer of a network).
   */
  allocate(maxRows: number, needsInputGradient: boolean): void;
  /** The output for x [m, inputWidth]: a buffer of this layer, valid until its next forward. */
  forward(x: Matrix, pass: ForwardPass): Matrix;
  /**
   * From dy = ∂L/∂output of the latest forward (a training-mode one where the layer needs it),
   * returns ∂L/∂input (null without an input gradient) and adds the parameters' gradients; with
   * `learningRate`, a layer may apply SGD to its `updatedInBackward` parameters instead. `dy` may
   * be overwritten (an activation returns it, multiplied in place).
   */
  backward(x: Matrix, dy: Matrix, learningRate?: number): Matrix | null;
  parameters(): readonly Parameter[];
  /** Tensors the layer keeps without gradients (population statistics), as checkpoint tensors. */
  state(): readonly CheckpointTensor[];
  /** Every tensor a checkpoint holds for this layer: its parameters' values, then its state. */
  checkpointTensors(): readonly CheckpointTensor[];
}

/** A float32 matrix of a layer as a checkpoint tensor; its data is read at each use, never kept. */
export function matrixTensor(name: string, matrix: Matrix, shape: number[]): CheckpointTensor {
  return {
    name,
    dtype: 'F32',
    shape,
    read: () => matrix.data,
    write: (values) => matrix.data.set(values as Float32Array),
  };
}
