/**
 * @file No finished work lost to a write: every output path is tried before training (exit 2,
 * naming the path), and a write that still fails at the end neither hides the results nor stops
 * the other outputs (exit 1, one line naming the path).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { BNLAB_BIN, runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-output-paths-');
writeFileSync(join(scratch, 'a-file'), 'not a folder');
mkdirSync(join(scratch, 'a-folder'));

test('outputs that cannot be written are refused before training, naming the path', async () => {
  const cases: Array<[string[], string]> = [
    [['--save', ''], 'bnlab: --save needs a file path, got an empty one'],
    [['--out', ''], 'bnlab: --out needs a folder, got an empty path'],
    [
      ['--save', join(scratch, 'a-folder')],
      `bnlab: --save ${join(scratch, 'a-folder')} is a folder: give a file path, such as ${join(scratch, 'a-folder', 'model.safetensors')}`,
    ],
    [
      ['--save', join(scratch, 'a-file', 'm.safetensors')],
      `bnlab: --save ${join(scratch, 'a-file', 'm.safetensors')} cannot be written: ${join(scratch, 'a-file')} is a file, not a folder; choose another path`,
    ],
    [
      ['--out', join(scratch, 'a-file', 'out')],
      `bnlab: --out ${join(scratch, 'a-file', 'out')} cannot be written: ${join(scratch, 'a-file')} is a file, not a folder; choose another path`,
    ],
    [
      ['--save', '/proc/bnlab.safetensors'],
      'bnlab: --save /proc/bnlab.safetensors cannot be written: /proc does not take new files (ENOENT); choose a folder you can write to',
    ],
  ];
  for (const [flags, line] of cases) {
    const result = await runCli(['train', '--steps', '100000', ...flags]);
    assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `${line}\n`, 'refused at once, before any training step');
  }
});

test('explain checks its --out folder before the first claim runs', async () => {
  const result = await runCli(['explain', 'covariate-shift', '--out', join(scratch, 'a-file', 'explain')]);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    `bnlab: --out ${join(scratch, 'a-file', 'explain')} cannot be written: ${join(scratch, 'a-file')} is a file, not a folder; choose another path\n`,
  );
  assert.equal(result.stdout, '');
});

test('a write that fails at the end: the results are printed, the other outputs written, exit 1 naming the path', async () => {
  const folder = join(scratch, 'vanishing');
  mkdirSync(folder);
  const checkpoint = join(scratch, 'kept.safetensors');
  const child = spawn(process.execPath, [BNLAB_BIN, 'train', '--steps', '300', '--validate-every', '100', '--save', checkpoint, '--out', join(folder, 'out')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr === '') {
      // Training has started, so the check passed: now the folder becomes a file.
      rmSync(folder, { recursive: true });
      writeFileSync(folder, 'in the way');
    }
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  assert.equal(code, 1, stderr);
  assert.match(stdout, /With Batch Norm: The final accuracy on test data is 0\.\d{4}/);
  assert.ok(existsSync(checkpoint), 'the checkpoint, which could be written, was');
  assert.equal(
    stderr.trim().split('\n').at(-1),
    `bnlab: could not write ${join(folder, 'out', 'train.json')} (ENOTDIR) and ${join(folder, 'out', 'train.svg')} (ENOTDIR); the results above are complete, the other outputs were written`,
  );
});
