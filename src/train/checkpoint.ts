/**
 * @file A network as a safetensors checkpoint and back: every tensor its layers list (weights,
 * biases, BatchNorm's gamma/beta and all its population statistics; `Layer.checkpointTensors`),
 * with the spec as JSON in the metadata. Pure: bytes in, bytes out; file access lives in node/.
 *
 * Tensor names (weights are [in, out] as in the article's TensorFlow; PyTorch's Linear is [out, in]):
 *   dense.{i}.weight [in, out] F32, dense.{i}.bias [out] F32 where the layer has one,
 *   bn.{i}.gamma / bn.{i}.beta [features] F32 where learned,
 *   bn.{i}.moving_mean / bn.{i}.moving_variance [features] F32,
 *   bn.{i}.batch_mean_sum / bn.{i}.batch_variance_sum / bn.{i}.unbiased_variance_sum [features] F64,
 *   bn.{i}.averaged_batches [] I64,
 *   ln.{i}.gamma / ln.{i}.beta, gn.{i}.gamma / gn.{i}.beta, rms.{i}.gamma [features] F32,
 *   brn.{i}.* and ghost.{i}.* as bn.{i}.* (Batch Renormalization, Ghost BN), and brn.{i}.steps []
 *   I64 (the training steps its schedule has reached),
 *   wn.{i}.v [in, out], wn.{i}.g [out], wn.{i}.bias [out] F32 (Weight Norm's hidden layers, in
 *   place of dense.{i}.weight and dense.{i}.bias), wn.{i}.moving_mean [out] F32 (mean-only).
 *   γ/β are absent where not learned (--no-affine).
 *
 * Format "1" (every checkpoint before Layer, Group and RMS Norm, and still every one without a
 * norm or with BN, byte for byte): the spec's `batchNorm` says the norm (null: none). Format "2"
 * (ln, gn, rms, brn, ghost): the spec also holds `norm`, `exampleNorm`, `renorm` and `ghost` (the
 * last two absent in files written before Batch Renormalization and Ghost BN: null), so a reader
 * that knows only "1" refuses it by its format rather than misreading it. Format "3" (Weight Norm,
 * a norm after the activation, or brn/ghost/ln/gn/rms without γ/β): the whole spec, with
 * `placement`, `weightNorm` and the norms' `affine`; files of formats 1 and 2 read as `pre`,
 * without Weight Norm, and with γ/β (format 1: BN's own scale/center).
 */
import type { Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { MLP, type NetworkOptions } from '../nn/mlp.js';
import {
  ACTIVATIONS,
  type BatchNormOptions,
  ESTIMATORS,
  type ExampleNormOptions,
  layerShapes,
  type NetworkSpec,
  NORM_KINDS,
  NORM_PLACEMENTS,
  validateSpec,
  WEIGHT_NORM_INITS,
} from '../nn/spec.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type TensorInput, tensorValues } from './safetensors.js';

/** The layout version of a network without a norm or with BN (as before Layer, Group and RMS Norm). */
const CHECKPOINT_FORMAT = '1';
/** The layout version of a network with any other norm (ln, gn, rms, brn, ghost): its spec says which. */
export const CHECKPOINT_FORMAT_EXAMPLE_NORM = '2';
/** The layout version of a network with Weight Norm, a norm after the activation, or a norm other than BN without γ/β. */
const CHECKPOINT_FORMAT_PLACEMENT = '3';
const READABLE_FORMATS = [CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_EXAMPLE_NORM, CHECKPOINT_FORMAT_PLACEMENT];
export const METADATA_FORMAT = 'bnlab.format';
export const METADATA_SPEC = 'bnlab.spec';
const METADATA_VERSION = 'bnlab.version';
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

/**
 * The safetensors bytes of `net`. `extra` is free-form metadata (training steps, seed, flags);
 * keys starting with "bnlab." are reserved. Float32 tensors are stored as F32, so a network on a
 * float64 backend is rounded to float32 on the way out.
 */
export function encodeCheckpoint(net: MLP, extra?: Record<string, string>, version?: string): Uint8Array {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (key.startsWith(RESERVED_PREFIX))
      throw new RangeError(`checkpoint metadata key "${key}" is reserved for bnlab itself; choose a key without the "${RESERVED_PREFIX}" prefix`);
    if (typeof value !== 'string') throw new RangeError(`checkpoint metadata "${key}" must be a string, got ${typeof value}`);
    metadata[key] = value;
  }
  const { format, spec } = specForCheckpoint(net.spec);
  metadata[METADATA_FORMAT] = format;
  metadata[METADATA_SPEC] = JSON.stringify(spec);
  if (version !== undefined) metadata[METADATA_VERSION] = version;

  const tensors = new Map<string, TensorInput>();
  for (const tensor of net.checkpointTensors()) tensors.set(tensor.name, { dtype: tensor.dtype, shape: tensor.shape, values: tensor.read() });
  return encodeSafetensors(tensors, metadata);
}

