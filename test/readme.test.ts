/**
 * @file The README and docs/ stay true: the library example (docs/library.md) is
 * examples/library.mjs verbatim and runs as written; every command the README or a docs/ page
 * documents exists in `bnlab --help`, and the README itself still names at least six.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BNLAB_BIN } from './cli/run-cli.js';
import { scratchFolder } from './helpers/scratch-folder.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const docsDir = join(root, 'docs');
const docs = readdirSync(docsDir)
  .filter((name) => name.endsWith('.md'))
  .map((name) => ({ name: `docs/${name}`, text: readFileSync(join(docsDir, name), 'utf8') }));
const libraryPage = readFileSync(join(docsDir, 'library.md'), 'utf8');
const examplePath = join(root, 'examples', 'library.mjs');

test('docs/library.md shows examples/library.mjs verbatim', () => {
  const example = readFileSync(examplePath, 'utf8');
  assert.ok(libraryPage.includes(`\`\`\`js\n${example}\`\`\``), 'the library example in docs/library.md differs from examples/library.mjs');
});

test('the library example runs as written: both networks train a step, the checkpoint restores the same accuracy', () => {
  const cwd = scratchFolder('bnlab-readme-');
  const output = execFileSync(process.execPath, [examplePath], { cwd, encoding: 'utf8' });
  assert.match(output, /^without BN: loss \d\.\d{4}, validation accuracy 0\.\d{4}$/m);
  assert.match(output, /^with BN: loss \d\.\d{4}, validation accuracy 0\.\d{4}$/m);
  const restored = /restored: test accuracy (\S+) \(before saving (\S+)\)/.exec(output);
  assert.ok(restored, output);
  assert.equal(restored[1], restored[2]);
});

test('every `bnlab <command>` the README or docs/ mentions exists', () => {
  const help = execFileSync(process.execPath, [BNLAB_BIN, '--help'], { encoding: 'utf8' });
  // Commands as the README writes them: `bnlab train` in prose, npx bnlab train in examples.
  const commandsIn = (text: string) => new Set([...text.matchAll(/(?:npx |`)bnlab ([a-z]+)\b/g)].map((match) => match[1]!));
  const mentioned = commandsIn(readme);
  assert.ok(mentioned.size >= 6, `found ${[...mentioned].join(', ')}`);
  for (const { name, text } of [{ name: 'README', text: readme }, ...docs]) {
    for (const command of commandsIn(text)) {
      assert.match(help, new RegExp(`^\\s+${command}\\b`, 'm'), `${name} mentions "bnlab ${command}", which --help does not list`);
    }
  }
});
