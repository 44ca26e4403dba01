/**
 * @file The coordinator's queue on a real redis-server: enqueueing the same runs twice adds them
 * once, a malformed run is refused before it reaches Redis, job states and removal, and a Redis
 * that is not there is one line within seconds (the password redacted).
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type QueuedRun, QueueProtocolError } from '../../src/node/queue/queue-protocol.js';
import { QueueUrlError } from '../../src/node/queue/redis-url.js';
import { QueueUnreachableError, RunQueue } from '../../src/node/queue/run-queue.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { freePort, startRedis, type TestRedis } from '../node-support/redis-server.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

function run(id: string): QueuedRun {
  return { format: 'bnlab-job/1', id, sweep: 'test', config: resolveTrainConfig({ steps: 10 }), dataHash: 'cd'.repeat(32), backend: 'js' };
}

test('enqueueing the same runs twice adds each once; states, counts and removal', async (t) => {
  const queue = await RunQueue.connect(redis.url, { queueName: 'twice' });
  t.after(() => queue.close());
  const runs = [run('a-1'), run('a-2'), run('a-3')];
  const first = await queue.enqueue(runs);
  assert.deepEqual(first, { added: ['a-1', 'a-2', 'a-3'], present: [] });
  const second = await queue.enqueue([...runs, run('a-4')]);
  assert.deepEqual(second.added, ['a-4']);
  assert.deepEqual(second.present, [
    { id: 'a-1', state: 'waiting' },
    { id: 'a-2', state: 'waiting' },
    { id: 'a-3', state: 'waiting' },
  ]);
  assert.equal((await queue.counts()).waiting, 4);
  assert.equal(await queue.jobState('a-2'), 'waiting');
  assert.equal(await queue.jobState('nope'), 'unknown');
  assert.equal(await queue.remove('a-2'), true);
  assert.equal(await queue.remove('a-2'), false);
  assert.equal(await queue.jobState('a-2'), 'unknown');
  assert.deepEqual(await queue.collect(), { completed: [], failed: [] });
  assert.deepEqual(await queue.active(), []);
});

test('a malformed run is refused before anything reaches Redis', async (t) => {
  const queue = await RunQueue.connect(redis.url, { queueName: 'malformed' });
  t.after(() => queue.close());
  await assert.rejects(
    queue.enqueue([run('ok-1'), { ...run('bad'), dataHash: 'xyz' }]),
    (error: unknown) => error instanceof QueueProtocolError && /job "bad": its dataHash/.test(error.message),
  );
  assert.equal(await queue.jobState('ok-1'), 'unknown');
});

test('a Redis that is not there is one line within seconds, naming the address without its password', async () => {
  const port = await freePort(); // nothing listens there
  const started = Date.now();
  await assert.rejects(RunQueue.connect(`redis://:hunter2@127.0.0.1:${port}/0`, { connectTimeoutMs: 2000 }), (error: unknown) => {
    assert.ok(error instanceof QueueUnreachableError, String(error));
    assert.equal(error.message, `cannot reach Redis at redis://:***@127.0.0.1:${port}/0 (connection refused): start redis-server there or check the address`);
    return true;
  });
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  await assert.rejects(RunQueue.connect('redis://127.0.0.1'), QueueUrlError);
});

test('a host that does not answer (a blackholed address) fails after the connect timeout, not never', async () => {
  const started = Date.now();
  // 10.255.255.1 is a private address no test machine routes to: the SYN goes unanswered (or is refused at once).
  await assert.rejects(RunQueue.connect('redis://10.255.255.1:6379/0', { connectTimeoutMs: 1500 }), (error: unknown) => {
    assert.ok(error instanceof QueueUnreachableError, String(error));
    assert.match(error.message, /^cannot reach Redis at redis:\/\/10\.255\.255\.1:6379\/0 \(.+\): start redis-server there or check the address$/);
    return true;
  });
  assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
});

test('a wrong password is one line that says so, and the right one connects', async (t) => {
  const guarded = await startRedis({ password: 'right-one' });
  t.after(() => guarded.stop());
  const queue = await RunQueue.connect(guarded.url, { queueName: 'auth' });
  assert.equal(queue.shown, `redis://:***@127.0.0.1:${guarded.port}/0`);
  await queue.close();
  for (const url of [`redis://:wrong-one@127.0.0.1:${guarded.port}/0`, `redis://127.0.0.1:${guarded.port}/0`]) {
    await assert.rejects(RunQueue.connect(url), (error: unknown) => {
      assert.ok(error instanceof QueueUnreachableError, String(error));
      assert.ok(!error.message.includes('wrong-one'), error.message);
      assert.match(error.message, /refused the login .*check the user and password/);
      return true;
    });
  }
});
