/**
 * @file writeFileAtomic: the target holds exactly the new bytes, or it is untouched and no temporary
 * file is left behind. Failures are real where the file system can make them (a folder in the way,
 * a file where the parent folder should be, a folder the writer may not write to) and simulated
 * where it cannot on demand (a disk that fills mid-write, a failing fsync, a failing rename).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fsPromises, { type FileHandle, open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { temporaryPathFor, writeFileAtomic } from '../../src/node/atomic-write.js';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'bnlab-atomic-'));
});
afterEach(() => {
  mock.restoreAll();
  syncBuiltinESMExports();
  chmodSync(folder, 0o700);
  rmSync(folder, { recursive: true, force: true });
});

function simulatedError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`simulated ${code}`), { code });
}

/** The prototype every FileHandle shares, so a test can make one of its methods fail. */
async function fileHandlePrototype(): Promise<FileHandle> {
  const handle = await open(join(folder, '.probe'), 'w');
  await handle.close();
  rmSync(join(folder, '.probe'));
  return Object.getPrototypeOf(handle) as FileHandle;
}

/** Writing over "old" fails, and afterwards the folder holds just the old file, unchanged. */
async function assertFailureLeavesOldFile(code: RegExp | string): Promise<void> {
  const target = join(folder, 'model.safetensors');
  writeFileSync(target, 'old contents');
  await assert.rejects(writeFileAtomic(target, new Uint8Array(1 << 20).fill(7)), (error: NodeJS.ErrnoException) =>
    typeof code === 'string' ? error.code === code : code.test(String(error.code)),
  );
  assert.equal(readFileSync(target, 'utf8'), 'old contents');
  assert.deepEqual(readdirSync(folder), ['model.safetensors'], 'no temporary file is left behind');
}

describe('writeFileAtomic', () => {
  test('writes a string as UTF-8 and bytes as they are, creating missing parent folders', async () => {
    const textPath = join(folder, 'a', 'b', 'record.json');
    await writeFileAtomic(textPath, '{"accuracy": "97.5 %", "note": "ünïcode"}\n');
    assert.equal(readFileSync(textPath, 'utf8'), '{"accuracy": "97.5 %", "note": "ünïcode"}\n');
    const bytesPath = join(folder, 'model.safetensors');
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    await writeFileAtomic(bytesPath, bytes);
    assert.deepEqual(new Uint8Array(readFileSync(bytesPath)), bytes);
    assert.deepEqual(readdirSync(folder).sort(), ['a', 'model.safetensors']);
  });

  test('replaces an existing file whole', async () => {
    const target = join(folder, 'train.json');
    writeFileSync(target, 'x'.repeat(10_000));
    await writeFileAtomic(target, 'short');
    assert.equal(readFileSync(target, 'utf8'), 'short');
    assert.deepEqual(readdirSync(folder), ['train.json']);
  });

  test('concurrent writers to one path: the file ends as exactly one of them, with no temporary files', async () => {
    const target = join(folder, 'shared.txt');
    const contents = Array.from({ length: 12 }, (_, i) => String(i).repeat(5000 + i));
    await Promise.all(contents.map((text) => writeFileAtomic(target, text)));
    assert.ok(contents.includes(readFileSync(target, 'utf8')));
    assert.deepEqual(readdirSync(folder), ['shared.txt']);
  });

  test('temporary files are hidden siblings of the target, unique per call', () => {
    const a = temporaryPathFor(join(folder, 'model.safetensors'));
    const b = temporaryPathFor(join(folder, 'model.safetensors'));
    assert.notEqual(a, b);
    assert.match(a, new RegExp(`^${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.model\\.safetensors\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  });

  test('a folder standing at the target path: the rename fails, the folder and its contents stay', async () => {
    const target = join(folder, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'kept');
    await assert.rejects(writeFileAtomic(target, 'data'), (error: NodeJS.ErrnoException) =>
      ['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(error.code ?? ''),
    );
    assert.equal(readFileSync(join(target, 'keep.txt'), 'utf8'), 'kept');
    assert.deepEqual(readdirSync(folder), ['out']);
  });

  test('a file where the parent folder should be: refused, nothing created', async () => {
    writeFileSync(join(folder, 'runs'), 'a file, not a folder');
    await assert.rejects(writeFileAtomic(join(folder, 'runs', 'model.safetensors'), 'data'), (error: NodeJS.ErrnoException) =>
      ['ENOTDIR', 'EEXIST'].includes(error.code ?? ''),
    );
    assert.equal(readFileSync(join(folder, 'runs'), 'utf8'), 'a file, not a folder');
    assert.deepEqual(readdirSync(folder), ['runs']);
  });

  test('a read-only target folder: refused with EACCES, the old file intact, no temporary file', async (t) => {
    const target = join(folder, 'model.safetensors');
    writeFileSync(target, 'old contents');
    chmodSync(folder, 0o555);
    const isRoot = process.getuid?.() === 0;
    if (!isRoot) {
      await assert.rejects(writeFileAtomic(target, 'new contents'), { code: 'EACCES' });
    } else {
      // Root ignores permission bits, so an unprivileged child process (user "nobody") makes the attempt.
      chmodSync(folder, 0o755);
      const moduleUrl = new URL('../../src/node/atomic-write.js', import.meta.url).href;
      const script = `import { writeFileAtomic } from ${JSON.stringify(moduleUrl)};
        try { await writeFileAtomic(${JSON.stringify(target)}, 'new contents'); console.log('WROTE'); }
        catch (error) { console.log('FAILED ' + error.code); }`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 });
      if (!/^(WROTE|FAILED)/.test(child.stdout ?? '')) return t.skip(`cannot run an unprivileged child here: ${child.error?.message ?? child.stderr}`);
      assert.equal(child.stdout.trim(), 'FAILED EACCES');
    }
    assert.equal(readFileSync(target, 'utf8'), 'old contents');
    assert.deepEqual(readdirSync(folder), ['model.safetensors']);
  });

  test('a disk that fills up halfway through the write (simulated ENOSPC)', async () => {
    const prototype = await fileHandlePrototype();
    const realWriteFile = prototype.writeFile;
    mock.method(prototype, 'writeFile', async function (this: FileHandle, data: Uint8Array): Promise<void> {
      await realWriteFile.call(this, data.subarray(0, data.length >> 1)); // half the bytes reach the temporary file
      throw simulatedError('ENOSPC');
    });
    await assertFailureLeavesOldFile('ENOSPC');
  });

  test('fsync fails (simulated EIO)', async () => {
    const prototype = await fileHandlePrototype();
    mock.method(prototype, 'sync', async (): Promise<void> => {
      throw simulatedError('EIO');
    });
    await assertFailureLeavesOldFile('EIO');
  });

  test('the rename fails (simulated EXDEV)', async () => {
    mock.method(fsPromises, 'rename', async () => {
      throw simulatedError('EXDEV');
    });
    syncBuiltinESMExports(); // the module's named import of rename now sees the mock
    await assertFailureLeavesOldFile('EXDEV');
  });
});
