/**
 * @file The placement claim: the per-configuration rule (a placement wins beyond the noise, or
 * neither, or both fail), and the claim on a test budget over two of the article's configurations:
 * both placements trained from the same weights, verdict per configuration, figure renders.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARTICLE_CONFIGURATIONS } from '../../../src/lab/article.js';
import { PLACEMENT_QUICK, type PlacementBudget, placementClaim, placementOutcome, runPlacement } from '../../../src/lab/claims/placement.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

test('placementOutcome: a win needs more than twice the standard error of the difference; both below 20% is a failure', () => {
  const m = (mean: number, std: number) => ({ mean, std, n: 3 });
  assert.equal(placementOutcome(m(0.95, 0.001), m(0.94, 0.001)), 'before');
  assert.equal(placementOutcome(m(0.94, 0.001), m(0.95, 0.001)), 'after');
  assert.equal(placementOutcome(m(0.95, 0.02), m(0.94, 0.02)), 'inside the noise');
  assert.equal(placementOutcome(m(0.11, 0.01), m(0.1, 0.001)), 'both fail');
});

test('claim placement at a test budget: every configuration gets a verdict from its numbers; figure renders', async () => {
  const budget: PlacementBudget = {
    ...PLACEMENT_QUICK,
    hiddenSizes: [16, 16, 16],
    steps: 40,
    checkpoints: 4,
    validationCount: 200,
    seeds: 3,
    configurations: ARTICLE_CONFIGURATIONS.slice(0, 2),
  };
  const result = await runPlacement(await testContext(), budget);
  assertWellFormed(result, placementClaim.name);
  for (const id of [1, 2]) {
    const pre = result.numbers[`pre@model${id}`] as number,
      post = result.numbers[`post@model${id}`] as number;
    assert.ok(pre >= 0 && pre <= 1 && post >= 0 && post <= 1);
    assert.ok(['before', 'after', 'inside the noise', 'both fail'].includes(result.numbers[`outcome@model${id}`] as string));
  }
  assert.equal(result.verdict.holds, !['outcome@model1', 'outcome@model2'].some((key) => result.numbers[key] === 'after'));
  await assertFiguresRender(result);
});
