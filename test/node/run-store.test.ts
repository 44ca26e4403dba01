/**
 * @file The run store (src/node/run-store.ts) on real folders: a new runs dir gets its manifest;
 * a foreign folder, a file and a runs dir of other settings are refused with messages that say
 * what to do; --force replaces the old runs; records round-trip, a corrupt one is named; and the
 * report (cli/commands/report.ts) builds from a runs dir of hand-written records, the same to the
 * byte when some of its charts were rendered ahead.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ChartCache, prerenderCharts, writeReport } from '../../src/cli/commands/report.js';
import { ARTICLE_RESULTS } from '../../src/lab/article.js';
import { runRecordJson } from '../../src/lab/report/run-record.js';
import { MANIFEST_NAME, RunStore, RunStoreError } from '../../src/node/run-store.js';
import { FIXTURE_SETTINGS, fixtureRecord } from '../lab/run-record-fixture.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bnlab-run-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const open = (dir: string, settings = FIXTURE_SETTINGS, force = false) => RunStore.open(dir, { sweep: 'article', pinned: settings, dataDir: null, force });

function collect(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: () => string };
  stream.text = () => chunks.join('');
  return stream;
}

describe('opening a runs dir', () => {
  test('a new folder gets a manifest pinning the settings', async () => {
    const dir = join(root, 'new', 'runs');
    const store = await open(dir);
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_NAME), 'utf8'));
    assert.equal(manifest.format, 'bnlab-runs/2');
    assert.equal(manifest.sweep, 'article');
    assert.deepEqual(manifest.pinned, FIXTURE_SETTINGS);
    assert.deepEqual(store.manifest.pinned, FIXTURE_SETTINGS);
    assert.ok(existsSync(join(dir, 'runs')));
  });

  test('an empty existing folder is taken', async () => {
    await open(root);
    assert.ok(existsSync(join(root, MANIFEST_NAME)));
  });

  test('a folder with other files and no manifest is refused', async () => {
    await writeFile(join(root, 'thesis.tex'), 'mine');
    await assert.rejects(
      open(root),
      (error: Error) => error instanceof RunStoreError && /is not a bnlab runs dir/.test(error.message) && /bnlab-runs\.json/.test(error.message),
    );
    assert.deepEqual(await readdir(root), ['thesis.tex'], 'nothing written into a foreign folder');
  });

  test('a file, or a path inside a file, is refused', async () => {
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await assert.rejects(open(file), /is a file, not a folder/);
    await assert.rejects(open(join(file, 'runs')), /inside a file/);
  });

  test('a damaged manifest is refused', async () => {
    await writeFile(join(root, MANIFEST_NAME), '{"format": "something else"}');
    await assert.rejects(open(root), /damaged or not bnlab's/);
  });

  test('other settings are refused, naming both and suggesting --force or another --runs-dir', async () => {
    const store = await open(root);
    await store.writeRecord(fixtureRecord(1, true, 1, 0.98, 0.98));
    const other = { ...FIXTURE_SETTINGS, steps: 3000 };
    await assert.rejects(
      open(root, other),
      (error: Error) =>
        error instanceof RunStoreError &&
        /steps 50000/.test(error.message) &&
        /steps 3000/.test(error.message) &&
        /--force/.test(error.message) &&
        /another --runs-dir/.test(error.message),
    );
    const replaced = await open(root, other, true);
    assert.deepEqual(replaced.manifest.pinned, other);
    assert.deepEqual((await replaced.listRuns()).records, [], '--force deleted the runs of the old settings');
  });

  test('bnlab report on a folder that is not a runs dir is refused', async () => {
    await assert.rejects(RunStore.openExisting(join(root, 'missing')), /does not exist/);
    await assert.rejects(RunStore.openExisting(root), /holds no bnlab runs \(it is empty\)/);
    await writeFile(join(root, 'x.txt'), 'x');
    await assert.rejects(RunStore.openExisting(root), /is not a bnlab runs dir/);
  });
});

describe('a runs dir that tripped over its own manifest', () => {
  test('a manifest without records is no obstacle: a first command that failed (a mistyped --data-dir) does not pin the next one', async () => {
    await RunStore.open(root, { sweep: 'article', pinned: FIXTURE_SETTINGS, dataDir: join(root, 'typo'), force: false });
    const corrected = await open(root, { ...FIXTURE_SETTINGS, steps: 3000 });
    assert.equal(corrected.manifest.dataDir, null);
    assert.equal(corrected.manifest.pinned.steps, 3000);
  });

  test('a deleted manifest is rebuilt from the records, which keep counting as finished, and the rebuild is said', async () => {
    const store = await open(root);
    await store.writeRecord(fixtureRecord(1, true, 1, 0.98, 0.98));
    await store.writeRecord(fixtureRecord(1, false, 1, 0.97, 0.97));
    await rm(join(root, MANIFEST_NAME));
    const notes: string[] = [];
    const reopened = await RunStore.open(root, { sweep: 'article', pinned: FIXTURE_SETTINGS, dataDir: null, force: false, onNote: (text) => notes.push(text) });
    assert.deepEqual(reopened.manifest.pinned, FIXTURE_SETTINGS);
    assert.equal((await reopened.readRun('c1-bn-s1')).kind, 'finished');
    assert.match(notes.join('\n'), /had no bnlab-runs\.json; rebuilt it from 2 records \(sweep article \(steps 50000, batchSize 60, learningRate 0.01/);
    assert.ok(existsSync(join(root, MANIFEST_NAME)), 'written back');
    await rm(join(root, MANIFEST_NAME));
    assert.equal((await RunStore.openExisting(root)).manifest.pinned.steps, FIXTURE_SETTINGS.steps, 'bnlab report rebuilds it too');
  });

  test('records of different sweeps cannot be pinned to one manifest: refused, naming two of them', async () => {
    const store = await open(root);
    await store.writeRecord(fixtureRecord(1, true, 1, 0.98, 0.98));
    await store.writeRecord(fixtureRecord(2, true, 1, 0.97, 0.97, { sweep: 'other' }));
    await rm(join(root, MANIFEST_NAME));
    await assert.rejects(open(root), /has no bnlab-runs\.json and its records disagree \(c1-bn-s1: sweep article.*c2-bn-s1: sweep other/);
  });

  test('a rebuilt manifest pins what its records share, and a sweep that fixes fewer of those settings opens it', async () => {
    const store = await open(root);
    await store.writeRecord(fixtureRecord(1, true, 1, 0.98, 0.98));
    await store.writeRecord(fixtureRecord(5, true, 1, 0.97, 0.97));
    await rm(join(root, MANIFEST_NAME));
    const rebuilt = await RunStore.openExisting(root);
    assert.equal(rebuilt.manifest.rebuilt, true);
    assert.equal(rebuilt.manifest.pinned.learningRate, 0.01, 'both records have lr 0.01: pinned');
    assert.equal(rebuilt.manifest.pinned.initStd, undefined, 'their stds differ: not pinned');
    const reopened = await open(root);
    assert.deepEqual(reopened.manifest.pinned, FIXTURE_SETTINGS, 'pinned again as the sweep fixes them');
    assert.equal(reopened.manifest.rebuilt, undefined);
    assert.equal((await reopened.listRuns()).records.length, 2);
  });

  test('a folder where a record belongs stops the grid before any run, naming it', async () => {
    const store = await open(root);
    await mkdir(store.recordPath('c1-bn-s1'));
    await assert.rejects(
      store.readRun('c1-bn-s1'),
      (error: Error) => error instanceof RunStoreError && /c1-bn-s1\.json is a folder where run c1-bn-s1's record belongs: remove it/.test(error.message),
    );
  });
});

describe('records', () => {
  test('written, read back, listed; stale temporary files are cleared on open', async () => {
    const store = await open(root);
    const record = fixtureRecord(3, false, 1, 0.0958, 0.098, { divergedAtStep: 55 });
    const path = await store.writeRecord(record);
    assert.equal(await readFile(path, 'utf8'), runRecordJson(record));
    const stored = await store.readRun('c3-nobn-s1');
    assert.equal(stored.kind, 'finished');
    assert.deepEqual(stored.kind === 'finished' && stored.record.divergedAtStep, 55);
    assert.deepEqual(await store.readRun('c3-bn-s1'), { kind: 'missing' });
    await writeFile(join(root, 'runs', '.c3-bn-s1.json.123.abcdef.tmp'), '{"half');
    await open(root);
    assert.deepEqual(await readdir(join(root, 'runs')), ['c3-nobn-s1.json']);
  });

  test('corrupt records are named with the reason and left out', async () => {
    const store = await open(root);
    await writeFile(store.recordPath('c1-bn-s1'), '{"format": "bnlab-run/1", "id": "c1-bn-s1"');
    await writeFile(store.recordPath('c2-bn-s1'), runRecordJson(fixtureRecord(2, true, 1, 0.97, 0.97, { settings: { ...FIXTURE_SETTINGS, steps: 10 } })));
    await writeFile(join(root, 'runs', 'notes.json'), '{}');
    const bad = await store.readRun('c1-bn-s1');
    assert.ok(bad.kind === 'corrupt' && /not valid JSON/.test(bad.reason));
    const otherSettings = await store.readRun('c2-bn-s1');
    assert.ok(otherSettings.kind === 'corrupt' && /not made with this runs dir's steps 50000/.test(otherSettings.reason));
    const { records, problems } = await store.listRuns();
    assert.equal(records.length, 0);
    assert.equal(problems.length, 3);
  });
});

describe('the report from a runs dir of hand-written records', () => {
  test("writes Markdown, CSV, HTML and charts holding the article's figures and the verdicts", async () => {
    const store = await open(root);
    for (const id of [1, 3] as const) {
      const figures = ARTICLE_RESULTS[id - 1]!;
      await store.writeRecord(fixtureRecord(id, false, 1, figures.withoutBn.validation, figures.withoutBn.test));
      await store.writeRecord(fixtureRecord(id, true, 1, id === 3 ? 0.9 : figures.withBn.validation, figures.withBn.test));
    }
    await store.addSession({ startedAt: '2026-01-01T00:00:00Z', wallMs: 90_000, jobs: 2, runsFinished: 4, interrupted: false });
    const stderr = collect();
    const written = await writeReport(store, stderr);
    assert.equal(stderr.text(), '');
    const markdown = await readFile(written.markdownPath, 'utf8');
    assert.ok(markdown.includes('**0.9774** (0.9774) agrees'));
    assert.ok(markdown.includes('**0.1126** (0.1126) agrees (both fail)'));
    assert.ok(markdown.includes('**0.9000** (0.9846) differs (−0.0846)'));
    assert.match(markdown, /Grid wall time: 1 min 30 s in one session/);
    const html = await readFile(written.htmlPath, 'utf8');
    assert.equal((html.match(/<svg[\s>]/g) ?? []).length, 3, 'overview + two configurations inlined');
    const files = (await readdir(store.reportDir)).sort();
    assert.deepEqual(files, [
      'model-1.png',
      'model-1.svg',
      'model-3.png',
      'model-3.svg',
      'overview.png',
      'overview.svg',
      'report.csv',
      'report.html',
      'report.md',
    ]);
    const png = await readFile(join(store.reportDir, 'overview.png'));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
  });

  test('an empty runs dir still gets a report (no charts)', async () => {
    const store = await open(root);
    const written = await writeReport(store, collect());
    assert.deepEqual(written.chartPaths, []);
    assert.match(await readFile(written.markdownPath, 'utf8'), /Runs: 0 finished/);
  });

  test('corrupt records are reported on stderr and left out', async () => {
    const store = await open(root);
    await mkdir(join(root, 'runs'), { recursive: true });
    await writeFile(store.recordPath('c4-bn-s1'), 'not json');
    const stderr = collect();
    await writeReport(store, stderr);
    assert.match(stderr.text(), /run c4-bn-s1: record is corrupt \(not valid JSON/);
  });

  test('charts rendered ahead while runs were missing: those whose spec is unchanged are reused, the files are byte-identical to a report rendered at once', async () => {
    const ahead = await open(join(root, 'ahead'));
    const atOnce = await open(join(root, 'at-once'));
    const records = [1, 3, 3].map((id, i) => fixtureRecord(id as 1 | 3, i === 2, 1, 0.9 + i / 100, 0.89 + i / 100));
    await ahead.writeRecord(records[0]!);
    const cache = new ChartCache();
    await prerenderCharts(ahead, cache, { metric: 'final', cancelled: () => false });
    assert.equal(cache.rendered, 2, 'the overview and model 1, as they are now');
    for (const record of records.slice(1)) await ahead.writeRecord(record);
    for (const record of records) await atOnce.writeRecord(record);
    const fromCache = await writeReport(ahead, collect(), { metric: 'final', charts: cache });
    assert.equal(cache.rendered, 4, 'model 1 reused; the overview (it shows model 3 now) and model 3 rendered');
    await writeReport(atOnce, collect());
    const names = (await readdir(ahead.reportDir)).sort();
    assert.deepEqual(names, (await readdir(atOnce.reportDir)).sort());
    assert.equal(fromCache.chartPaths.length, 6);
    for (const name of names) {
      assert.deepEqual(await readFile(join(ahead.reportDir, name)), await readFile(join(atOnce.reportDir, name)), `${name}: the same bytes`);
    }
    let asked = 0;
    await prerenderCharts(ahead, cache, {
      metric: 'final',
      cancelled: () => {
        asked++;
        return asked > 1;
      },
    });
    assert.equal(cache.rendered, 4, 'nothing changed, nothing rendered; a cancelled pass stops between charts');
  });
});
