/**
 * @file The smoothness claim on a test budget: the probe leaves the network as it found it
 * (weights and BN estimates bit for bit), the measures are what they say (the range of the loss
 * values, β = max ‖Δ∇L‖/‖Δw‖ at least the ratio at any one step size), the same seed gives the same
 * numbers, and the figure renders.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkPair, trainForClaim } from '../../../src/lab/claims/experiment-kit.js';
import { loadBatch } from '../../../src/lab/claims/landscape-kit.js';
import { probeLandscape, runSmoothness, SMOOTHNESS_QUICK, type SmoothnessBudget, smoothnessClaim } from '../../../src/lab/claims/smoothness.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: SmoothnessBudget = {
  ...SMOOTHNESS_QUICK,
  network: { hiddenSizes: [16, 16, 16], activation: 'relu', initStd: 0.05 },
  steps: 30,
  checkpointEvery: 10,
  stepSizes: [0.05, 0.4],
  seeds: 2,
};

test('probeLandscape puts weights and BN estimates back bit for bit, and its measures are consistent', async () => {
  const context = await testContext();
  const { withBn } = networkPair(context.kernels, TEST_BUDGET.network, 1);
  await trainForClaim(withBn, context.data, { steps: 20, batchSize: 60, learningRate: 0.1, seed: 1 });
  const before = withBn.checkpointTensors().map((t) => Array.from(t.read()));
  const { x, labels } = loadBatch(withBn, context.data.train, 100, 60);
  const point = probeLandscape(withBn, x, labels, [0.05, 0.2, 0.4], 20);
  assert.deepEqual(
    withBn.checkpointTensors().map((t) => Array.from(t.read())),
    before,
  );
  assert.ok(point.lossLow <= point.lossHigh && point.gradientChangeLow <= point.gradientChangeHigh);
  assert.ok(point.beta >= point.ratioAtSmallest && point.beta >= point.ratioAtLargest);
  assert.ok(Math.abs(point.ratioAtLargest - point.gradientChangeHigh / (0.4 * point.gradientNorm)) < 1e-9 || point.ratioAtLargest < point.beta);
});

test('claim smoothness: three measures per network over seeds, reproducible, verdict follows the numbers, figure renders', async () => {
  const context = await testContext();
  const result = await runSmoothness(context, TEST_BUDGET);
  assertWellFormed(result, smoothnessClaim.name);
  for (const key of ['lossRange', 'gradientChange', 'beta']) {
    for (const side of ['WithoutBn', 'WithBn']) assert.ok((result.numbers[`${key}${side}`] as number) > 0, `${key}${side}`);
  }
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'));
  const again = await runSmoothness(context, TEST_BUDGET);
  assert.deepEqual(again.numbers, result.numbers, 'same seed, same numbers');
  await assertFiguresRender(result);
});
