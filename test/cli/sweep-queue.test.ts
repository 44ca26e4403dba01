/**
 * @file A sweep through a real Redis (Debian's redis-server on loopback) with `bnlab worker`
 * processes, as a user runs them: three workers, one killed with kill -9 during a run; every run
 * finishes exactly once in the run store, with the numbers of the same sweep run locally. A
 * coordinator killed and started again collects what the workers finished meanwhile and enqueues
 * only what is missing. The password in the address appears in no output, record or report.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sweep, sweepPlan } from '../../src/cli/commands/sweep.js';
import { parseRunRecord, type RunRecord } from '../../src/lab/report/run-record.js';
import { RunQueue } from '../../src/node/queue/run-queue.js';
import { startBnlab } from '../node-support/bnlab-child.js';
import { freePort, startRedis, type TestRedis } from '../node-support/redis-server.js';
import { runCli } from './run-cli.js';

const PASSWORD = 'hunter2-sweep';
let redis: TestRedis;
let root = '';
let url = '';
let local = new Map<string, RunRecord>();

// 6 runs of a few seconds each: long enough that a worker can be killed in the middle of one.
const SPEC = `name: queued
fixed: { steps: 1500, validateEvery: 500, learningRate: 0.1, hiddenSizes: [64, 64] }
axes:
  norm: [none, bn]
  batchSize: [16, 32, 64]
`;

const quiet = (): Writable =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

async function recordsIn(runsDir: string): Promise<Map<string, RunRecord>> {
  const names = (await readdir(join(runsDir, 'runs'))).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  return new Map(
    await Promise.all(
      names.map(async (name): Promise<[string, RunRecord]> => {
        const id = name.slice(0, -'.json'.length);
        return [id, parseRunRecord(await readFile(join(runsDir, 'runs', name), 'utf8'), id)];
      }),
    ),
  );
}

function assertSameNumbers(records: Map<string, RunRecord>): void {
  assert.deepEqual([...records.keys()].sort(), [...local.keys()].sort());
  for (const [id, record] of records) {
    const mine = local.get(id)!;
    assert.deepEqual(
      [record.curve, record.validation, record.test, record.lastHalfValidation],
      [mine.curve, mine.validation, mine.test, mine.lastHalfValidation],
      `${id}: a worker's numbers are a local run's`,
    );
  }
}

before(async () => {
  redis = await startRedis({ password: PASSWORD });
  url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`;
  root = await mkdtemp(join(tmpdir(), 'bnlab-sweep-queue-'));
  await writeFile(join(root, 'queued.yaml'), SPEC);
  // The same sweep on this process's threads: the numbers every queued run must give.
  const runsDir = join(root, 'local');
  await sweep(await sweepPlan(join(root, 'queued.yaml'), { runsDir }), { stdout: quiet(), stderr: quiet(), watchInterrupt: () => ({ dispose() {} }) });
  local = await recordsIn(runsDir);
  assert.equal(local.size, 6);
});

after(async () => {
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('a sweep on worker processes', () => {
  test("three workers, one killed with -9 during a run: every run recorded once, with a local run's numbers", async (t) => {
    const queueName = 'kill-test';
    const workers = ['a', 'b', 'c'].map(() => startBnlab(t, ['worker', url, '--jobs', '1', '--stall-timeout', '5', '--queue-name', queueName]));
    for (const worker of workers) await worker.line(/^bnlab worker: .* ready|^bnlab worker: /);
    const runsDir = join(root, 'queued');
    const coordinator = startBnlab(t, ['sweep', join(root, 'queued.yaml'), '--runs-dir', runsDir, '--queue', url, '--queue-name', queueName]);
    // The first worker to start a run is killed in the middle of it.
    const started = await Promise.race(
      workers.map(async (worker) => {
        const line = await worker.line(/^started /, 60_000);
        return { worker, id: /^started (\S+)/.exec(line)![1]! };
      }),
    );
    started.worker.process.kill('SIGKILL');
    const { code } = await coordinator.exited;
    assert.equal(code, 0, coordinator.stderr());

    const records = await recordsIn(runsDir);
    assertSameNumbers(records);
    const finishedLines = coordinator
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('finished '));
    assert.equal(finishedLines.length, 6, 'each run finished once');
    assert.equal(new Set(finishedLines.map((line) => line.split(':')[0])).size, 6);
    const killedRun = finishedLines.find((line) => line.startsWith(`finished ${started.id}:`))!;
    assert.ok(!killedRun.includes(`:${started.worker.process.pid} [`), `the killed worker's run was finished by another worker: ${killedRun}`);
    assert.match(coordinator.stdout(), /^Done: 6 runs finished/m);

    // No password anywhere a user or a reader of the runs dir would see it.
    const everything = [coordinator.stdout(), coordinator.stderr(), ...workers.map((worker) => worker.stdout() + worker.stderr())];
    for (const name of await readdir(join(runsDir, 'runs'))) everything.push(await readFile(join(runsDir, 'runs', name), 'utf8'));
    for (const name of ['report.md', 'report.csv', 'report.html']) everything.push(await readFile(join(runsDir, 'report', name), 'utf8'));
    everything.push(await readFile(join(runsDir, 'bnlab-runs.json'), 'utf8'));
    for (const text of everything) assert.ok(!text.includes(PASSWORD), 'the password never appears');
    assert.match(coordinator.stdout(), /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  });

  test('a coordinator killed and started again collects what finished meanwhile and enqueues only what is missing', async (t) => {
    const queueName = 'restart-test';
    const runsDir = join(root, 'restarted');
    const first = startBnlab(t, ['sweep', join(root, 'queued.yaml'), '--runs-dir', runsDir, '--queue', url, '--queue-name', queueName]);
    await first.line(/^Queue restart-test on .*: 6 runs enqueued, 0 already there/);
    first.process.kill('SIGKILL');
    await first.exited;

    // Workers train the whole queue while no coordinator watches.
    const worker = startBnlab(t, ['worker', url, '--jobs', '2', '--queue-name', queueName]);
    const queue = await RunQueue.connect(url, { queueName });
    t.after(() => queue.close());
    for (const deadline = Date.now() + 90_000; ; ) {
      const counts = await queue.counts();
      if (counts.completed === 6) break;
      assert.ok(Date.now() < deadline, `the workers did not finish: ${JSON.stringify(counts)}; ${worker.stderr()}`);
      await new Promise((wake) => setTimeout(wake, 200));
    }

    const second = startBnlab(t, ['sweep', join(root, 'queued.yaml'), '--runs-dir', runsDir, '--queue', url, '--queue-name', queueName]);
    const { code } = await second.exited;
    assert.equal(code, 0, second.stderr());
    assert.match(second.stdout(), /^Queue restart-test on .*: 0 runs enqueued, 0 already there/m, 'nothing enqueued again: every result was collected first');
    assertSameNumbers(await recordsIn(runsDir));
    assert.equal((await queue.counts()).completed, 0, 'each collected job is removed once its record is written');
  });

  test('an unreachable Redis: one line naming it without its password, exit 2, within seconds, nothing written', async () => {
    const port = await freePort();
    const runsDir = join(root, 'never');
    const started = Date.now();
    const result = await runCli(['sweep', join(root, 'queued.yaml'), '--runs-dir', runsDir, '--queue', `redis://:${PASSWORD}@127.0.0.1:${port}/0`]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^bnlab: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 .*\n$`));
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    assert.equal(existsSync(runsDir), false);
  });
});
