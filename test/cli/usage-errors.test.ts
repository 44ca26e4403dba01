/**
 * @file Usage errors are one line that starts with the command's name and says what to do, exit
 * code 2: a mistyped command is named as one (with the nearest command), not as an unknown
 * option after it; commander's own errors inside a subcommand read like bnlab's.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { editDistance, nearestWord } from '../../src/cli/suggest.js';
import { runCli } from './run-cli.js';

describe('usage errors: one line, exit code 2', () => {
  const cases: Array<[string[], string]> = [
    [
      ['trian', '--steps', '10'],
      "bnlab: unknown command 'trian' (did you mean train?); the commands are train, compare, eval, reproduce, sweep, worker, report, explain, serve",
    ],
    [
      ['explian'],
      "bnlab: unknown command 'explian' (did you mean explain?); the commands are train, compare, eval, reproduce, sweep, worker, report, explain, serve",
    ],
    [['fit'], "bnlab: unknown command 'fit'; the commands are train, compare, eval, reproduce, sweep, worker, report, explain, serve"],
    [['--steps', '10'], "bnlab: unknown option '--steps': options go after a command (bnlab train --steps …); bnlab --help lists the commands"],
    [['train', '--step', '10'], "bnlab train: unknown option '--step' (Did you mean --steps?) (bnlab train --help shows the usage)"],
    [['compare', '--lr'], "bnlab compare: option '--lr <number>' argument missing (bnlab compare --help shows the usage)"],
    [['eval'], "bnlab eval: missing required argument 'checkpoint' (bnlab eval --help shows the usage)"],
  ];
  for (const [args, line] of cases) {
    test(args.join(' '), async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `${line}\n`);
      assert.equal(result.stdout, '');
    });
  }
});

test('reproduce refuses more workers than cores, and seeds past 1,000, before it touches the runs dir', async () => {
  const cores = availableParallelism();
  const runsDir = join(tmpdir(), `bnlab-never-made-${process.pid}`);
  const jobs = await runCli(['reproduce', '--jobs', String(cores + 1), '--runs-dir', runsDir]);
  assert.equal(jobs.code, 2);
  assert.equal(
    jobs.stderr,
    `bnlab: --jobs ${cores + 1} is more than the ${cores} core${cores === 1 ? '' : 's'} here: extra workers would only share them; use --jobs ${cores} or fewer\n`,
  );
  const seeds = await runCli(['reproduce', '--seeds', '100000', '--runs-dir', runsDir]);
  assert.equal(seeds.code, 2);
  assert.equal(seeds.stderr, 'bnlab: --seeds must be at most 1000, got 100000\n');
  assert.ok(!existsSync(runsDir), 'no runs dir was made');
});

test('BNLAB_NATIVE other than off or avx2 is refused before any work, in one line', async () => {
  const result = await runCli(['train', '--steps', '10'], { env: { BNLAB_NATIVE: 'avx512' } });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'bnlab: BNLAB_NATIVE=avx512 is not a choice: use off (the wasm kernels alone) or avx2 (the 256-bit native kernels where AVX-512 runs too), or unset it\n',
  );
  assert.equal(result.stdout, '');
});

test('the nearest command: edit distance with swaps, within two edits and a third of the word', () => {
  assert.equal(editDistance('trian', 'train'), 1, 'a swap of neighbours is one edit');
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(nearestWord('comapre', ['train', 'compare']), 'compare');
  assert.equal(nearestWord('tr', ['train']), null, 'three edits away');
  assert.equal(nearestWord('TRAIN', ['train']), 'train');
});
