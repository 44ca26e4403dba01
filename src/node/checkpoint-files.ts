/**
 * @file Checkpoints on disk: the Node edge around train/checkpoint.ts. Saving writes the
 * safetensors bytes atomically; loading reads the file and names it in every error.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Kernels } from '../core/kernels.js';
import type { MLP, NetworkOptions } from '../nn/mlp.js';
import { CheckpointError, decodeCheckpoint, type ExpectedLayout, encodeCheckpoint } from '../train/checkpoint.js';
import { writeFileAtomic } from './atomic-write.js';
import { bnlabVersion } from './package-info.js';

/** A network's memory estimate may come to 1 GiB (train/config.ts); its checkpoint holds less than that. */
export const MAX_CHECKPOINT_BYTES = 1024 ** 3;

/** Saves `net` (and `extra` metadata, e.g. steps and seed) to `path` as a safetensors checkpoint, creating the folder if needed. */
export async function saveCheckpoint(path: string, net: MLP, extra?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(net, extra, bnlabVersion()));
}

/**
 * Restores the network saved at `path` onto `kernels`. With `expected`, a checkpoint of other
 * layer sizes is refused with a CheckpointError naming both; `options` size it for its batches.
 */
export async function loadCheckpoint(
  path: string,
  kernels: Kernels,
  expected?: ExpectedLayout,
  options: NetworkOptions = {},
): Promise<{ net: MLP; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      const what = info.isDirectory() ? 'it is a folder' : 'it is not a regular file (a device, a pipe or a socket)';
      throw new CheckpointError(`cannot read the checkpoint ${path}: ${what}; give a .safetensors file written by bnlab train --save.`);
    }
    if (info.size > MAX_CHECKPOINT_BYTES) {
      throw new CheckpointError(
        `${path} is ${Math.round(info.size / 1e6).toLocaleString('en-US')} MB, larger than any network bnlab can train (at most ${MAX_CHECKPOINT_BYTES / 1024 ** 3} GiB): it is not a bnlab checkpoint.`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission was denied' : (error as Error).message;
    throw new CheckpointError(`cannot read the checkpoint ${path}: ${reason}; check the path.`);
  }
  return decodeCheckpoint(bytes, kernels, path, expected, options);
}
