/**
 * @file Writing a file so that no reader ever sees half of it: the bytes go to a temporary file
 * in the target's own folder (a rename is atomic only within one file system), are flushed to
 * disk with fsync, and the temporary file is then renamed over the target. On any failure the
 * temporary file is removed and an existing target is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temporary sibling of `path`: hidden, unique per process and call, recognizable by its suffix. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The file name a temporary file named `name` (temporaryPathFor's) was to become, or null when `name` is not one. */
export function temporaryTargetName(name: string): string | null {
  return /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/.exec(name)?.[1] ?? null;
}

/**
 * Writes `data` (a string is written as UTF-8) to `path` atomically, creating the parent folder
 * if needed. Either `path` then holds exactly `data`, or the call throws and `path` is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await putInPlace(path, data, (temporaryPath) => rename(temporaryPath, path));
}

/**
 * As writeFileAtomic, but never over an existing file: the temporary file is linked to `path`
 * (link fails when the name exists, where rename would replace). Returns false, leaving the
 * existing file as it was, when `path` was taken; two writers racing for one name: one wins.
 */
export async function writeFileIfAbsent(path: string, data: string | Uint8Array): Promise<boolean> {
  let placed = true;
  await putInPlace(path, data, async (temporaryPath) => {
    try {
      await link(temporaryPath, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      placed = false;
    }
  });
  return placed;
}

/** The bytes into a flushed temporary sibling of `path`, then `place` moves or links it to `path`; the temporary file never stays. */
async function putInPlace(path: string, data: string | Uint8Array, place: (temporaryPath: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = temporaryPathFor(path);
  let created = false;
  try {
    // 'wx': fail rather than write through a file (or a planted symlink) that already exists.
    const handle = await open(temporaryPath, 'wx', 0o666);
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await place(temporaryPath);
  } finally {
    // After a rename there is nothing left to remove; after a link (or a failure) the temporary name goes.
    if (created) await rm(temporaryPath, { force: true }).catch(() => undefined);
  }
  await syncFolder(dirname(path));
}

/** Flushes the folder entry of the rename too, so the new file survives a power cut; best effort (not every platform can open a folder). */
export async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Windows and some file systems refuse fsync on a directory; the rename itself is done.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
