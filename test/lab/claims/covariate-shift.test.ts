/**
 * @file The covariate-shift claim on a test-sized budget: it runs, measures a drift for every
 * percentile of both networks, and its figure renders. At step 0 the BN network's sigmoid input
 * is x̂ of the probe (γ = 1, β = 0), whose 50th percentile lies within one std of 0 (Chebyshev:
 * at most 1/k² of any distribution lies beyond k std, and the median cannot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COVARIATE_SHIFT_QUICK, covariateShiftClaim, PERCENTILES, runCovariateShift, type CovariateShiftBudget } from '../../../src/lab/claims/covariate-shift.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: CovariateShiftBudget = {
  ...COVARIATE_SHIFT_QUICK,
  network: { hiddenSizes: [16, 16, 16], activation: 'sigmoid', initStd: 0.05 },
  steps: 40,
  probeCount: 100,
  checkpointEvery: 10,
};

test('claim covariate-shift: drifts measured for both networks, figure renders', async () => {
  const result = await runCovariateShift(await testContext(), TEST_BUDGET);
  assertWellFormed(result, covariateShiftClaim.name);
  for (const p of PERCENTILES) {
    assert.ok((result.numbers[`driftWithoutBn@p${p}`] as number) >= 0);
    assert.ok((result.numbers[`driftWithBn@p${p}`] as number) >= 0);
  }
  assert.equal(result.numbers.units, 16);
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'), 'the verdict text follows the measurement');
  await assertFiguresRender(result);
});
