/**
 * @file The training loop on a small synthetic task (the label says which block of pixels is lit):
 * where the curve's points fall, divergence recorded rather than thrown, a clean stop, the same
 * numbers from the same seed, and the `average` estimator recomputed with frozen weights.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { MnistData } from '../../src/data/mnist.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { runToEnd, TrainingRun, train } from '../../src/train/trainer.js';
import { syntheticMnist } from '../helpers/synthetic-mnist.js';

const kernels = new JsKernels();

const data: MnistData = syntheticMnist();

function config(overrides: Partial<TrainConfig>): TrainConfig {
  return resolveTrainConfig({ hiddenSizes: [16, 16], batchSize: 20, learningRate: 0.1, evalBatchSize: 50, ...overrides });
}

test('validation points fall at step 0, every N steps and at the end; the task is learned', async () => {
  const settings = config({ steps: 250, validateEvery: 100 });
  const result = await train(buildNetwork(kernels, settings, true), data, settings);
  assert.deepEqual(
    result.curve.map((point) => point.step),
    [0, 100, 200, 250],
  );
  assert.ok(Number.isNaN(result.curve[0]!.trainingLoss), 'no training loss before the first step');
  assert.equal(result.steps, 250);
  assert.equal(result.stopReason, 'completed');
  assert.equal(result.validation.accuracy, result.curve.at(-1)!.validationAccuracy);
  assert.ok(result.test.accuracy > 0.9, `a lit block is easy to learn: ${result.test.accuracy}`);
});

test('a diverging network is a result: the step is recorded and the run goes on, or stops when asked', async () => {
  const settings = config({ steps: 60, validateEvery: 20, batchNorm: false, initStd: 10, learningRate: 1e6 });
  const diverged = await train(buildNetwork(kernels, settings, false), data, settings);
  assert.ok(diverged.divergedAtStep !== null && diverged.divergedAtStep >= 1, `diverged at ${diverged.divergedAtStep}`);
  assert.equal(diverged.steps, 60);
  assert.equal(diverged.stopReason, 'completed');

  const stopping = { ...settings, stopOnDivergence: true };
  const stopped = await train(buildNetwork(kernels, stopping, false), data, stopping);
  assert.equal(stopped.stopReason, 'diverged');
  assert.equal(stopped.steps, stopped.divergedAtStep);
  assert.equal(stopped.curve.at(-1)!.step, stopped.steps, 'a last point where it stopped');
});

test('shouldStop ends the run cleanly after the current step', async () => {
  const settings = config({ steps: 1000, validateEvery: 100 });
  let steps = 0;
  const result = await train(buildNetwork(kernels, settings, true), data, settings, {
    onStep: (step) => {
      steps = step;
    },
    shouldStop: () => steps >= 7,
  });
  assert.equal(result.stopReason, 'interrupted');
  assert.equal(result.steps, 7);
  assert.deepEqual(
    result.curve.map((point) => point.step),
    [0, 7],
  );
});

test('the same seed gives the same numbers; another seed others', async () => {
  const run = async (seed: number) => {
    const settings = config({ steps: 40, validateEvery: 20, seed });
    return train(buildNetwork(kernels, settings, true), data, settings);
  };
  const [a, b, c] = [await run(5), await run(5), await run(6)];
  assert.deepEqual(a.curve, b.curve);
  assert.equal(a.test.loss, b.test.loss);
  assert.notDeepEqual(a.curve, c.curve);
});

test('`average` recomputes E[μ_B], E[σ²_B] over N batches with frozen weights, leaving weights and moving averages as training left them', async () => {
  const settings = (bnAverageBatches: number) => config({ steps: 30, validateEvery: 10, bnEstimator: 'average', bnAverageBatches });
  const recomputed = buildNetwork(kernels, settings(7), true);
  await train(recomputed, data, settings(7));
  const accumulated = buildNetwork(kernels, settings(0), true);
  await train(accumulated, data, settings(0));
  for (let l = 0; l < 2; l++) {
    const [r, a] = [recomputed.norms[l]!, accumulated.norms[l]!];
    assert.equal(r.averagedBatches, 7, 'the last evaluation recomputed over 7 batches');
    assert.equal(a.averagedBatches, 30, 'without recomputation every training batch is averaged');
    assert.deepEqual(r.movingMean.data, a.movingMean.data, 'the moving averages are put back');
    assert.deepEqual(r.movingVariance.data, a.movingVariance.data);
  }
  recomputed.parameters().forEach((parameter, i) => {
    assert.deepEqual(parameter.value.data, accumulated.parameters()[i]!.value.data, parameter.name);
  });
});

test('{ validate: false } trains the same weights as train() without evaluating anything; finish() then evaluates once, at the end', async () => {
  const settings = config({ steps: 45, validateEvery: 10 });
  const validated = buildNetwork(kernels, settings, true);
  const result = await train(validated, data, settings);
  const quiet = buildNetwork(kernels, settings, true);
  let validations = 0,
    steps = 0;
  const run = new TrainingRun(quiet, data, settings, { onValidation: () => validations++, onStep: () => steps++ }, { validate: false });
  assert.equal(run.latestValidation, null, 'no validation at step 0');
  await runToEnd(run);
  assert.equal(steps, 45);
  assert.equal(validations, 0);
  assert.deepEqual(run.curve, []);
  quiet.parameters().forEach((parameter, i) => {
    assert.deepEqual(parameter.value.data, validated.parameters()[i]!.value.data, parameter.name);
  });
  const finished = run.finish();
  assert.deepEqual(
    finished.curve.map((point) => point.step),
    [45],
  );
  assert.equal(finished.validation.accuracy, result.validation.accuracy);
  assert.equal(finished.test.loss, result.test.loss);
});
