/**
 * @file The README stays true: its library example is examples/library.mjs verbatim and runs as
 * written; every command it documents exists in `bnlab --help`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BNLAB_BIN } from './cli/run-cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const examplePath = join(root, 'examples', 'library.mjs');

test('the README shows examples/library.mjs verbatim', () => {
  const example = readFileSync(examplePath, 'utf8');
  assert.ok(readme.includes('```js\n' + example + '```'), 'the README\'s library example differs from examples/library.mjs');
});

test('the library example runs as written: both networks train a step, the checkpoint restores the same accuracy', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bnlab-readme-'));
  const output = execFileSync(process.execPath, [examplePath], { cwd, encoding: 'utf8' });
  assert.match(output, /^without BN: loss \d\.\d{4}, validation accuracy 0\.\d{4}$/m);
  assert.match(output, /^with BN: loss \d\.\d{4}, validation accuracy 0\.\d{4}$/m);
  const restored = /restored: test accuracy (\S+) \(before saving (\S+)\)/.exec(output);
  assert.ok(restored, output);
  assert.equal(restored[1], restored[2]);
});

test('every `bnlab <command>` the README mentions exists', () => {
  const help = execFileSync(process.execPath, [BNLAB_BIN, '--help'], { encoding: 'utf8' });
  // Commands as the README writes them: `bnlab train` in prose, npx bnlab train in examples.
  const mentioned = new Set([...readme.matchAll(/(?:npx |`)bnlab ([a-z]+)\b/g)].map((match) => match[1]!));
  assert.ok(mentioned.size >= 6, `found ${[...mentioned].join(', ')}`);
  for (const command of mentioned) {
    assert.match(help, new RegExp(`^\\s+${command}\\b`, 'm'), `README mentions "bnlab ${command}", which --help does not list`);
  }
});
