/**
 * @file The regularization claim. The noise part follows from the statistics of a mean: an
 * example's BN output moves with μ_B and σ_B, whose errors shrink like 1/√m, so the spread
 * against m has a log-log slope near −1/2. The paired standard error is checked by hand.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  pairedAccuracyDifferenceStdError,
  REGULARIZATION_QUICK,
  type RegularizationBudget,
  regularizationClaim,
  runRegularization,
  SLOPE_TOLERANCE,
} from '../../../src/lab/claims/regularization.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: RegularizationBudget = {
  ...REGULARIZATION_QUICK,
  network: { hiddenSizes: [32, 32, 32], activation: 'relu', initStd: 0.05 },
  steps: 30,
  trainingSubset: 200,
  validationCount: 200,
  noiseSamples: 200,
};

test('paired standard error: only the images where exactly one classifier is right count', () => {
  const labels = Uint8Array.from([0, 1, 2, 3]);
  // first right on 0,1,2; second right on 0,3: one image only-first... images 1,2 only first, 3 only second.
  const first = Uint8Array.from([0, 1, 2, 0]);
  const second = Uint8Array.from([0, 0, 0, 3]);
  // d_i = +1, +1, −1 on three images, 0 on one: var of the mean = (3 − (1)²/4)/16.
  assert.ok(Math.abs(pairedAccuracyDifferenceStdError(first, second, labels) - Math.sqrt((3 - 1 / 4) / 16)) < 1e-12);
  assert.equal(pairedAccuracyDifferenceStdError(first, first, labels), 0);
});

test('claim regularization: the BN noise shrinks like 1/√m; gap measured; figures render', async () => {
  const result = await runRegularization(await testContext(), TEST_BUDGET);
  assertWellFormed(result, regularizationClaim.name);
  const spreads = TEST_BUDGET.noiseBatchSizes.map((m) => result.numbers[`spread@m${m}`] as number);
  spreads.forEach((spread, i) => {
    assert.ok(i === 0 || spread < spreads[i - 1]!, `spread decreases with m: ${spreads.join(', ')}`);
  });
  assert.ok(Math.abs((result.numbers.spreadSlope as number) + 0.5) <= SLOPE_TOLERANCE, `slope ${result.numbers.spreadSlope}`);
  // Accuracies are counts over the budget's images: a multiple of 1/200 each, or they were measured on other images.
  for (const name of ['trainAccuracyWithBn', 'validationAccuracyWithBn', 'trainAccuracyWithoutBn', 'validationAccuracyWithoutBn']) {
    const count = name.startsWith('train') ? TEST_BUDGET.trainingSubset : TEST_BUDGET.validationCount;
    const correct = (result.numbers[name] as number) * count;
    assert.ok(Math.abs(correct - Math.round(correct)) < 1e-9, `${name} = ${result.numbers[name]} is not k/${count}`);
  }
  await assertFiguresRender(result);
});
