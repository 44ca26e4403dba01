/**
 * @file Checkpoints on disk: the Node edge around train/checkpoint.ts. Saving writes the
 * safetensors bytes atomically; loading reads the file and names it in every error.
 */
import { readFile } from 'node:fs/promises';
import type { Kernels } from '../core/kernels.js';
import type { MLP } from '../nn/mlp.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type ExpectedLayout } from '../train/checkpoint.js';
import { writeFileAtomic } from './atomic-write.js';
import { bnlabVersion } from './package-info.js';

/** Saves `net` (and `extra` metadata, e.g. steps and seed) to `path` as a safetensors checkpoint, creating the folder if needed. */
export async function saveCheckpoint(path: string, net: MLP, extra?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(net, extra, bnlabVersion()));
}

/**
 * Restores the network saved at `path` onto `kernels`. With `expected`, a checkpoint of other
 * layer sizes is refused with a CheckpointError naming both.
 */
export async function loadCheckpoint(path: string, kernels: Kernels, expected?: ExpectedLayout): Promise<{ net: MLP; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission was denied' : (error as Error).message;
    throw new CheckpointError(`cannot read the checkpoint ${path}: ${reason}; check the path.`);
  }
  return decodeCheckpoint(bytes, kernels, path, expected);
}
