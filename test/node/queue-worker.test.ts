/**
 * @file A queue worker in this process on a real redis-server, over a small crafted MNIST-shaped
 * data set: a run trained through the queue gives exactly the numbers of the same run on a
 * local GridPool; a malformed job fails for good with its reason and a job for other data fails
 * with both hashes, while the next job still completes; progress reaches the coordinator; and
 * stop() hands an unfinished run back to the queue at once, not after the stall timeout.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { shareMnist } from '../../src/node/grid-messages.js';
import { type FinishedRun, GridPool } from '../../src/node/grid-pool.js';
import type { QueuedRun } from '../../src/node/queue/queue-protocol.js';
import { QueueWorker, stallSettings } from '../../src/node/queue/queue-worker.js';
import { RunQueue } from '../../src/node/queue/run-queue.js';
import { mnistContentHash } from '../../src/node/run-store.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { trainNumbers } from '../helpers/train-numbers.js';
import { craftedMnist } from '../node-support/crafted-mnist.js';
import { startRedis, type TestRedis } from '../node-support/redis-server.js';
import { until } from '../node-support/wait-until.js';

const data = craftedMnist(42);
const shared = shareMnist(data);
const dataHash = mnistContentHash(data);

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({ steps: 60, batchSize: 20, validateEvery: 30, hiddenSizes: [16], evalBatchSize: 30, ...overrides });
}

function queued(id: string, trainConfig: TrainConfig, overrides: Partial<QueuedRun> = {}): QueuedRun {
  return { format: 'bnlab-job/1', id, sweep: 'test', config: trainConfig, dataHash, backend: 'auto', ...overrides };
}

/** The same run on a local pool, as a local sweep trains it. */
async function locally(id: string, trainConfig: TrainConfig, backend: 'auto' | 'js' = 'auto'): Promise<FinishedRun> {
  let outcome: FinishedRun | null = null;
  await new GridPool({ jobs: 1, backend, data: shared }).run([{ id, config: trainConfig, batchNorm: trainConfig.batchNorm }], {
    onFinish: (_worker, _job, run) => {
      outcome = run;
    },
  });
  assert.ok(outcome);
  return outcome;
}

test('the stall timeout sets the lock to it and checks twice per timeout', () => {
  assert.deepEqual(stallSettings(30_000), { lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 2 });
  assert.deepEqual(stallSettings(1_000), { lockDuration: 1_000, stalledInterval: 1_000, maxStalledCount: 2 });
});

