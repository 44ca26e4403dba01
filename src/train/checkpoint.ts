/**
 * @file A network as a safetensors checkpoint and back: every tensor an MLP needs to resume or
 * to infer (weights, biases, BatchNorm's gamma/beta and all its population statistics), with the
 * spec as JSON in the metadata. Pure: bytes in, bytes out; file access lives in node/.
 *
 * Tensor names (weights are [in, out] as in the article's TensorFlow; PyTorch's Linear is [out, in]):
 *   dense.{i}.weight [in, out] F32, dense.{i}.bias [out] F32 where the layer has one,
 *   bn.{i}.gamma / bn.{i}.beta [features] F32 where learned,
 *   bn.{i}.moving_mean / bn.{i}.moving_variance [features] F32,
 *   bn.{i}.batch_mean_sum / bn.{i}.batch_variance_sum / bn.{i}.unbiased_variance_sum [features] F64,
 *   bn.{i}.averaged_batches [] I64.
 */
import type { Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { MLP } from '../nn/mlp.js';
import { ACTIVATIONS, ESTIMATORS, layerShapes, validateSpec, type BatchNormOptions, type NetworkSpec } from '../nn/spec.js';
import {
  decodeSafetensors, encodeSafetensors, SafetensorsError, tensorValues,
  type DecodedTensor, type NumericDtype, type TensorInput,
} from './safetensors.js';

/** The layout version this code writes and the only one it reads. */
export const CHECKPOINT_FORMAT = '1';
export const METADATA_FORMAT = 'bnlab.format';
export const METADATA_SPEC = 'bnlab.spec';
export const METADATA_VERSION = 'bnlab.version';
const RESERVED_PREFIX = 'bnlab.';

/** A checkpoint a user handed us that cannot be restored; the message names the file and what to do. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The layer sizes a caller needs (e.g. `--init-from` with the flags' --hidden); a NetworkSpec fits. */
export interface ExpectedLayout {
  inputSize: number;
  hiddenSizes: readonly number[];
  outputSize: number;
}

interface TensorSlot {
  dtype: NumericDtype;
  shape: number[];
}

/** Every tensor a network of `spec` has in a checkpoint, with its dtype and shape, in layer order. */
export function checkpointTensorLayout(spec: NetworkSpec): Map<string, TensorSlot> {
  const slots = new Map<string, TensorSlot>();
  const shapes = layerShapes(spec);
  shapes.forEach(([inputs, outputs], i) => {
    slots.set(`dense.${i}.weight`, { dtype: 'F32', shape: [inputs, outputs] });
    const isOutput = i === shapes.length - 1;
    if (isOutput || spec.hiddenBias) slots.set(`dense.${i}.bias`, { dtype: 'F32', shape: [outputs] });
  });
  const bn = spec.batchNorm;
  if (bn) {
    spec.hiddenSizes.forEach((features, i) => {
      if (bn.scale) slots.set(`bn.${i}.gamma`, { dtype: 'F32', shape: [features] });
      if (bn.center) slots.set(`bn.${i}.beta`, { dtype: 'F32', shape: [features] });
      slots.set(`bn.${i}.moving_mean`, { dtype: 'F32', shape: [features] });
      slots.set(`bn.${i}.moving_variance`, { dtype: 'F32', shape: [features] });
      slots.set(`bn.${i}.batch_mean_sum`, { dtype: 'F64', shape: [features] });
      slots.set(`bn.${i}.batch_variance_sum`, { dtype: 'F64', shape: [features] });
      slots.set(`bn.${i}.unbiased_variance_sum`, { dtype: 'F64', shape: [features] });
      slots.set(`bn.${i}.averaged_batches`, { dtype: 'I64', shape: [] });
    });
  }
  return slots;
}

/**
 * The safetensors bytes of `net`. `extra` is free-form metadata (training steps, seed, flags);
 * keys starting with "bnlab." are reserved. Float32 tensors are stored as F32, so a network on a
 * float64 backend is rounded to float32 on the way out.
 */
export function encodeCheckpoint(net: MLP, extra?: Record<string, string>, version?: string): Uint8Array {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (key.startsWith(RESERVED_PREFIX)) throw new RangeError(`checkpoint metadata key "${key}" is reserved for bnlab itself; choose a key without the "${RESERVED_PREFIX}" prefix`);
    if (typeof value !== 'string') throw new RangeError(`checkpoint metadata "${key}" must be a string, got ${typeof value}`);
    metadata[key] = value;
  }
  metadata[METADATA_FORMAT] = CHECKPOINT_FORMAT;
  metadata[METADATA_SPEC] = JSON.stringify(net.spec);
  if (version !== undefined) metadata[METADATA_VERSION] = version;

  const tensors = new Map<string, TensorInput>();
  const put = (name: string, dtype: NumericDtype, shape: number[], values: TensorInput['values']): void => {
    tensors.set(name, { dtype, shape, values });
  };
  net.dense.forEach((layer, i) => {
    put(`dense.${i}.weight`, 'F32', [layer.inputs, layer.outputs], layer.weights.data);
    if (layer.bias) put(`dense.${i}.bias`, 'F32', [layer.outputs], layer.bias.data);
  });
  net.norms.forEach((norm, i) => {
    if (!norm) return;
    const features = [norm.features];
    if (norm.gamma) put(`bn.${i}.gamma`, 'F32', features, norm.gamma.data);
    if (norm.beta) put(`bn.${i}.beta`, 'F32', features, norm.beta.data);
    put(`bn.${i}.moving_mean`, 'F32', features, norm.movingMean.data);
    put(`bn.${i}.moving_variance`, 'F32', features, norm.movingVariance.data);
    put(`bn.${i}.batch_mean_sum`, 'F64', features, norm.batchMeanSum);
    put(`bn.${i}.batch_variance_sum`, 'F64', features, norm.batchVarianceSum);
    put(`bn.${i}.unbiased_variance_sum`, 'F64', features, norm.unbiasedVarianceSum);
    put(`bn.${i}.averaged_batches`, 'I64', [], [norm.averagedBatches]);
  });
  return encodeSafetensors(tensors, metadata);
}

