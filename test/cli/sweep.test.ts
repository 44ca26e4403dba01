/**
 * @file `bnlab sweep` end to end on a small spec (2 norms × 2 batch sizes × 2 seeds, 120 steps):
 * --dry-run lists the runs and what is finished without writing; the sweep records every run with
 * its axes and last-half mean; a second invocation runs nothing; the same spec in another runs
 * dir on one thread gives the same numbers; other fixed settings are refused (--force replaces);
 * a bad spec is one line and exit 2, as a user runs it.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { dryRun, sweep, sweepPlan } from '../../src/cli/commands/sweep.js';
import { parseRunRecord } from '../../src/lab/report/run-record.js';
import { RunStoreError } from '../../src/node/run-store.js';
import { runCli } from './run-cli.js';
import { collect, quietIo } from './sweep-io.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bnlab-sweep-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const SPEC = `name: tiny
seeds: 2
fixed: { steps: 120, validateEvery: 40, learningRate: 0.1, hiddenSizes: [32, 32] }
axes:
  norm: [none, bn]
  batchSize: [16, 48]
`;

async function records(runsDir: string): Promise<Map<string, string>> {
  const names = (await readdir(join(runsDir, 'runs'))).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  return new Map(await Promise.all(names.map(async (name): Promise<[string, string]> => [name, await readFile(join(runsDir, 'runs', name), 'utf8')])));
}

describe('a small sweep, in process', () => {
  test('dry run, run, resume, the same numbers elsewhere, pinned settings', async () => {
    const specPath = join(root, 'tiny.yaml');
    await writeFile(specPath, SPEC);
    const runsDir = join(root, 'runs-a');
    const plan = await sweepPlan(specPath, { runsDir, jobs: '2' });
    assert.equal(plan.runs.length, 8);

    const listing = collect();
    assert.deepEqual(await dryRun(plan, listing), { finished: 0, toRun: 8 });
    assert.match(
      listing.text(),
      /^bnlab sweep --dry-run: 8 runs \(2 norm × 2 batchSize × 2 seeds; fixed: steps 120, validateEvery 40, learningRate 0.1, hiddenSizes 32,32\), in /,
    );
    assert.match(listing.text(), /^ {2}bn-b48-s2 +to run$/m);
    assert.equal(existsSync(runsDir), false, 'a dry run writes nothing');

    const first = await sweep(plan, quietIo());
    assert.equal(first.finished, 8);
    const bytes = await records(runsDir);
    assert.deepEqual(
      [...bytes.keys()],
      ['bn-b16-s1.json', 'bn-b16-s2.json', 'bn-b48-s1.json', 'bn-b48-s2.json', 'none-b16-s1.json', 'none-b16-s2.json', 'none-b48-s1.json', 'none-b48-s2.json'],
    );
    const record = parseRunRecord(bytes.get('bn-b48-s2.json')!, 'bn-b48-s2');
    assert.equal(record.sweep, 'tiny');
    assert.deepEqual(record.axes, [
      { axis: 'norm', label: 'bn', numeric: null },
      { axis: 'batchSize', label: 'b48', numeric: 48 },
    ]);
    assert.equal(record.config.batchSize, 48);
    assert.equal(record.config.batchNorm, true);
    assert.equal(record.seed, 2);
    assert.deepEqual(
      record.curve.map((point) => point.step),
      [0, 40, 80, 120],
    );
    const halfPoints = record.curve.filter((point) => point.step >= 60);
    assert.equal(record.lastHalfValidation, halfPoints.reduce((sum, point) => sum + point.validationAccuracy, 0) / halfPoints.length);

    // The report drawn for two axes: a ranked table, a heat map and a line per norm against the batch size.
    const markdown = await readFile(first.report.markdownPath, 'utf8');
    assert.match(markdown, /^# bnlab sweep: tiny$/m);
    assert.match(markdown, /^## Ranking by last-half validation accuracy$/m);
    assert.equal(first.report.runs, 8);
    assert.deepEqual(
      first.report.chartPaths
        .map((path) => path.slice(path.lastIndexOf('/') + 1))
        .filter((name) => name.endsWith('.png'))
        .sort(),
      ['curves.png', 'heat-map.png', 'metric-lines.png'],
    );
    const csv = (await readFile(first.report.csvPath, 'utf8')).trim().split('\n');
    assert.equal(csv.length, 1 + 8, 'a header and a row per run');

    const after = collect();
    assert.deepEqual(await dryRun(plan, after), { finished: 8, toRun: 0 });
    assert.match(after.text(), /^ {2}bn-b48-s2 +finished: validation 0\.\d{4}, last half 0\.\d{4}$/m);
    const second = await sweep(plan, quietIo());
    assert.equal(second.skipped, 8);
    assert.equal(second.finished, 0);
    assert.deepEqual(await records(runsDir), bytes, 'finished records are not rewritten');

    // Same spec, same seeds, one thread, another runs dir: the same numbers, run for run.
    const elsewhere = join(root, 'runs-b');
    await sweep(await sweepPlan(specPath, { runsDir: elsewhere, jobs: '1' }), quietIo());
    for (const [name, text] of await records(elsewhere)) {
      const a = parseRunRecord(bytes.get(name)!, name.slice(0, -5));
      const b = parseRunRecord(text, name.slice(0, -5));
      assert.deepEqual([b.curve, b.validation, b.test], [a.curve, a.validation, a.test], name);
    }

    // Other fixed settings on the same runs dir: refused; --force starts over.
    await writeFile(specPath, SPEC.replace('steps: 120', 'steps: 80'));
    await assert.rejects(
      sweep(await sweepPlan(specPath, { runsDir }), quietIo()),
      (error: Error) => error instanceof RunStoreError && /steps 120.*not sweep tiny \(steps 80/.test(error.message) && /--force/.test(error.message),
    );
    const forced = await sweep(await sweepPlan(specPath, { runsDir, force: true }), quietIo());
    assert.equal(forced.finished, 8);
  });
});

describe('the command', () => {
  test('a bad spec, a bad flag: one line on stderr, exit 2, nothing written', async () => {
    const specPath = join(root, 'bad.yaml');
    await writeFile(specPath, 'axes:\n  batchSize: [8, 0]\n');
    const bad = await runCli(['sweep', specPath, '--runs-dir', join(root, 'r')]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, `bnlab: sweep spec ${specPath}: axes.batchSize[1]: batchSize must be a whole number of at least 1, got 0\n`);
    const metric = await runCli(['sweep', specPath, '--metric', 'best']);
    assert.equal(metric.code, 2);
    assert.match(metric.stderr, /^bnlab: --metric must be one of last-half, final, got "?best"?\n$/);
    assert.equal(existsSync(join(root, 'r')), false);
  });
});
