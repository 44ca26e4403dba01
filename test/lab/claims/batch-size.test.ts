/**
 * @file The batch-size claim on a test-sized budget: every batch size sees the same number of
 * examples (steps = examples / m), accuracies are fractions, the figure renders.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH_SIZE_QUICK, type BatchSizeBudget, batchSizeClaim, compareBatchSizes, runBatchSize } from '../../../src/lab/claims/batch-size.js';
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
  assert.deepEqual(
    result.tables[0]!.rows.map((row) => row[1]),
    [120, 4],
  );
  for (const m of TEST_BUDGET.batchSizes) {
    for (const key of [`withoutBn@m${m}`, `withBn@m${m}`]) {
      const accuracy = result.numbers[key] as number;
      assert.ok(accuracy >= 0 && accuracy <= 1, `${key} = ${accuracy}`);
    }
  }
  await assertFiguresRender(result);
});

test('the batch-size verdict compares from the smallest batch where the network without BN trains', () => {
  const run = (batchSize: number, withoutBn: number, withBn: number) => ({ batchSize, steps: 1, withoutBn, withBn });
  // The full budget's measurement: at batch 2 both fail, so batch 4 (gain −1.6) is compared with 60 (+1.5).
  const full = compareBatchSizes([run(2, 0.099, 0.167), run(4, 0.966, 0.95), run(60, 0.964, 0.979)]);
  assert.equal(full.smallest.batchSize, 4);
  assert.equal(full.holds, true);
  assert.deepEqual(
    full.failedWithoutBn.map((r) => r.batchSize),
    [2],
  );
  assert.equal(compareBatchSizes([run(2, 0.9, 0.2), run(60, 0.9, 0.95)]).holds, true);
  assert.equal(compareBatchSizes([run(2, 0.9, 0.95), run(60, 0.9, 0.91)]).holds, false);
  assert.equal(compareBatchSizes([run(2, 0.1, 0.5), run(60, 0.1, 0.9)]).holds, false, 'nothing to compare when the network without BN fails everywhere');
});