test('a run trained by a queue worker equals the same run on a local pool, bit for bit; malformed and foreign jobs fail with their reason and the worker goes on', async (t) => {
  const queueName = 'same-numbers';
  const lines: string[] = [];
  const worker = await QueueWorker.start({
    url: redis.url,
    jobs: 2,
    backend: 'auto',
    data: shared,
    queueName,
    log: (line) => lines.push(line),
    name: 'test-worker:1',
  });
  t.after(() => worker.stop());
  const queue = await RunQueue.connect(redis.url, { queueName, retryDelayMs: 100_000 });
  t.after(() => queue.close());
  assert.match(
    lines[0]!,
    /^bnlab worker: test-worker:1 on redis:\/\/127\.0\.0\.1:\d+\/0, queue same-numbers, 2 threads, kernel backend .+, data sha256 [0-9a-f]{12}… \(crafted 42\), stall timeout 30\.0 s$/,
  );

  // A malformed job (it never passes enqueue()): added raw, as an older or broken coordinator might.
  const rawClient = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 3 });
  const raw = new Queue(queueName, { connection: rawClient });
  t.after(async () => {
    await raw.close();
    rawClient.disconnect();
  });
  await raw.add('test', { ...queued('bad-1', config()), config: { ...config(), steps: -5 } }, { jobId: 'bad-1', attempts: 3 });

  const bn = config({ seed: 3 });
  const plain = config({ seed: 4, batchNorm: false, learningRate: 0.5 });
  const foreign = queued('foreign-1', config(), { dataHash: 'ef'.repeat(32) });
  // A run that pins the kernels gets them, whatever the worker's --backend.
  const pinned = queued('pinned-js', config({ seed: 5 }), { backend: 'js' });
  assert.deepEqual((await queue.enqueue([queued('bn-1', bn), foreign, queued('plain-1', plain), pinned])).added, ['bn-1', 'foreign-1', 'plain-1', 'pinned-js']);

  const collected = await until('three results and the malformed failure', async () => {
    const now = await queue.collect();
    return now.completed.length === 3 && now.failed.length === 1 ? now : null;
  });
  assert.deepEqual(collected.failed, [
    { id: 'bad-1', reason: 'job "bad-1": its config is invalid: --steps must be a whole number of at least 0, got -5', attemptsMade: 1 },
  ]);
  const byId = new Map(collected.completed.map((result) => [result.id, result]));
  for (const [id, trainConfig, backend] of [
    ['bn-1', bn, 'auto'],
    ['plain-1', plain, 'auto'],
    ['pinned-js', pinned.config, 'js'],
  ] as const) {
    const remote = byId.get(id)!;
    assert.equal(remote.worker, 'test-worker:1');
    assert.equal(remote.dataHash, dataHash);
    assert.equal(remote.dataSource, 'crafted 42');
    const local = await locally(id, trainConfig, backend);
    assert.equal(remote.outcome.backend, local.backend);
    // deepStrictEqual compares numbers with Object.is: every float64 of the curve, the NaN at step 0 included.
    assert.deepStrictEqual(trainNumbers(remote.outcome.result), trainNumbers(local.result));
    assert.ok(Number.isNaN(remote.outcome.result.curve[0]!.trainingLoss));
  }
  // The job for other data failed its first attempt with both hashes and waits to be retried elsewhere.
  assert.equal(await queue.jobState('foreign-1'), 'delayed');
  const attempt = (await raw.getJob('foreign-1'))!;
  assert.equal(
    attempt.failedReason,
    `this worker's data is sha256 ${dataHash.slice(0, 12)}…, the job's efefefefefef…: start the worker with the same --data-dir as the coordinator`,
  );
  assert.ok(
    lines.some((line) => line.startsWith('refused job bad-1: job "bad-1": its config is invalid')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((line) => /^finished bn-1: validation \d\.\d{4}, test \d\.\d{4}, \d+ steps\/s, \d+\.\d s$/.test(line)),
    lines.join('\n'),
  );

  // Collected results are removed once recorded; a removed run can be enqueued afresh.
  assert.equal(await queue.remove('bn-1'), true);
  assert.deepEqual((await queue.collect()).completed.map((result) => result.id).sort(), ['pinned-js', 'plain-1']);
});

test('an active run shows its progress, and stop() hands it back to the queue at once', async (t) => {
  const queueName = 'stop-puts-back';
  const lines: string[] = [];
  const worker = await QueueWorker.start({
    url: redis.url,
    jobs: 1,
    backend: 'auto',
    data: shared,
    queueName,
    log: (line) => lines.push(line),
    name: 'stopping:1',
  });
  t.after(() => worker.stop());
  const queue = await RunQueue.connect(redis.url, { queueName });
  t.after(() => queue.close());
  // Long enough to be stopped in the middle.
  await queue.enqueue([queued('long-1', config({ steps: 200_000, validateEvery: 100_000 }))]);
  const active = await until('progress past step 0', async () => {
    const runs = await queue.active();
    return runs.length === 1 && runs[0]!.step > 0 ? runs : null;
  });
  assert.equal(active[0]!.id, 'long-1');
  assert.equal(active[0]!.worker, 'stopping:1');
  assert.ok(active[0]!.stepsPerSecond > 0);
  const stopped = Date.now();
  await worker.stop();
  assert.ok(Date.now() - stopped < 5_000, `stop took ${Date.now() - stopped} ms`);
  assert.equal(await queue.jobState('long-1'), 'waiting');
  assert.deepEqual(await queue.collect(), { completed: [], failed: [] });
});