/**
 * Restores the network in a checkpoint onto `kernels`. `source` names the file in error
 * messages; `expected`, when given, refuses a checkpoint whose layer sizes differ.
 * Returns the network and every metadata entry (including bnlab.spec, bnlab.format, bnlab.version).
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  kernels: Kernels,
  source = 'checkpoint',
  expected?: ExpectedLayout,
): { net: MLP; metadata: Record<string, string> } {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    throw new CheckpointError(`${source} is not a readable safetensors file: ${error.message}. Check the path, or save the network again with bnlab train --save.`);
  }
  const { tensors, metadata } = file;
  const spec = specFromMetadata(metadata, source);
  if (expected) assertCheckpointLayout(spec, expected, source);

  const layout = checkpointTensorLayout(spec);
  for (const name of tensors.keys()) {
    if (!layout.has(name)) {
      throw new CheckpointError(`${source} holds a tensor "${name}" that a ${describeNetwork(spec)} network does not have; the file does not match its own spec, so save the network again.`);
    }
  }
  const read = new Map<string, DecodedTensor>();
  for (const [name, slot] of layout) {
    const tensor = tensors.get(name);
    if (!tensor) {
      throw new CheckpointError(`${source} lacks tensor "${name}", which a ${describeNetwork(spec)} network needs; the file is incomplete, so save the network again.`);
    }
    if (tensor.dtype !== slot.dtype || !sameShape(tensor.shape, slot.shape, name)) {
      throw new CheckpointError(
        `${source} holds "${name}" as ${tensor.dtype} [${tensor.shape.join(', ')}], but a ${describeNetwork(spec)} network needs ${slot.dtype} [${slot.shape.join(', ')}]; the file does not match its own spec, so save the network again.`,
      );
    }
    read.set(name, tensor);
  }
  const f32 = (name: string): Float32Array => tensorValues(read.get(name)!, 'F32');
  const f64 = (name: string): Float64Array => tensorValues(read.get(name)!, 'F64');

  const weights = layerShapes(spec).map(([inputs, outputs], i) => new Matrix(inputs, outputs, f32(`dense.${i}.weight`)));
  const net = new MLP(kernels, spec, weights);
  net.dense.forEach((layer, i) => {
    if (layer.bias) layer.bias.data.set(f32(`dense.${i}.bias`));
  });
  net.norms.forEach((norm, i) => {
    if (!norm) return;
    if (norm.gamma) norm.gamma.data.set(f32(`bn.${i}.gamma`));
    if (norm.beta) norm.beta.data.set(f32(`bn.${i}.beta`));
    norm.movingMean.data.set(f32(`bn.${i}.moving_mean`));
    norm.movingVariance.data.set(f32(`bn.${i}.moving_variance`));
    norm.batchMeanSum.set(f64(`bn.${i}.batch_mean_sum`));
    norm.batchVarianceSum.set(f64(`bn.${i}.batch_variance_sum`));
    norm.unbiasedVarianceSum.set(f64(`bn.${i}.unbiased_variance_sum`));
    const averagedBatches = tensorValues(read.get(`bn.${i}.averaged_batches`)!, 'I64')[0]!;
    if (averagedBatches < 0n || averagedBatches > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CheckpointError(`${source} says BatchNorm layer ${i} averaged ${averagedBatches} batches, which is not a count; the file is damaged, so save the network again.`);
    }
    norm.averagedBatches = Number(averagedBatches);
  });
  return { net, metadata: { ...metadata } };
}

/** Refuses (CheckpointError) a checkpoint whose layer sizes are not the expected ones, naming both. */
export function assertCheckpointLayout(spec: ExpectedLayout, expected: ExpectedLayout, source = 'checkpoint'): void {
  const found = describeNetwork(spec);
  const wanted = describeNetwork(expected);
  if (found !== wanted) {
    throw new CheckpointError(
      `${source} holds a ${found} network, but a ${wanted} network is expected; use a checkpoint of that shape, or change the layer sizes to ${found}.`,
    );
  }
}

