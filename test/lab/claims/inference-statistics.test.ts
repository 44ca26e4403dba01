/**
 * @file The inference-statistics claim. With the `batch` estimator and one example per batch,
 * σ²_B = 0 so x̂ = 0 and every hidden layer outputs f(β): all logits are equal and every example
 * gets the same class, whatever the training. With population statistics inference is per-example,
 * so one at a time must predict exactly what batches of 1000 predicted (float rounding aside).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  INFERENCE_STATISTICS_QUICK,
  type InferenceStatisticsBudget,
  inferenceStatisticsClaim,
  runInferenceStatistics,
} from '../../../src/lab/claims/inference-statistics.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: InferenceStatisticsBudget = {
  ...INFERENCE_STATISTICS_QUICK,
  network: { hiddenSizes: [32, 32, 32], activation: 'relu', initStd: 0.05 },
  steps: 100,
  averageBatches: 20,
  testCount: 400,
  singleCount: 200,
  evalBatchSize: 200,
};

test('claim inference-statistics: batch statistics one at a time give one class; population statistics agree with batched inference', async () => {
  const result = await runInferenceStatistics(await testContext(), TEST_BUDGET);
  assertWellFormed(result, inferenceStatisticsClaim.name);
  assert.equal(result.numbers.batchSingleDistinctClasses, 1);
  for (const key of ['ema', 'averageUnbiased', 'averageBiased']) {
    assert.ok((result.numbers[`${key}SingleDistinctClasses`] as number) > 1, `${key}: more than one class`);
    assert.ok((result.numbers[`${key}SingleAgreement`] as number) >= 0.99, `${key}: agreement ${result.numbers[`${key}SingleAgreement`]}`);
  }
  assert.equal(result.verdict.holds, true);
  await assertFiguresRender(result);
});
