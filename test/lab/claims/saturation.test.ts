/**
 * @file The saturation claim on a test-sized budget. At step 0, with BN, each unit's input over
 * the probe is x̂ (mean 0, variance ≤ 1), so by Chebyshev at most 1/t² of it lies beyond the
 * threshold t ≈ 4.59. Without BN and with N(0, 10²) weights, a unit's input has a std of about
 * 10·‖x‖ (‖x‖ ≈ 9 for an MNIST image), far beyond t: most inputs are saturated.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  runSaturation,
  SATURATED_DERIVATIVE,
  SATURATION_QUICK,
  SATURATION_THRESHOLD,
  type SaturationBudget,
  saturatedFraction,
  saturationClaim,
} from '../../../src/lab/claims/saturation.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const TEST_BUDGET: SaturationBudget = { ...SATURATION_QUICK, hiddenSizes: [16, 16, 16], steps: 20, probeCount: 100, checkpointEvery: 10 };

test("the saturation threshold is where σ'(z) = 0.01", () => {
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
  const derivative = sigmoid(SATURATION_THRESHOLD) * (1 - sigmoid(SATURATION_THRESHOLD));
  assert.ok(Math.abs(derivative - SATURATED_DERIVATIVE) < 1e-12, `σ'(${SATURATION_THRESHOLD}) = ${derivative}`);
  assert.equal(saturatedFraction([0, 5, -5, 4.5]), 0.5);
});

test('claim saturation: BN starts unsaturated (Chebyshev), std 10 without BN starts saturated, figure renders', async () => {
  const result = await runSaturation(await testContext(), TEST_BUDGET);
  assertWellFormed(result, saturationClaim.name);
  const chebyshevBound = 1 / SATURATION_THRESHOLD ** 2;
  assert.ok((result.numbers.std10WithBnSaturatedAtStart as number) <= chebyshevBound);
  assert.ok((result.numbers['std0.05WithBnSaturatedAtStart'] as number) <= chebyshevBound);
  assert.ok((result.numbers.std10WithoutBnSaturatedAtStart as number) > 0.5, `std 10 without BN: ${result.numbers.std10WithoutBnSaturatedAtStart}`);
  await assertFiguresRender(result);
});
