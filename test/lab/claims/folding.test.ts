/**
 * @file The folding claim: BN folded into the dense layer before it (W′ = W·γ/σ, b′ = β − γ·μ/σ)
 * gives the BN network's inference logits to float32 rounding, on every backend; the timings are
 * measured and reported, never asserted.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FOLDING_QUICK, FOLDING_RELATIVE_BOUND, type FoldingBudget, foldingClaim, runFolding } from '../../../src/lab/claims/folding.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { assertFiguresRender, assertWellFormed, testData } from './claim-test-kit.js';

const TEST_BUDGET: FoldingBudget = {
  ...FOLDING_QUICK,
  network: { hiddenSizes: [32, 32, 32], activation: 'relu', initStd: 0.05 },
  steps: 100,
  testCount: 500,
  evalBatchSize: 250,
  singleCount: 20,
  rounds: 1,
};

for (const kernels of await backendsUnderTest()) {
  describe(`claim folding [${kernels.name}: ${kernels.variant}]`, () => {
    test("the folded network gives the BN network's logits to float32 rounding; verdict holds", async () => {
      const result = await runFolding({ kernels, data: await testData(), quick: true, seed: 1 }, TEST_BUDGET);
      assertWellFormed(result, foldingClaim.name);
      const relative = result.numbers.maxRelativeLogitDifference as number;
      assert.ok(relative < FOLDING_RELATIVE_BOUND, `relative logit difference ${relative}`);
      assert.ok((result.numbers.maxAbsLogitDifference as number) > 0 || relative === 0);
      assert.equal(result.numbers.predictionDisagreements, 0);
      assert.equal(result.numbers.accuracy, result.numbers.foldedAccuracy);
      assert.equal(result.verdict.holds, true);
      // Timings are measured (positive), not asserted as speeds.
      for (const key of ['unfoldedMs@b250', 'foldedMs@b250', 'unfoldedMs@b1', 'foldedMs@b1']) assert.ok((result.numbers[key] as number) > 0, key);
      await assertFiguresRender(result);
    });
  });
}
