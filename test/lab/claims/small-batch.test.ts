/**
 * @file The small-batch claim on a test budget: six norms per batch size, every run seeing the
 * same examples with the learning rate scaled linearly, accuracies in [0, 1], Ghost BN equal to BN
 * where its virtual batch is the whole batch, and the figure renders.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSmallBatch, SMALL_BATCH_NORMS, SMALL_BATCH_QUICK, type SmallBatchBudget, smallBatchClaim } from '../../../src/lab/claims/small-batch.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: SmallBatchBudget = {
  ...SMALL_BATCH_QUICK,
  network: { hiddenSizes: [16, 16, 16], activation: 'relu', initStd: 0.05 },
  batchSizes: [2, 32],
  examplesSeen: 320,
  validationCount: 200,
  groups: 4,
  seeds: 2,
};

test('claim small-batch: every norm at every batch size, linear learning-rate scaling, figure renders', async () => {
  const result = await runSmallBatch(await testContext(), TEST_BUDGET);
  assertWellFormed(result, smallBatchClaim.name);
  for (const { norm } of SMALL_BATCH_NORMS) {
    for (const m of TEST_BUDGET.batchSizes) {
      const accuracy = result.numbers[`${norm}@m${m}`] as number;
      assert.ok(accuracy >= 0 && accuracy <= 1, `${norm}@m${m} = ${accuracy}`);
    }
  }
  // At m ≤ the ghost batch (16) a virtual batch is the whole batch: Ghost BN is BN, bit for bit.
  assert.equal(result.numbers['ghost@m2'], result.numbers['bn@m2']);
  assert.deepEqual(result.tables[0]!.columns.slice(1, 3), ['m = 2 (lr 0.00625)', 'm = 32 (lr 0.1)']);
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'));
  await assertFiguresRender(result);
});
