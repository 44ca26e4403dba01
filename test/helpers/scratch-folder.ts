/**
 * @file A fresh folder under the system's temp folder for a test's files, removed once the tests
 * around it are done (the whole file's when made at the top level, one test's when made inside it),
 * so that runs of the suite leave nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function scratchFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}
