/**
 * @file The training pool on real worker threads, over a small crafted MNIST-shaped data set: a
 * job with its own initial weights trains to exactly the numbers of train() in this thread; every
 * validation point and the first divergence reach the main thread in order; stop() ends a long
 * run cleanly and hands back its result; a sweep's run (a job with more fields) still runs.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobWeights, shareMnist, type TrainJob, weightsOfJob } from '../../src/node/grid-messages.js';
import { type FinishedRun, GridPool } from '../../src/node/grid-pool.js';
import { loadKernels } from '../../src/node/wasm-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../../src/train/networks.js';
import { type CurvePoint, type TrainResult, train } from '../../src/train/trainer.js';
import { trainNumbers } from '../helpers/train-numbers.js';
import { craftedMnist } from '../node-support/crafted-mnist.js';

const data = craftedMnist();
const shared = shareMnist(data);

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({ steps: 40, batchSize: 20, validateEvery: 10, hiddenSizes: [32, 16], evalBatchSize: 30, ...overrides });
}

async function inProcess(job: TrainJob): Promise<TrainResult> {
  const kernels = await loadKernels('auto');
  return train(buildNetwork(kernels, job.config, job.batchNorm, weightsOfJob(job) ?? initialWeightsFor(job.config)), data, job.config);
}

test('jobs with their own initial weights train on workers to exactly the numbers of train() here, validation points forwarded in order', async () => {
  const base = config();
  // Weights that the seed would not draw, so that a worker ignoring them would be caught.
  const weights = jobWeights(initialWeightsFor(resolveTrainConfig({ ...base, seed: 99 })));
  const jobs: TrainJob[] = [false, true].map((batchNorm) => ({ id: batchNorm ? 'bn' : 'nobn', config: base, batchNorm, initialWeights: weights }));
  const finished = new Map<string, FinishedRun>();
  const points = new Map<string, CurvePoint[]>();
  const started: string[] = [];
  const outcome = await new GridPool({ jobs: 2, backend: 'auto', data: shared }).run(jobs, {
    onStart: (_worker, job) => started.push(job.id),
    onValidation: (_worker, job, point) => points.set(job.id, [...(points.get(job.id) ?? []), point]),
    onFinish: (_worker, job, run) => {
      finished.set(job.id, run);
    },
  });
  assert.deepEqual(outcome, { finished: 2, interrupted: false });
  assert.deepEqual(started, ['nobn', 'bn']);
  for (const job of jobs) {
    const run = finished.get(job.id)!;
    const expected = await inProcess(job);
    assert.deepEqual(trainNumbers(run.result), trainNumbers(expected), `${job.id}: same curve, validation and test to the bit`);
    assert.equal(run.result.stepsPerSecond > 0, true);
    assert.deepEqual(points.get(job.id), expected.curve, `${job.id}: every validation point, in order`);
    assert.equal(run.backend, (await loadKernels('auto')).variant);
  }
  const seedDrawn = await inProcess({ ...jobs[1]!, initialWeights: undefined });
  assert.notDeepEqual(seedDrawn.curve, finished.get('bn')!.result.curve, "the given weights, not the seed's, were used");
});

test('a diverging run: the first NaN step reaches the main thread before its validation point', async () => {
  const job: TrainJob = { id: 'wild', config: config({ steps: 20, learningRate: 1000, initStd: 1 }), batchNorm: false };
  const events: string[] = [];
  let result: TrainResult | null = null;
  await new GridPool({ jobs: 1, backend: 'auto', data: shared }).run([job], {
    onValidation: (_worker, _job, point) => events.push(`validation ${point.step}`),
    onDivergence: (_worker, _job, step, loss) => events.push(`diverged ${step} ${loss}`),
    onFinish: (_worker, _job, run) => {
      result = run.result;
    },
  });
  const expected = await inProcess(job);
  assert.ok(expected.divergedAtStep !== null, 'the settings diverge');
  assert.deepEqual(trainNumbers(result!), trainNumbers(expected));
  const divergence = events.findIndex((event) => event.startsWith('diverged'));
  assert.match(events[divergence]!, new RegExp(`^diverged ${expected.divergedAtStep} (NaN|-?Infinity)$`));
  assert.equal(events.filter((event) => event.startsWith('diverged')).length, 1);
  const nextValidation = expected.curve.find((point) => point.step >= expected.divergedAtStep!)!.step;
  assert.ok(divergence < events.indexOf(`validation ${nextValidation}`));
});

test('stop() ends long runs cleanly: each goes to onInterrupted with its result so far, never to onFinish', async () => {
  const long = config({ steps: 1_000_000, validateEvery: 50 });
  const jobs: TrainJob[] = [false, true].map((batchNorm) => ({ id: String(batchNorm), config: long, batchNorm }));
  const pool = new GridPool({ jobs: 2, backend: 'auto', data: shared });
  const interrupted = new Map<string, FinishedRun>();
  const validated = new Set<string>();
  const outcome = await pool.run(jobs, {
    onValidation: (_worker, job, point) => {
      if (point.step >= 50) validated.add(job.id);
      if (validated.size === 2) pool.stop();
    },
    onFinish: () => assert.fail('a stopped run is not finished'),
    onInterrupted: (_worker, job, run) => {
      interrupted.set(job.id, run);
    },
  });
  assert.deepEqual(outcome, { finished: 0, interrupted: true });
  for (const job of jobs) {
    const { result } = interrupted.get(job.id)!;
    assert.equal(result.stopReason, 'interrupted');
    assert.ok(result.steps >= 50 && result.steps < 1_000_000, `${job.id}: ${result.steps} steps`);
    assert.equal(result.curve.at(-1)!.step, result.steps, 'a final validation where it stopped');
    assert.ok(result.test.count === 60, 'the test set evaluated');
  }
});

test("a sweep's run is a job: its own fields come back in the events, the worker gets only the job", async () => {
  const config = resolveTrainConfig({ steps: 10, validateEvery: 5, batchNorm: false });
  const spec = { id: 'c1-nobn-s1', seed: 1, axes: [{ axis: 'config', label: 'c1', numeric: null }], config, batchNorm: false };
  let seen: typeof spec | null = null;
  await new GridPool({ jobs: 1, backend: 'js', data: shared }).run([spec], {
    onFinish: (_worker, job, run) => {
      seen = job;
      assert.equal(run.backend, 'float32', '--backend js reaches the worker (the TypeScript kernels in float32)');
      assert.equal(run.result.steps, 10);
    },
  });
  assert.equal(seen, spec, "the caller's own object");
});

test('serve(): workers start once and take jobs as they are free, each to the numbers of train() here; null ends a worker', async () => {
  const jobs: TrainJob[] = [1, 2, 3, 4, 5].map((seed) => ({ id: `s${seed}`, config: config({ seed, steps: 20 }), batchNorm: seed % 2 === 0 }));
  const queue = [...jobs];
  const asked: number[] = [];
  const ready: number[] = [];
  const byWorker = new Map<number, string[]>();
  const finished = new Map<string, FinishedRun>();
  const outcome = await new GridPool({ jobs: 2, backend: 'auto', data: shared }).serve(
    async (worker) => {
      asked.push(worker);
      await new Promise((done) => setTimeout(done, 5)); // a source may take its time (claiming a run)
      return queue.shift() ?? null;
    },
    {
      onReady: (worker) => ready.push(worker),
      onStart: (worker, job) => byWorker.set(worker, [...(byWorker.get(worker) ?? []), job.id]),
      onFinish: (_worker, job, run) => {
        finished.set(job.id, run);
      },
    },
  );
  assert.deepEqual(outcome, { finished: 5, interrupted: false });
  assert.deepEqual(ready.sort(), [0, 1], 'two threads started, for five jobs');
  assert.equal(asked.length, 7, 'each worker asked once per job it ran and once more (null)');
  assert.deepEqual([...byWorker.values()].flat().sort(), ['s1', 's2', 's3', 's4', 's5']);
  for (const job of jobs)
    assert.deepEqual(trainNumbers(finished.get(job.id)!.result), trainNumbers(await inProcess(job)), `${job.id}: the same numbers as alone`);
});

test('serve(): stop() ends the running jobs as interrupted; a job the source hands out after it is not started', async () => {
  const pool = new GridPool({ jobs: 2, backend: 'auto', data: shared });
  const long: TrainJob = { id: 'long', config: config({ steps: 1_000_000, validateEvery: 50 }), batchNorm: false };
  const late: TrainJob = { id: 'late', config: config(), batchNorm: false };
  const started: string[] = [];
  const interrupted: string[] = [];
  let handedOut = 0;
  const outcome = await pool.serve(
    async () => {
      handedOut++;
      if (handedOut === 1) return long;
      while (!pool.stopped) await new Promise((done) => setTimeout(done, 10)); // the other worker's source is slow: it answers after stop()
      return late;
    },
    {
      onStart: (_worker, job) => started.push(job.id),
      onValidation: (_worker, _job, point) => {
        if (point.step >= 50 && handedOut === 2) pool.stop(); // both workers have asked: one runs 'long', one waits for its source
      },
      onFinish: () => assert.fail('a stopped run is not finished'),
      onInterrupted: (_worker, job) => {
        interrupted.push(job.id);
      },
    },
  );
  assert.deepEqual(outcome, { finished: 0, interrupted: true });
  assert.equal(handedOut, 2);
  assert.deepEqual(started, ['long'], 'late was handed out after stop() and not started');
  assert.deepEqual(interrupted, ['long']);
});

test('serve(): a source that fails ends the pool with its error', async () => {
  const pool = new GridPool({ jobs: 2, backend: 'auto', data: shared });
  await assert.rejects(
    pool.serve(async () => {
      throw new Error('the runs dir went away');
    }),
    /the runs dir went away/,
  );
});
