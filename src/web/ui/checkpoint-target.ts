/**
 * @file Which of the page's two networks a dropped checkpoint belongs to, read from its
 * safetensors header: bnlab writes the network's spec as JSON under the metadata key
 * "bnlab.spec", whose "batchNorm" is null without BN and an object with it. Pure.
 */
import { METADATA_SPEC } from '../../train/checkpoint.js';
import { decodeSafetensors } from '../../train/safetensors.js';

/** true: the network with BN; false: without; null: not readable as a bnlab checkpoint (the with-BN worker then says what is wrong). */
export function checkpointHasBatchNorm(bytes: Uint8Array): boolean | null {
  try {
    const spec: unknown = JSON.parse(decodeSafetensors(bytes).metadata[METADATA_SPEC] ?? 'null');
    if (typeof spec !== 'object' || spec === null || !('batchNorm' in spec)) return null;
    return (spec as { batchNorm: unknown }).batchNorm !== null;
  } catch {
    return null;
  }
}