/**
 * The spec as a checkpoint stores it, and its format: without a norm or with BN exactly the
 * format-1 spec (whose `batchNorm` says the norm), so those files keep their bytes; with ln, gn
 * or rms the whole spec, in format 2.
 */
function specForCheckpoint(spec: Readonly<NetworkSpec>): { format: string; spec: object } {
  const { placement: _placement, weightNorm: _weightNorm, ...formatTwo } = spec;
  const affine = (spec.exampleNorm ?? spec.renorm ?? spec.ghost)?.affine ?? true;
  if (spec.placement !== 'pre' || spec.norm === 'wn' || !affine) return { format: CHECKPOINT_FORMAT_PLACEMENT, spec };
  if (spec.norm !== 'none' && spec.norm !== 'bn') {
    // Exactly the format-2 spec of the release before `affine` and `placement` (affine is true here).
    const strip = <T extends { affine: boolean }>(options: T | null): Omit<T, 'affine'> | null => {
      if (!options) return null;
      const { affine: _affine, ...rest } = options;
      return rest;
    };
    return {
      format: CHECKPOINT_FORMAT_EXAMPLE_NORM,
      spec: { ...formatTwo, exampleNorm: strip(spec.exampleNorm), renorm: strip(spec.renorm), ghost: strip(spec.ghost) },
    };
  }
  const { norm: _norm, exampleNorm: _exampleNorm, renorm: _renorm, ghost: _ghost, ...formatOne } = formatTwo;
  return { format: CHECKPOINT_FORMAT, spec: formatOne };
}

/**
 * Restores the network in a checkpoint onto `kernels`. `source` names the file in error
 * messages; `expected`, when given, refuses a checkpoint whose layer sizes differ; `options`
 * size the network for the batches it will run.
 * Returns the network and every metadata entry (including bnlab.spec, bnlab.format, bnlab.version).
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  kernels: Kernels,
  source = 'checkpoint',
  expected?: ExpectedLayout,
  options: NetworkOptions = {},
): { net: MLP; metadata: Record<string, string> } {
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    throw new CheckpointError(
      `${source} is not a readable safetensors file: ${error.message}. Check the path, or save the network again with bnlab train --save.`,
    );
  }
  const { tensors, metadata } = file;
  const spec = specFromMetadata(metadata, source);
  if (expected) assertCheckpointLayout(spec, expected, source);

  const slotProblem = (slot: { name: string; dtype: string; shape: number[] }): string | null => {
    const tensor = tensors.get(slot.name);
    if (!tensor)
      return `${source} lacks tensor "${slot.name}", which a ${describeNetwork(spec)} network needs; the file is incomplete, so save the network again.`;
    if (tensor.dtype !== slot.dtype || !sameShape(tensor.shape, slot.shape, slot.name)) {
      return `${source} holds "${slot.name}" as ${tensor.dtype} [${tensor.shape.join(', ')}], but a ${describeNetwork(spec)} network needs ${slot.dtype} [${slot.shape.join(', ')}]; the file does not match its own spec, so save the network again.`;
    }
    return null;
  };
  // The weights first: a spec whose layers the file's weights do not fill is refused before anything that large is allocated.
  const weightName = (i: number): string => (spec.norm === 'wn' && i < spec.hiddenSizes.length ? `wn.${i}.v` : `dense.${i}.weight`);
  const weightSlots = layerShapes(spec).map(([inputs, outputs], i) => ({ name: weightName(i), dtype: 'F32', shape: [inputs, outputs] }));
  for (const slot of weightSlots) {
    const problem = slotProblem(slot);
    if (problem) throw new CheckpointError(problem);
  }
  const weights = weightSlots.map(({ name, shape: [inputs, outputs] }) => new Matrix(inputs!, outputs!, tensorValues(tensors.get(name)!, 'F32')));
  // The network the spec describes lists every tensor it needs; the file must hold exactly those.
  const net = new MLP(kernels, spec, weights, options);
  const needed = net.checkpointTensors();
  const neededNames = new Set(needed.map((slot) => slot.name));
  for (const name of tensors.keys()) {
    if (!neededNames.has(name)) {
      throw new CheckpointError(
        `${source} holds a tensor "${name}" that a ${describeNetwork(spec)} network does not have; the file does not match its own spec, so save the network again.`,
      );
    }
  }
  for (const slot of needed) {
    const problem = slotProblem(slot);
    if (problem) throw new CheckpointError(problem);
  }
  for (const slot of needed) {
    const tensor = tensors.get(slot.name)!;
    try {
      slot.write(slot.dtype === 'F32' ? tensorValues(tensor, 'F32') : slot.dtype === 'F64' ? tensorValues(tensor, 'F64') : tensorValues(tensor, 'I64'));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new CheckpointError(`${source} says ${error.message}; the file is damaged, so save the network again.`);
    }
  }
  return { net, metadata: { ...metadata } };
}

/** Refuses (CheckpointError) a checkpoint whose layer sizes are not the expected ones, naming both. */
function assertCheckpointLayout(spec: ExpectedLayout, expected: ExpectedLayout, source = 'checkpoint'): void {
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
  if ((name.endsWith('.averaged_batches') || name.endsWith('.steps')) && found.length === 1 && found[0] === 1) return true;
  return found.length === wanted.length && found.every((dim, i) => dim === wanted[i]);
}

