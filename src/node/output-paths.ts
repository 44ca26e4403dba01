/**
 * @file Outputs checked before the work and written after it without losing any: a path a user
 * gives (--save, --out) is tried up front, by creating and removing a file where the output will
 * go, so that a run never trains for an hour to fail at its last write; and the writes at the end
 * each run, so that one that still fails (a disk filled meanwhile) neither hides the results
 * nor stops the other outputs.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** A path a user gave that cannot be written: bad input, found before any work (exit 2). */
class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/** Outputs that failed at the end, after the results were printed (exit 1). */
export class OutputWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputWriteError';
  }
}

/** Checks that `flag`'s file `path` can be written: not empty, not a folder, in a folder that exists or can be made and takes files. */
export async function checkFileWritable(flag: string, path: string): Promise<void> {
  if (path.trim() === '') throw new OutputPathError(`${flag} needs a file path, got an empty one`);
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) throw new OutputPathError(`${flag} ${path} is a folder: give a file path, such as ${join(path, 'model.safetensors')}`);
  await checkFolderTakesFiles(flag, path, dirname(resolve(path)));
}

/** Checks that `flag`'s folder `folder` exists or can be made, and takes files. */
export async function checkFolderWritable(flag: string, folder: string): Promise<void> {
  if (folder.trim() === '') throw new OutputPathError(`${flag} needs a folder, got an empty path`);
  await checkFolderTakesFiles(flag, folder, resolve(folder));
}

/** Creates and removes a file in `folder`, or in its nearest existing ancestor when it does not exist yet (it will be made). */
async function checkFolderTakesFiles(flag: string, given: string, folder: string): Promise<void> {
  let existing = folder;
  for (;;) {
    const info = await stat(existing).catch(() => null);
    if (info?.isDirectory()) break;
    if (info) throw new OutputPathError(`${flag} ${given} cannot be written: ${existing} is a file, not a folder; choose another path`);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const probe = join(existing, `.bnlab-write-check.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await (await open(probe, 'wx')).close();
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new OutputPathError(`${flag} ${given} cannot be written: ${existing} does not take new files (${code}); choose a folder you can write to`);
  }
}

/**
 * Runs every write, even after one fails, and then throws one OutputWriteError naming each path
 * that failed (none: returns). Call it after printing the results.
 */
export async function writeAll(writes: ReadonlyArray<{ path: string; write: () => Promise<unknown> }>): Promise<void> {
  const failed: string[] = [];
  for (const { path, write } of writes) {
    try {
      await write();
    } catch (error) {
      failed.push(`${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (failed.length > 0) throw new OutputWriteError(`could not write ${failed.join(' and ')}; the results above are complete, the other outputs were written`);
}
