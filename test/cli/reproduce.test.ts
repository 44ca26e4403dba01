/**
 * @file `bnlab reproduce` end to end on a reduced grid (two configurations, a few hundred steps):
 * records and report are written; a second invocation runs nothing and leaves every record
 * byte-identical; a corrupt record is named and re-run; other settings are refused; a kill -9
 * mid-grid resumes with the finished records untouched; Ctrl-C exits 130 after writing the
 * report; bad flags are one-line errors with exit code 2; runs go longest recorded first, and the
 * report drawn while the last runs train is the one drawn afterwards.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { writeReport } from '../../src/cli/commands/report.js';
import { type RawReproduceOptions, reproduce, reproducePlan } from '../../src/cli/commands/reproduce.js';
import { UsageError } from '../../src/cli/errors.js';
import { parseRunRecord, runRecordJson } from '../../src/lab/report/run-record.js';
import { RunStore, RunStoreError } from '../../src/node/run-store.js';
import { BNLAB_BIN } from './run-cli.js';
import { quietIo } from './sweep-io.js';

const entry = BNLAB_BIN; // the real command, as a user runs it

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bnlab-reproduce-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function recordBytes(runsDir: string): Promise<Map<string, string>> {
  const folder = join(runsDir, 'runs');
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  return new Map(await Promise.all(names.map(async (name): Promise<[string, string]> => [name, await readFile(join(folder, name), 'utf8')])));
}

describe('flags', () => {
  const usage = (raw: RawReproduceOptions, pattern: RegExp) =>
    assert.rejects(reproducePlan(raw), (error: Error) => error instanceof UsageError && pattern.test(error.message));

  test("defaults are the article's grid: 8 configurations, 50,000 steps, batch 60, validation every 500, 1 seed", async () => {
    const plan = await reproducePlan({});
    assert.equal(plan.runs.length, 16);
    assert.deepEqual(new Set(plan.runs.map((run) => run.id.split('-')[0])), new Set(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']));
    assert.deepEqual(plan.pinned, { steps: 50_000, batchSize: 60, validateEvery: 500 });
    assert.ok(plan.runs.every((run) => run.seed === 1 && run.config.steps === 50_000 && run.config.batchSize === 60));
    assert.ok(plan.jobs >= 1);
    assert.equal(plan.runsDir, 'bnlab-runs');
    assert.equal((await reproducePlan({ quick: true })).pinned.steps, 3000);
  });

  test('bad values are one-line usage errors', async () => {
    await usage({ configs: '9' }, /^unknown configuration 9; the article's configurations are 1-8$/);
    await usage({ configs: '1,0' }, /^unknown configuration 0;/);
    await usage({ configs: '1,x' }, /--configs must be a comma-separated list/);
    await usage({ seeds: '0' }, /^--seeds must be a whole number of at least 1, got 0$/);
    await usage({ jobs: '0' }, /^--jobs must be a whole number of at least 1, got 0$/);
    await usage({ steps: '-5' }, /--steps must be a whole number of at least 1/);
    await usage({ quick: true, steps: '100' }, /--quick and --steps cannot be used together/);
    await usage({ backend: 'gpu' }, /--backend must be one of js, wasm, auto/);
    assert.deepEqual(
      new Set((await reproducePlan({ configs: '8,3,3' })).runs.map((run) => run.id)),
      new Set(['c3-nobn-s1', 'c3-bn-s1', 'c8-nobn-s1', 'c8-bn-s1']),
    );
  });

  test('the CLI ends bad input with one line on stderr and exit code 2', async () => {
    const result = await runChild(['reproduce', '--configs', '9', '--runs-dir', join(root, 'r')]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "bnlab: unknown configuration 9; the article's configurations are 1-8\n");
    await writeFile(join(root, 'foreign.txt'), 'not bnlab');
    const foreign = await runChild(['reproduce', '--configs', '1', '--steps', '10', '--runs-dir', root]);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /^bnlab: --runs-dir .* is not a bnlab runs dir .*\n$/);
  });
});

describe('a reduced grid, in process', () => {
  test('runs, records, reports; a second invocation runs nothing and rewrites nothing; a corrupt record is re-run', async () => {
    const runsDir = join(root, 'grid');
    const raw: RawReproduceOptions = { configs: '1,3', steps: '200', validateEvery: '100', jobs: '2', runsDir, backend: 'auto' };
    const first = await reproduce(await reproducePlan(raw), quietIo());
    assert.equal(first.finished, 4);
    assert.equal(first.interrupted, false);
    const bytes = await recordBytes(runsDir);
    assert.deepEqual([...bytes.keys()], ['c1-bn-s1.json', 'c1-nobn-s1.json', 'c3-bn-s1.json', 'c3-nobn-s1.json']);
    for (const [name, text] of bytes) {
      const record = parseRunRecord(text, name.replace('.json', ''));
      assert.equal(record.steps, 200);
      assert.deepEqual(
        record.curve.map((point) => point.step),
        [0, 100, 200],
      );
      assert.ok(record.stepsPerSecond > 0 && record.durationMs > 0);
    }
    // Same std (0.05) and seed: the without-BN networks of configurations 1 and 3 start equal, so they score equal at step 0.
    const c1 = parseRunRecord(bytes.get('c1-nobn-s1.json')!, 'c1-nobn-s1');
    const c3 = parseRunRecord(bytes.get('c3-nobn-s1.json')!, 'c3-nobn-s1');
    assert.equal(c1.curve[0]!.validationAccuracy, c3.curve[0]!.validationAccuracy);
    const markdown = await readFile(first.report.markdownPath, 'utf8');
    assert.match(markdown, /Runs: 4 finished/);
    assert.ok(markdown.includes('(0.9774) not compared'), "the article's figures stand beside bnlab's");

    const mtimes = await Promise.all([...bytes.keys()].map(async (name) => (await stat(join(runsDir, 'runs', name))).mtimeMs));
    const second = await reproduce(await reproducePlan(raw), quietIo());
    assert.equal(second.skipped, 4);
    assert.equal(second.finished, 0);
    assert.deepEqual(await recordBytes(runsDir), bytes, 'finished records are byte-identical');
    assert.deepEqual(await Promise.all([...bytes.keys()].map(async (name) => (await stat(join(runsDir, 'runs', name))).mtimeMs)), mtimes, 'and not rewritten');

    await writeFile(join(runsDir, 'runs', 'c3-bn-s1.json'), '{"format": "bnlab-run/1", "id": ');
    const io = quietIo();
    const third = await reproduce(await reproducePlan(raw), io);
    assert.equal(third.finished, 1);
    assert.match(io.err.text(), /^bnlab: run c3-bn-s1: record is not usable \(not valid JSON: .*\), running it again$/m);
    const after = await recordBytes(runsDir);
    assert.equal(after.get('c1-bn-s1.json'), bytes.get('c1-bn-s1.json'));
    parseRunRecord(after.get('c3-bn-s1.json')!, 'c3-bn-s1');

    await assert.rejects(
      reproduce(await reproducePlan({ ...raw, steps: '300' }), quietIo()),
      (error: Error) => error instanceof RunStoreError && /--force/.test(error.message),
    );
  });
});

describe('the order of the runs and the report drawn while the last ones train', () => {
  test('with --force the runs go longest recorded first, to the same numbers; the report is the one drawn from the records afterwards, byte for byte', async () => {
    const runsDir = join(root, 'order');
    const raw: RawReproduceOptions = { configs: '1,3', steps: '200', validateEvery: '100', jobs: '2', runsDir, backend: 'auto' };
    const first = await reproduce(await reproducePlan(raw), quietIo());
    assert.equal(first.finished, 4);
    const before = await recordBytes(runsDir);
    // What the records say each run took: the next session orders by it.
    const took = new Map([
      ['c1-nobn-s1', 100],
      ['c1-bn-s1', 5000],
      ['c3-nobn-s1', 1000],
      ['c3-bn-s1', 9000],
    ]);
    for (const [id, durationMs] of took) {
      const record = parseRunRecord(before.get(`${id}.json`)!, id);
      await writeFile(join(runsDir, 'runs', `${id}.json`), runRecordJson({ ...record, durationMs }));
    }
    const io = quietIo();
    const forced = await reproduce(await reproducePlan({ ...raw, jobs: '1', force: true }), io);
    assert.equal(forced.finished, 4);
    assert.deepEqual(
      [...io.err.text().matchAll(/^started (\S+) /gm)].map((match) => match[1]),
      ['c3-bn-s1', 'c1-bn-s1', 'c3-nobn-s1', 'c1-nobn-s1'],
    );
    const after = await recordBytes(runsDir);
    const numbers = (text: string, id: string) => {
      const { durationMs: _d, stepsPerSecond: _s, finishedAt: _f, ...rest } = parseRunRecord(text, id);
      return rest;
    };
    for (const id of took.keys()) assert.deepEqual(numbers(after.get(`${id}.json`)!, id), numbers(before.get(`${id}.json`)!, id), `${id}: the same numbers`);

    // A third session on two threads (one is free while the other trains its last run: charts are drawn then).
    const third = await reproduce(await reproducePlan({ ...raw, force: true }), quietIo());
    assert.equal(third.finished, 4);
    const reportDir = join(runsDir, 'report');
    const names = (await readdir(reportDir)).sort();
    const written = new Map(await Promise.all(names.map(async (name): Promise<[string, Buffer]> => [name, await readFile(join(reportDir, name))])));
    await writeReport(await RunStore.openExisting(runsDir), quietIo().err);
    for (const name of names) assert.deepEqual(await readFile(join(reportDir, name)), written.get(name), `${name}: byte-identical`);
  });
});

describe("--norms: other norms beside the article's two", () => {
  test("adds runs of each norm to a runs dir, leaves the article's runs alone, and reports them beside none and bn", async () => {
    const runsDir = join(root, 'norms');
    const raw: RawReproduceOptions = { configs: '1', steps: '200', validateEvery: '100', jobs: '2', runsDir, backend: 'auto' };
    await reproduce(await reproducePlan(raw), quietIo());
    const article = await recordBytes(runsDir);
    const plan = await reproducePlan({ ...raw, norms: 'none,bn,ln,gn' });
    assert.deepEqual(
      plan.runs.map((run) => run.id),
      ['c1-nobn-s1', 'c1-bn-s1', 'c1-ln-s1', 'c1-gn-s1'],
    );
    assert.match(plan.describeRuns, /^4 runs \(1 configuration × 4 norms \(none, bn, ln, gn\) × 1 seed\)/);
    const outcome = await reproduce(plan, quietIo());
    assert.equal(outcome.skipped, 2, 'none and bn were recorded already');
    assert.equal(outcome.finished, 2);
    const bytes = await recordBytes(runsDir);
    for (const name of article.keys()) assert.equal(bytes.get(name), article.get(name), `${name} untouched`);
    const ln = parseRunRecord(bytes.get('c1-ln-s1.json')!, 'c1-ln-s1');
    const gn = parseRunRecord(bytes.get('c1-gn-s1.json')!, 'c1-gn-s1');
    assert.equal(ln.config.norm, 'ln');
    assert.equal(gn.config.norm, 'gn');
    assert.equal(gn.config.initStd, 0.05);

    const markdown = await readFile(outcome.report.markdownPath, 'utf8');
    assert.match(markdown, /## Beside them: the other norms/);
    assert.ok(
      markdown.includes(
        `| 1 | **${ln.validation.accuracy.toFixed(4)}**; last half ${ln.lastHalfValidation.toFixed(4)} | **${ln.test.accuracy.toFixed(4)}** | **${gn.validation.accuracy.toFixed(4)}**`,
      ),
      "LN and GN cells hold their records' figures",
    );
    assert.match(markdown, /^0 of 4 cells agree/m, 'only none and bn have cells with verdicts');
    const csv = (await readFile(join(runsDir, 'report', 'report.csv'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    const row = Object.fromEntries(csv[0]!.map((name, i) => [name, csv[1]![i]]));
    assert.equal(row.bnlab_ln_val_acc, ln.validation.accuracy.toFixed(4));
    assert.equal(row.bnlab_gn_test_acc, gn.test.accuracy.toFixed(4));
  });

  test("the norms' own flags: fixed for every run and named in the report; a bad one is one line, exit 2", async () => {
    const runsDir = join(root, 'norm-flags');
    const common = ['reproduce', '--steps', '100', '--validate-every', '100', '--configs', '1', '--jobs', '1', '--runs-dir', runsDir];
    const good = await runChild([...common, '--norms', 'none,bn,gn', '--norm-groups', '16', '--norm-placement', 'post']);
    assert.equal(good.code, 0, good.stderr);
    const gn = parseRunRecord(await readFile(join(runsDir, 'runs', 'c1-gn-s1.json'), 'utf8'), 'c1-gn-s1');
    const bn = parseRunRecord(await readFile(join(runsDir, 'runs', 'c1-bn-s1.json'), 'utf8'), 'c1-bn-s1');
    assert.equal(gn.config.normGroups, 16);
    assert.equal(gn.config.normPlacement, 'post');
    assert.equal(bn.config.normPlacement, 'post');
    const markdown = await readFile(join(runsDir, 'report', 'report.md'), 'utf8');
    assert.match(markdown, /the norms' settings: --norm-groups 16, --norm-placement post;/);

    for (const [args, pattern] of [
      [['--norms', 'none,gn', '--norm-groups', '7'], /^bnlab: --norm-groups 7 does not divide the hidden layer width 128/],
      [['--ghost-batch', '20'], /^bnlab: --ghost-batch applies to Ghost BN only/],
    ] as const) {
      const bad = await runChild([...common.slice(0, -1), join(root, 'never'), ...args]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, pattern);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.ok(!existsSync(join(root, 'never')), 'nothing written');
    }
  });

  test('an unknown or repeated norm is a usage error naming it', async () => {
    await assert.rejects(
      reproducePlan({ norms: 'bn,xn' }),
      (error: Error) => error instanceof UsageError && /--norms/.test(error.message) && /xn/.test(error.message),
    );
    await assert.rejects(reproducePlan({ norms: 'ln,ln' }), (error: Error) => error instanceof UsageError && /--norms lists ln twice/.test(error.message));
  });
});

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(args: string[], whileRunning?: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<ChildResult> {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<ChildResult>((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal, stdout, stderr })));
  if (whileRunning)
    void whileRunning(child).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
  return exited.then((result) => ({ ...result, stdout, stderr }));
}

/** Resolves once `runsDir/runs` holds at least `count` records. */
async function waitForRecords(runsDir: string, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const folder = join(runsDir, 'runs');
    if (existsSync(folder) && (await readdir(folder)).filter((name) => /^c\d.*\.json$/.test(name)).length >= count) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
  throw new Error(`no ${count} records in ${runsDir} after ${timeoutMs} ms`);
}

