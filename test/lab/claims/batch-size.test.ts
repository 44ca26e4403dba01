/**
 * @file The batch-size claim on a test-sized budget: every batch size sees the same number of
 * examples (steps = examples / m), accuracies are fractions, the figure renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH_SIZE_QUICK, batchSizeClaim, runBatchSize, type BatchSizeBudget } from '../../../src/lab/claims/batch-size.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: BatchSizeBudget = {
  ...BATCH_SIZE_QUICK,
  network: { hiddenSizes: [16, 16, 16], activation: 'relu', initStd: 0.05 },
  batchSizes: [2, 60],
  examplesSeen: 240,
  validationCount: 200,
};

test('claim batch-size: same examples seen per batch size, accuracies in [0, 1], figure renders', async () => {
  const result = await runBatchSize(await testContext(), TEST_BUDGET);
  assertWellFormed(result, batchSizeClaim.name);
  assert.deepEqual(result.tables[0]!.rows.map((row) => row[1]), [120, 4]);
  for (const m of TEST_BUDGET.batchSizes) {
    for (const key of [`withoutBn@m${m}`, `withBn@m${m}`]) {
      const accuracy = result.numbers[key] as number;
      assert.ok(accuracy >= 0 && accuracy <= 1, `${key} = ${accuracy}`);
    }
  }
  await assertFiguresRender(result);
});