function specFromMetadata(metadata: Record<string, string>, source: string): NetworkSpec {
  const format = metadata[METADATA_FORMAT];
  if (format === undefined) {
    throw new CheckpointError(
      `${source} is a safetensors file but not a bnlab checkpoint (its metadata has no "${METADATA_FORMAT}"); pass a file written by bnlab train --save.`,
    );
  }
  if (!READABLE_FORMATS.includes(format)) {
    throw new CheckpointError(
      `${source} uses checkpoint format "${format}", but this bnlab reads only formats ${READABLE_FORMATS.slice(0, -1)
        .map((f) => `"${f}"`)
        .join(
          ', ',
        )} and "${READABLE_FORMATS.at(-1)!}"; open it with the bnlab version that wrote it${metadata[METADATA_VERSION] ? ` (${metadata[METADATA_VERSION]})` : ''}.`,
    );
  }
  const text = metadata[METADATA_SPEC];
  if (text === undefined) {
    throw new CheckpointError(
      `${source} has no network spec (metadata "${METADATA_SPEC}"), so its layers cannot be rebuilt; save the network again with bnlab train --save.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(
      `${source} has a network spec (metadata "${METADATA_SPEC}") that is not valid JSON (${(error as Error).message}); save the network again.`,
    );
  }
  const problem =
    specProblem(parsed) ??
    (format === CHECKPOINT_FORMAT ? null : (exampleNormProblem(parsed) ?? batchVariantProblem(parsed))) ??
    (format === CHECKPOINT_FORMAT_PLACEMENT ? placementProblem(parsed) : null);
  if (problem) throw new CheckpointError(`${source} has an unusable network spec (metadata "${METADATA_SPEC}"): ${problem}; save the network again.`);
  const spec = cleanSpec(parsed as NetworkSpec, format);
  try {
    validateSpec(spec);
  } catch (error) {
    throw new CheckpointError(`${source} has an unusable network spec (metadata "${METADATA_SPEC}"): ${(error as Error).message}; save the network again.`);
  }
  return spec;
}

/** Only the fields a NetworkSpec has, so nothing else in the file's JSON rides along; format 1's norm is its batchNorm's. */
function cleanSpec(parsed: NetworkSpec, format: string): NetworkSpec {
  const bn = parsed.batchNorm;
  const example = format === CHECKPOINT_FORMAT ? null : parsed.exampleNorm;
  const three = format === CHECKPOINT_FORMAT_PLACEMENT;
  // Formats 1 and 2 predate `affine`: their norms learn γ/β.
  const affineOf = (options: { affine?: unknown }): boolean => (three ? (options.affine as boolean) : true);
  const wn = three ? parsed.weightNorm : null;
  return {
    inputSize: parsed.inputSize,
    hiddenSizes: [...parsed.hiddenSizes],
    outputSize: parsed.outputSize,
    activation: parsed.activation,
    batchNorm: bn && { eps: bn.eps, momentum: bn.momentum, estimator: bn.estimator, unbiased: bn.unbiased, scale: bn.scale, center: bn.center },
    hiddenBias: parsed.hiddenBias,
    norm: format === CHECKPOINT_FORMAT ? (bn ? 'bn' : 'none') : parsed.norm,
    exampleNorm: example && { eps: example.eps, groups: example.groups, affine: affineOf(example) },
    renorm:
      format === CHECKPOINT_FORMAT || !parsed.renorm
        ? null
        : {
            eps: parsed.renorm.eps,
            momentum: parsed.renorm.momentum,
            rmax: parsed.renorm.rmax,
            dmax: parsed.renorm.dmax,
            warmupSteps: parsed.renorm.warmupSteps,
            rmaxSteps: parsed.renorm.rmaxSteps,
            dmaxSteps: parsed.renorm.dmaxSteps,
            affine: affineOf(parsed.renorm),
          },
    ghost:
      format === CHECKPOINT_FORMAT || !parsed.ghost
        ? null
        : {
            eps: parsed.ghost.eps,
            momentum: parsed.ghost.momentum,
            virtualBatch: parsed.ghost.virtualBatch,
            affine: affineOf(parsed.ghost),
          },
    placement: three ? parsed.placement : 'pre',
    weightNorm: wn ? { init: wn.init, meanOnly: wn.meanOnly, momentum: wn.momentum } : null,
  };
}

/** What is wrong with a format-2 spec's norm fields, or null. */
function exampleNormProblem(value: unknown): string | null {
  const spec = value as Record<string, unknown>;
  if (typeof spec.norm !== 'string' || !(NORM_KINDS as readonly string[]).includes(spec.norm)) {
    return `"norm" is ${JSON.stringify(spec.norm)}, not one of ${NORM_KINDS.join(', ')}`;
  }
  if (spec.exampleNorm === null) return null;
  if (typeof spec.exampleNorm !== 'object' || Array.isArray(spec.exampleNorm)) return '"exampleNorm" is neither null nor an object';
  const example = spec.exampleNorm as Record<keyof ExampleNormOptions, unknown>;
  for (const key of ['eps', 'groups'] as const) if (typeof example[key] !== 'number') return `"exampleNorm.${key}" is not a number`;
  return null;
}

/** What is wrong with a format-3 spec's placement, Weight Norm and affine fields, or null. */
function placementProblem(value: unknown): string | null {
  const spec = value as Record<string, unknown>;
  if (typeof spec.placement !== 'string' || !(NORM_PLACEMENTS as readonly string[]).includes(spec.placement)) {
    return `"placement" is ${JSON.stringify(spec.placement)}, not one of ${NORM_PLACEMENTS.join(', ')}`;
  }
  for (const field of ['exampleNorm', 'renorm', 'ghost'] as const) {
    const options = spec[field];
    if (options && typeof (options as Record<string, unknown>).affine !== 'boolean') return `"${field}.affine" is not true or false`;
  }
  const wn = spec.weightNorm;
  if (wn === null || wn === undefined) return null;
  if (typeof wn !== 'object' || Array.isArray(wn)) return '"weightNorm" is neither null nor an object';
  const options = wn as Record<string, unknown>;
  if (typeof options.init !== 'string' || !(WEIGHT_NORM_INITS as readonly string[]).includes(options.init))
    return `"weightNorm.init" is ${JSON.stringify(options.init)}, not one of ${WEIGHT_NORM_INITS.join(', ')}`;
  if (typeof options.meanOnly !== 'boolean') return '"weightNorm.meanOnly" is not true or false';
  if (typeof options.momentum !== 'number') return '"weightNorm.momentum" is not a number';
  return null;
}

/** What is wrong with a format-2 spec's Batch Renormalization or Ghost BN fields (absent: null), or null. */
function batchVariantProblem(value: unknown): string | null {
  const spec = value as Record<string, unknown>;
  const fields = { renorm: ['eps', 'momentum', 'rmax', 'dmax', 'warmupSteps', 'rmaxSteps', 'dmaxSteps'], ghost: ['eps', 'momentum', 'virtualBatch'] } as const;
  for (const [field, keys] of Object.entries(fields)) {
    const options = spec[field];
    if (options === undefined || options === null) continue;
    if (typeof options !== 'object' || Array.isArray(options)) return `"${field}" is neither null nor an object`;
    for (const key of keys) if (typeof (options as Record<string, unknown>)[key] !== 'number') return `"${field}.${key}" is not a number`;
  }
  return null;
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
