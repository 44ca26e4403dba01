/**
 * @file Issue 15, item 3: a network whose output bias is all NaN computes NaN logits for good, so
 * `skipDiverged` records its remaining steps without running them. These tests prove that the
 * record is the one full training gives: the same runs trained to the end and short-circuited
 * must give the same curve (every point: step, validation accuracy, validation loss, training
 * loss), final validation, test, steps, divergence step and stop reason, bit for bit, and the
 * same validation hooks; only the timings differ (and `skippedSteps` says how many were skipped).
 * On real MNIST (the article's configurations that diverge: model 7 without BN, and models 3 and
 * 5 without BN at seed 2) on every wasm build, and on a synthetic task on the reference backend.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { MnistData, Split } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { type CurvePoint, logitsNaNForGood, type TrainResult, train } from '../../src/train/trainer.js';
import { wasmBuildsHere } from '../helpers/backends.js';
import { syntheticMnist } from '../helpers/synthetic-mnist.js';
import { trainNumbers } from '../helpers/train-numbers.js';

async function both(kernels: Kernels, data: MnistData, config: TrainConfig, batchNorm: boolean) {
  const points = { full: [] as CurvePoint[], skipped: [] as CurvePoint[] };
  const full = await train(buildNetwork(kernels, config, batchNorm), data, config, { onValidation: (p) => points.full.push(p) });
  const net = buildNetwork(kernels, config, batchNorm);
  let lastStep = 0;
  const skipped = await train(
    net,
    data,
    config,
    {
      onValidation: (p) => points.skipped.push(p),
      onStep: (s) => {
        lastStep = s;
      },
    },
    { skipDiverged: true },
  );
  return { full, skipped, points, lastStep, net };
}

function assertSameRecord(full: TrainResult, skipped: TrainResult, label: string): void {
  assert.deepStrictEqual(trainNumbers(skipped), trainNumbers(full), `${label}: the short-circuited run records what the full one does`);
  assert.equal(full.skippedSteps, undefined, `${label}: the full run skipped nothing`);
}

describe('diverged networks: skipped steps record what training them gives (real MNIST, wasm)', async () => {
  const builds = wasmBuildsHere();
  const data = await loadMnist();
  // The article's runs that diverge (docs/results.md): [std, lr, activation, seed].
  const cases: Array<[string, Partial<TrainConfig>]> = [
    ['model 7 without BN, seed 1', { initStd: 10, learningRate: 2, activation: 'relu', seed: 1 }],
    ['model 3 without BN, seed 2', { initStd: 0.05, learningRate: 2, activation: 'relu', seed: 2 }],
    ['model 5 without BN, seed 2', { initStd: 10, learningRate: 0.01, activation: 'relu', seed: 2 }],
  ];
  for (const { variant, bytes } of builds) {
    for (const [label, overrides] of cases) {
      test(`${variant}: ${label}, 1,530 steps, validation every 250`, async () => {
        const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant);
        const config = resolveTrainConfig({ ...overrides, steps: 1530, validateEvery: 250, batchNorm: false, norm: 'none' });
        const { full, skipped, points, lastStep, net } = await both(kernels, data, config, false);
        assert.ok(full.divergedAtStep !== null && full.divergedAtStep < 100, `it diverges early: ${full.divergedAtStep}`);
        assertSameRecord(full, skipped, label);
        assert.deepStrictEqual(points.skipped, points.full, 'the same validation points reach the hooks');
        assert.deepEqual(
          full.curve.map((p) => p.step),
          [0, 250, 500, 750, 1000, 1250, 1500, 1530],
        );
        assert.ok(skipped.skippedSteps! > 1400, `most steps are skipped: ${skipped.skippedSteps}`);
        assert.equal(lastStep, 1530, 'the step hook hears of the last step');
        assert.ok(logitsNaNForGood(net));
        // What the record holds, said outright: NaN losses, and one class for every example (argmax of a NaN row: class 0).
        const zeros = (split: Split) => split.labels.filter((label) => label === 0).length;
        assert.equal(full.validation.correct, zeros(data.validation));
        assert.equal(full.test.correct, zeros(data.test));
        assert.ok(full.curve.slice(1).every((p) => Number.isNaN(p.validationLoss) && Number.isNaN(p.trainingLoss)));
      });
    }
  }
});

describe('diverged networks on the reference backend (synthetic task)', () => {
  const data: MnistData = syntheticMnist();
  const kernels = new JsKernels();
  const base = { hiddenSizes: [16, 16], batchSize: 20, evalBatchSize: 50, steps: 130, validateEvery: 20, initStd: 10 };
  for (const batchNorm of [false, true]) {
    for (const estimator of ['ema', 'average', 'batch'] as const) {
      test(`${batchNorm ? 'with' : 'without'} BN, ${estimator} inference statistics, lr 1e6`, async () => {
        const config = resolveTrainConfig({
          ...base,
          learningRate: 1e6,
          batchNorm,
          norm: batchNorm ? 'bn' : 'none',
          bnEstimator: estimator,
          bnAverageBatches: 3,
        });
        const { full, skipped } = await both(kernels, data, config, batchNorm);
        assertSameRecord(full, skipped, 'synthetic');
        assert.ok((skipped.skippedSteps ?? 0) > 100, `this one diverges for good within a few steps, and is skipped: ${skipped.skippedSteps}`);
      });
    }
  }

  test('a network that never diverges is trained in full either way', async () => {
    const config = resolveTrainConfig({ ...base, initStd: 0.05, learningRate: 0.1 });
    const { full, skipped } = await both(kernels, data, config, true);
    assertSameRecord(full, skipped, 'learning');
    assert.equal(skipped.skippedSteps, undefined);
  });
});
