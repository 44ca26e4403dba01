/**
 * @file The scale-invariance claim, measured on a real batch: with ε → 0, BN(aWu) = BN(Wu), so
 * ∂L/∂u is unchanged (ratio 1) and ∂L/∂(aW) = (1/a)·∂L/∂W (the article's derivation). A test
 * budget trains only a few steps at learning rate 2; that part is checked for shape only.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runScaleInvariance, SCALE_INVARIANCE_QUICK, type ScaleInvarianceBudget, scaleInvarianceClaim } from '../../../src/lab/claims/scale-invariance.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: ScaleInvarianceBudget = { ...SCALE_INVARIANCE_QUICK, trainingSteps: 10, validationCount: 100, checkpointEvery: 5 };

for (const kernels of await backendsUnderTest()) {
  describe(`claim scale-invariance [${kernels.name}: ${kernels.variant}]`, () => {
    test('input-gradient ratio 1 and weight-gradient ratio 1/a for a = 0.1 … 1000', async () => {
      const result = await runScaleInvariance(await testContext(kernels), TEST_BUDGET);
      assertWellFormed(result, scaleInvarianceClaim.name);
      for (const a of TEST_BUDGET.scales) {
        const input = result.numbers[`inputGradientRatio@${a}`] as number;
        const weight = result.numbers[`weightGradientRatio@${a}`] as number;
        assert.ok(Math.abs(input - 1) < 1e-3, `a = ${a}: input-gradient ratio ${input}`);
        assert.ok(Math.abs(weight * a - 1) < 1e-3, `a = ${a}: weight-gradient ratio ${weight}, 1/a = ${1 / a}`);
      }
      const accuracy = result.numbers.largeLrAccuracyWithBn as number;
      assert.ok(accuracy >= 0 && accuracy <= 1);
      if (kernels.name === 'js') await assertFiguresRender(result);
    });
  });
}
