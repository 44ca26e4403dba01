/**
 * @file The covariate-shift claim on a test-sized budget: it runs, measures a drift for every
 * percentile of both networks, and its figure renders. At step 0 the BN network's sigmoid input
 * is x̂ of the probe (γ = 1, β = 0), whose 50th percentile lies within one std of 0 (Chebyshev:
 * at most 1/k² of any distribution lies beyond k std, and the median cannot).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BURN_IN_FRACTION,
  COVARIATE_SHIFT_QUICK,
  type CovariateShiftBudget,
  covariateShiftClaim,
  PERCENTILES,
  runCovariateShift,
} from '../../../src/lab/claims/covariate-shift.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: CovariateShiftBudget = {
  ...COVARIATE_SHIFT_QUICK,
  network: { hiddenSizes: [16, 16, 16], activation: 'sigmoid', initStd: 0.05 },
  steps: 40,
  probeCount: 100,
  checkpointEvery: 10,
};

test('claim covariate-shift: at step 0 the BN input is x̂ of the probe; drifts measured for both networks, figure renders', async () => {
  const result = await runCovariateShift(await testContext(), TEST_BUDGET);
  assertWellFormed(result, covariateShiftClaim.name);
  // The plotted tracks, [panel][series = percentile] -> points, from the figure's own data.
  const spec = result.figures[0]!.spec as unknown as {
    concat: Array<{ title: { text: string }; data: { values: Array<{ x: number; y: number; series: string }> } }>;
  };
  const withBn = spec.concat.find((panel) => panel.title.text === 'with BN')!.data.values;
  const atStart = PERCENTILES.map((p) => withBn.find((row) => row.x === 0 && row.series === `${p}th percentile`)!.y);
  // x̂ has mean 0 and variance σ²/(σ² + eps) < 1 over the probe: its median lies within one std of 0, and 0 between the 15th and 85th percentiles.
  assert.ok(atStart[0]! < 0 && atStart[2]! > 0, `15th ${atStart[0]} < 0 < 85th ${atStart[2]}`);
  assert.ok(Math.abs(atStart[1]!) <= 1, `median ${atStart[1]}`);
  // The drift is the range of each plotted track after the burn-in, whatever network: checked against the figure.
  const firstCounted = TEST_BUDGET.steps * BURN_IN_FRACTION;
  for (const [k, p] of PERCENTILES.entries()) {
    const track = withBn.filter((row) => row.series === `${p}th percentile` && row.x >= firstCounted).map((row) => row.y);
    assert.ok(Math.abs((result.numbers[`driftWithBn@p${p}`] as number) - (Math.max(...track) - Math.min(...track))) < 1e-12, `p${p} (k ${k})`);
  }
  assert.equal(result.numbers.units, 16);
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'), 'the verdict text follows the measurement');
  await assertFiguresRender(result);
});
