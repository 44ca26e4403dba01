/**
 * @file Which norm a dropped checkpoint's network has, read from its safetensors header, so the page
 * sends it to the network with that norm: bnlab writes the network's spec as JSON under the
 * metadata key "bnlab.spec"; its "norm" names the norm (format 2: ln, gn, rms, brn, ghost, …), and
 * where there is none (format 1) its "batchNorm" is null without BN and an object with it. Pure.
 */
import { NORM_KINDS, type NormKind } from '../../nn/spec.js';
import { METADATA_SPEC } from '../../train/checkpoint.js';
import { decodeSafetensors } from '../../train/safetensors.js';

/** The network's norm; null: not readable as a bnlab checkpoint (a worker then says what is wrong). */
export function checkpointNorm(bytes: Uint8Array): NormKind | null {
  try {
    const spec: unknown = JSON.parse(decodeSafetensors(bytes).metadata[METADATA_SPEC] ?? 'null');
    if (typeof spec !== 'object' || spec === null) return null;
    if ('norm' in spec) {
      const norm = (spec as { norm: unknown }).norm;
      return typeof norm === 'string' && (NORM_KINDS as readonly string[]).includes(norm) ? (norm as NormKind) : null;
    }
    if (!('batchNorm' in spec)) return null;
    return (spec as { batchNorm: unknown }).batchNorm !== null ? 'bn' : 'none';
  } catch {
    return null;
  }
}