describe('interruptions, in a child process', () => {
  test('kill -9 mid-grid: the rerun keeps finished records byte-identical and completes the rest', async () => {
    const runsDir = join(root, 'killed');
    const args = ['reproduce', '--configs', '1,2', '--steps', '1500', '--validate-every', '500', '--jobs', '1', '--runs-dir', runsDir];
    const killed = await runChild(args, async (child) => {
      await waitForRecords(runsDir, 1);
      child.kill('SIGKILL');
    });
    assert.equal(killed.signal, 'SIGKILL');
    const before = await recordBytes(runsDir);
    assert.ok(before.size >= 1 && before.size < 4, `${before.size} records when killed`);

    const resumed = await runChild(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`${before.size} finished already, ${4 - before.size} to run`));
    const after = await recordBytes(runsDir);
    assert.equal(after.size, 4);
    for (const [name, text] of before) assert.equal(after.get(name), text, `${name} is byte-identical`);
    assert.ok(existsSync(join(runsDir, 'report', 'report.html')));
  });

  test('Ctrl-C: workers stop, unfinished runs are not recorded, the report is written, exit code 130', async () => {
    const runsDir = join(root, 'interrupted');
    const args = ['reproduce', '--configs', '4,8', '--steps', '1500', '--validate-every', '500', '--jobs', '1', '--runs-dir', runsDir];
    const result = await runChild(args, async (child) => {
      await waitForRecords(runsDir, 1);
      child.kill('SIGINT');
    });
    assert.equal(result.code, 130, result.stderr);
    const records = await recordBytes(runsDir);
    assert.ok(records.size >= 1 && records.size < 4);
    const markdown = await readFile(join(runsDir, 'report', 'report.md'), 'utf8');
    assert.match(markdown, new RegExp(`Runs: ${records.size} finished`));
    const manifest = JSON.parse(await readFile(join(runsDir, 'bnlab-runs.json'), 'utf8')) as {
      sessions: Array<{ interrupted: boolean; runsFinished: number }>;
    };
    assert.deepEqual(
      manifest.sessions.map((s) => [s.interrupted, s.runsFinished]),
      [[true, records.size]],
    );
    assert.match(result.stdout, /Interrupted: .* not run \(run the same command again to resume\)/);
  });
});
