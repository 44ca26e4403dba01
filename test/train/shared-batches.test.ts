/**
 * @file Issue 15, item 2: networks that see the same batches, trained side by side in one backend
 * on batches drawn once (`SharedBatches`, `runTogether`), must come out exactly as each does
 * trained alone (`train`, its own backend, its own draws): the same curve, final validation and
 * test, bit for bit, on every backend, including a network that diverges on the way (it drops out
 * early, skipped) and runs of different lengths. On the worker pool too (`shareBatches`).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { MnistData } from '../../src/data/mnist.js';
import { SharedBatches } from '../../src/data/shared-batches.js';
import { shareMnist, type TrainJob } from '../../src/node/grid-messages.js';
import { type FinishedRun, GridPool, groupsSharingBatches } from '../../src/node/grid-pool.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../../src/train/networks.js';
import { deriveSeed } from '../../src/train/seeds.js';
import { runTogether, TrainingRun, type TrainResult, train } from '../../src/train/trainer.js';
import { wasmBuildsHere } from '../helpers/backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';
import { craftedMnist } from '../node-support/crafted-mnist.js';

interface Case {
  label: string;
  config: TrainConfig;
  batchNorm: boolean;
}

/** Trains `cases` side by side on shared batches in `kernels`, then each alone in a fresh backend, and compares. */
async function compareShared(kernels: Kernels, fresh: () => Promise<Kernels>, data: MnistData, cases: Case[], ahead = 1): Promise<TrainResult[]> {
  const first = cases[0]!.config;
  const batches = new SharedBatches(kernels, data.train, first.batchSize, { shuffle: first.shuffle, seed: deriveSeed(first.seed, 'batches') }, ahead);
  const runs = cases.map(
    ({ config, batchNorm }) => new TrainingRun(buildNetwork(kernels, config, batchNorm), data, config, {}, { batches, skipDiverged: true }),
  );
  const order: number[] = [];
  await runTogether(runs, (run) => order.push(runs.indexOf(run)), ahead);
  assert.equal(order.length, cases.length, 'every run is heard of as it ends');
  const together = runs.map((run) => run.finish());
  for (const [i, { label, config, batchNorm }] of cases.entries()) {
    const alone = await train(buildNetwork(await fresh(), config, batchNorm), data, config);
    assert.deepStrictEqual(
      trainNumbers(together[i]!),
      trainNumbers(alone),
      `${label}: trained beside the others on shared batches = trained alone, to the bit`,
    );
  }
  return together;
}

describe('networks on shared batches come out as trained alone', async () => {
  const data = await loadMnist();
  const base = { steps: 300, validateEvery: 125, seed: 4 };
  const cases: Case[] = [
    { label: 'model 1 without BN', config: resolveTrainConfig({ ...base, batchNorm: false, norm: 'none' }), batchNorm: false },
    { label: 'model 1 with BN', config: resolveTrainConfig({ ...base }), batchNorm: true },
    {
      label: 'model 4 with BN, average statistics',
      config: resolveTrainConfig({ ...base, learningRate: 2, activation: 'sigmoid', bnEstimator: 'average', bnAverageBatches: 20 }),
      batchNorm: true,
    },
    {
      label: 'model 7 without BN (diverges at once)',
      config: resolveTrainConfig({ ...base, initStd: 10, learningRate: 2, batchNorm: false, norm: 'none' }),
      batchNorm: false,
    },
    { label: 'model 1 with BN, a shorter run', config: resolveTrainConfig({ ...base, steps: 170 }), batchNorm: true },
  ];
  for (const { variant, bytes } of wasmBuildsHere()) {
    for (const ahead of [1, 16]) {
      test(`${variant}, real MNIST: five networks, one diverging, one shorter, ${ahead} step${ahead > 1 ? 's' : ''} in a row`, async () => {
        const module = await compileKernelModule(bytes);
        const fresh = () => WasmKernels.create(module, variant);
        const together = await compareShared(await fresh(), fresh, data, cases, ahead);
        assert.ok((together[3]!.skippedSteps ?? 0) > 250, 'the diverged network dropped out early');
      });
    }
  }
  test('js reference, real MNIST: two networks, 60 steps', async () => {
    const short = cases.slice(0, 2).map((c) => ({ ...c, config: { ...c.config, steps: 60, validateEvery: 25, evalBatchSize: 1000 } }));
    const small = {
      ...data,
      validation: { ...data.validation, count: 500, pixels: data.validation.pixels.subarray(0, 500 * 784), labels: data.validation.labels.subarray(0, 500) },
    };
    const test500 = {
      ...small,
      test: { ...data.test, count: 500, pixels: data.test.pixels.subarray(0, 500 * 784), labels: data.test.labels.subarray(0, 500) },
    };
    await compareShared(new JsKernels(), async () => new JsKernels(), test500, short);
  });
});