/** "784-128-10": the layer sizes, input to output. */
export function describeNetwork(layout: ExpectedLayout): string {
  return [layout.inputSize, ...layout.hiddenSizes, layout.outputSize].join('-');
}

function sameShape(found: readonly number[], wanted: readonly number[], name: string): boolean {
  // A scalar count may also be stored as [1], which some writers prefer to a 0-d tensor.
  if (name.endsWith('.averaged_batches') && found.length === 1 && found[0] === 1) return true;
  return found.length === wanted.length && found.every((dim, i) => dim === wanted[i]);
}

function specFromMetadata(metadata: Record<string, string>, source: string): NetworkSpec {
  const format = metadata[METADATA_FORMAT];
  if (format === undefined) {
    throw new CheckpointError(`${source} is a safetensors file but not a bnlab checkpoint (its metadata has no "${METADATA_FORMAT}"); pass a file written by bnlab train --save.`);
  }
  if (format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${source} uses checkpoint format "${format}", but this bnlab reads only format "${CHECKPOINT_FORMAT}"; open it with the bnlab version that wrote it${metadata[METADATA_VERSION] ? ` (${metadata[METADATA_VERSION]})` : ''}.`);
  }
  const text = metadata[METADATA_SPEC];
  if (text === undefined) {
    throw new CheckpointError(`${source} has no network spec (metadata "${METADATA_SPEC}"), so its layers cannot be rebuilt; save the network again with bnlab train --save.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${source} has a network spec (metadata "${METADATA_SPEC}") that is not valid JSON (${(error as Error).message}); save the network again.`);
  }
  const problem = specProblem(parsed);
  if (problem) throw new CheckpointError(`${source} has an unusable network spec (metadata "${METADATA_SPEC}"): ${problem}; save the network again.`);
  const spec = cleanSpec(parsed as NetworkSpec);
  try {
    validateSpec(spec);
  } catch (error) {
    throw new CheckpointError(`${source} has an unusable network spec (metadata "${METADATA_SPEC}"): ${(error as Error).message}; save the network again.`);
  }
  return spec;
}

/** Only the fields a NetworkSpec has, so nothing else in the file's JSON rides along. */
function cleanSpec(parsed: NetworkSpec): NetworkSpec {
  const bn = parsed.batchNorm;
  return {
    inputSize: parsed.inputSize,
    hiddenSizes: [...parsed.hiddenSizes],
    outputSize: parsed.outputSize,
    activation: parsed.activation,
    batchNorm: bn && { eps: bn.eps, momentum: bn.momentum, estimator: bn.estimator, unbiased: bn.unbiased, scale: bn.scale, center: bn.center },
    hiddenBias: parsed.hiddenBias,
  };
}

/** What is wrong with a parsed spec's types, or null when it has every field a NetworkSpec needs. */
function specProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const spec = value as Record<string, unknown>;
  for (const key of ['inputSize', 'outputSize'] as const) {
    if (typeof spec[key] !== 'number') return `"${key}" is not a number`;
  }
  if (!Array.isArray(spec.hiddenSizes) || !spec.hiddenSizes.every((size) => typeof size === 'number')) return '"hiddenSizes" is not a list of numbers';
  if (typeof spec.activation !== 'string' || !(ACTIVATIONS as readonly string[]).includes(spec.activation)) {
    return `"activation" is ${JSON.stringify(spec.activation)}, not one of ${ACTIVATIONS.join(', ')}`;
  }
  if (typeof spec.hiddenBias !== 'boolean') return '"hiddenBias" is not true or false';
  if (spec.batchNorm === null) return null;
  if (typeof spec.batchNorm !== 'object' || Array.isArray(spec.batchNorm)) return '"batchNorm" is neither null nor an object';
  const bn = spec.batchNorm as Record<keyof BatchNormOptions, unknown>;
  for (const key of ['eps', 'momentum'] as const) if (typeof bn[key] !== 'number') return `"batchNorm.${key}" is not a number`;
  for (const key of ['unbiased', 'scale', 'center'] as const) if (typeof bn[key] !== 'boolean') return `"batchNorm.${key}" is not true or false`;
  if (typeof bn.estimator !== 'string' || !(ESTIMATORS as readonly string[]).includes(bn.estimator)) {
    return `"batchNorm.estimator" is ${JSON.stringify(bn.estimator)}, not one of ${ESTIMATORS.join(', ')}`;
  }
  return null;
}
