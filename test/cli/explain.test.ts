/**
 * @file `bnlab explain` end to end, in process: two quick claims write their figures, report.md
 * with both sections, a self-contained report.html and explain.json; --list names every claim;
 * an unknown claim is a UsageError that lists the known ones.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainCommand } from '../../src/cli/commands/explain.js';
import { CLAIM_NAMES } from '../../src/lab/claims/index.js';

/** Runs `bnlab explain …args` and returns what it printed on stdout. */
async function explain(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await explainCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return chunks.join('');
}

test('explain worked-example bias-redundancy --quick writes figures and a report with both sections', async () => {
  const out = await mkdtemp(join(tmpdir(), 'bnlab-explain-'));
  try {
    const printed = await explain(['worked-example', 'bias-redundancy', '--quick', '--out', out, '--backend', 'js']);
    assert.match(printed, /✔ worked-example: matches the article/);
    assert.match(printed, /✔ bias-redundancy: holds/);
    for (const file of ['worked-example-feature1.svg', 'worked-example-feature1.png', 'bias-redundancy-gradients.svg', 'bias-redundancy-gradients.png']) {
      assert.ok((await stat(join(out, file))).size > 1000, `${file} written`);
    }
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    assert.match(markdown, /\(`worked-example`\)/);
    assert.match(markdown, /\(`bias-redundancy`\)/);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.equal(html.match(/<svg/g)?.length, 2, 'both SVGs inlined');
    const record = JSON.parse(await readFile(join(out, 'explain.json'), 'utf8')) as { claims: Array<{ name: string; verdict: { holds: boolean } }> };
    assert.deepEqual(
      record.claims.map((c) => [c.name, c.verdict.holds]),
      [
        ['worked-example', true],
        ['bias-redundancy', true],
      ],
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('explain --list names every claim', async () => {
  const printed = await explain(['--list']);
  for (const name of CLAIM_NAMES) assert.match(printed, new RegExp(`^${name} `, 'm'));
});

test('explain with an unknown claim is a UsageError listing the known ones', async () => {
  await assert.rejects(
    explain(['no-such-claim']),
    (error: Error) => error.name === 'UsageError' && /no-such-claim/.test(error.message) && error.message.includes(CLAIM_NAMES.join(', ')),
  );
});
