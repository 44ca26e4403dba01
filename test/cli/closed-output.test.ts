/**
 * @file Output that cannot be written never loses the work: a reader that leaves (`| head -1`)
 * stops the printing, and the checkpoint asked for is still written, exit code 0; a full
 * standard output (`> /dev/full`) ends with one line and exit code 1, after the run finished.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { BNLAB_BIN, runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-closed-output-');

test('bnlab train --save … | head -1: the reader leaves after one line, the checkpoint is still written', async () => {
  const checkpoint = join(scratch, 'm.safetensors');
  const child = spawn(process.execPath, [BNLAB_BIN, 'train', '--steps', '400', '--validate-every', '20', '--save', checkpoint], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Like head -1 on `2>&1`: read the first line of progress, then close both pipes.
  child.stderr.once('data', () => {
    child.stderr.destroy();
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  assert.equal(code, 0);
  assert.ok(existsSync(checkpoint), 'the checkpoint was written after the reader left');
  const evaluated = await runCli(['eval', checkpoint, '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
});

test('bnlab train > /dev/full: one line on stderr, exit code 1, no stack trace', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [BNLAB_BIN, 'train', '--steps', '50', '--validate-every', '25'], { stdio: ['ignore', full, 'pipe'] });
  closeSync(full);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  assert.equal(code, 1);
  assert.match(stderr.trim().split('\n').at(-1)!, /^bnlab: could not write the results to standard output \(ENOSPC\); the run itself finished$/);
  assert.ok(!/\n\s+at /.test(stderr), stderr);
});
