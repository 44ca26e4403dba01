/**
 * @file The bias-redundancy claim: with BN, a hidden bias shifts the batch mean by exactly b, so
 * BN(xW + b) = BN(xW) and ∂L/∂b = Σ_i ∂L/∂x_i = 0 (BN's input gradient sums to zero over the
 * batch because Σ x̂ = 0). Only float32 rounding may remain.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BIAS_REDUNDANCY_BUDGET, biasRedundancyClaim, runBiasRedundancy } from '../../../src/lab/claims/bias-redundancy.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { assertFiguresRender, assertWellFormed, testData } from './claim-test-kit.js';

for (const kernels of await backendsUnderTest()) {
  describe(`claim bias-redundancy [${kernels.name}: ${kernels.variant}]`, () => {
    test('same outputs with and without the bias (< 1e-4), bias gradient ≈ 0; verdict holds', async () => {
      const result = await runBiasRedundancy({ kernels, data: await testData(), seed: 1 }, BIAS_REDUNDANCY_BUDGET);
      assertWellFormed(result, biasRedundancyClaim.name);
      assert.ok((result.numbers.maxLogitDifference as number) < 1e-4, `logit difference ${result.numbers.maxLogitDifference}`);
      assert.ok((result.numbers.maxRelativeBiasGradient as number) < 1e-4, `relative bias gradient ${result.numbers.maxRelativeBiasGradient}`);
      assert.ok((result.numbers.maxBiasGradient as number) < 1e-6);
      assert.ok(Math.abs((result.numbers.lossWithBias as number) - (result.numbers.lossWithoutBias as number)) < 1e-5);
      assert.equal(result.verdict.holds, true);
    });
  });
}

test('claim bias-redundancy: its figure renders to SVG and PNG', async () => {
  const [kernels] = await backendsUnderTest();
  await assertFiguresRender(await runBiasRedundancy({ kernels: kernels!, data: await testData(), seed: 1 }, BIAS_REDUNDANCY_BUDGET));
});