test('shared batches refuse a run that would draw other batches, and steps out of turn', () => {
  const data = craftedMnist();
  const kernels = new JsKernels();
  const config = resolveTrainConfig({ steps: 10, batchSize: 20, hiddenSizes: [16], evalBatchSize: 30 });
  const batches = new SharedBatches(kernels, data.train, 20, { shuffle: true, seed: deriveSeed(config.seed, 'batches') });
  const net = () => buildNetwork(kernels, config, false, initialWeightsFor(config));
  assert.throws(() => new TrainingRun(net(), data, { ...config, seed: 2 }, {}, { batches }), /batch seed/);
  assert.throws(() => new TrainingRun(net(), data, config, {}, { batches: new SharedBatches(new JsKernels(), data.train, 20, batches.options) }), /backend/);
  batches.batch(1);
  batches.batch(1);
  assert.throws(() => batches.batch(3), /advance together/);
  const window = new SharedBatches(kernels, data.train, 20, batches.options, 4);
  const one = window.batch(1);
  assert.equal(window.batch(4).x === one.x, false, 'a window of four batches');
  assert.equal(window.batch(5), one, 'the next window reuses the slots');
  assert.throws(() => window.batch(4), /advance together/);
});

test('groupsSharingBatches: one job per worker while they fit, then dealt in turn and split where batches differ', () => {
  const job = (id: string, seed: number): TrainJob => ({ id, config: resolveTrainConfig({ seed }), batchNorm: false });
  const ids = (groups: TrainJob[][]) => groups.map((group) => group.map((j) => j.id));
  assert.deepEqual(ids(groupsSharingBatches([job('a', 1), job('b', 1)], 2)), [['a'], ['b']]);
  assert.deepEqual(ids(groupsSharingBatches([job('a', 1), job('b', 1), job('c', 1), job('d', 1), job('e', 1)], 2)), [
    ['a', 'c', 'e'],
    ['b', 'd'],
  ]);
  assert.deepEqual(ids(groupsSharingBatches([job('a', 1), job('b', 1), job('c', 2)], 1)), [['a', 'b'], ['c']]);
});

test('the pool with shareBatches: three networks on one worker, each to the numbers it gets alone, every validation forwarded', async () => {
  const data = craftedMnist();
  const config = resolveTrainConfig({ steps: 40, batchSize: 20, validateEvery: 10, hiddenSizes: [32, 16], evalBatchSize: 30 });
  const jobs: TrainJob[] = [
    { id: 'nobn', config, batchNorm: false },
    { id: 'bn', config, batchNorm: true },
    { id: 'wild', config: { ...config, learningRate: 1000, initStd: 1 }, batchNorm: false },
  ];
  const finished = new Map<string, FinishedRun>();
  const points = new Map<string, number>();
  const started: string[] = [];
  const outcome = await new GridPool({ jobs: 1, backend: 'auto', data: shareMnist(data), shareBatches: true }).run(jobs, {
    onStart: (_worker, job) => started.push(job.id),
    onValidation: (_worker, job) => points.set(job.id, (points.get(job.id) ?? 0) + 1),
    onFinish: (_worker, job, run) => {
      finished.set(job.id, run);
    },
  });
  assert.deepEqual(outcome, { finished: 3, interrupted: false });
  assert.deepEqual(started, ['nobn', 'bn', 'wild'], 'all three start at once');
  const { loadKernels } = await import('../../src/node/wasm-files.js');
  for (const job of jobs) {
    const alone = await train(buildNetwork(await loadKernels('auto'), job.config, job.batchNorm), data, job.config);
    assert.deepStrictEqual(trainNumbers(finished.get(job.id)!.result), trainNumbers(alone), `${job.id}: the pool's grouped run = alone, to the bit`);
    assert.equal(points.get(job.id), alone.curve.length);
  }
});
