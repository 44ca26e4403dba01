/**
 * @file The non-iid-batches claim: the class-block split puts exactly `classes` distinct classes in
 * every block of classes × perClass rows and copies each chosen row intact; the claim at a test
 * budget is well formed and its figure renders.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/core/rng.js';
import { classBlockSplit, NON_IID_QUICK, type NonIidBudget, nonIidBatchesClaim, runNonIidBatches } from '../../../src/lab/claims/non-iid-batches.js';
import { assertFiguresRender, assertWellFormed, testContext, testData } from './claim-test-kit.js';

test('classBlockSplit: every block of 2 × 30 rows holds exactly 2 classes, 30 each, rows copied from the split', async () => {
  const data = await testData();
  const blocks = classBlockSplit(data.train, 2, 30, new Rng(1));
  assert.equal(blocks.count % 60, 0);
  assert.ok(blocks.count > 50000, `${blocks.count} rows`);
  for (let b = 0; b < blocks.count / 60; b++) {
    const counts = new Map<number, number>();
    for (let i = b * 60; i < (b + 1) * 60; i++) counts.set(blocks.labels[i]!, (counts.get(blocks.labels[i]!) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [30, 30], `block ${b}`);
  }
  // Each row is a row of the training split with its label (spot-check the first one).
  const width = data.train.width;
  const first = blocks.pixels.subarray(0, width);
  let found = false;
  for (let i = 0; i < data.train.count && !found; i++) {
    if (data.train.labels[i] === blocks.labels[0] && data.train.pixels.subarray(i * width, (i + 1) * width).every((v, k) => v === first[k])) found = true;
  }
  assert.ok(found);
});

test('claim non-iid-batches at a test budget: three norms, i.i.d. and not, figure renders', async () => {
  const budget: NonIidBudget = {
    ...NON_IID_QUICK,
    network: { hiddenSizes: [16, 16, 16], activation: 'relu', initStd: 0.05 },
    steps: 30,
    testCount: 300,
    seeds: 2,
  };
  const result = await runNonIidBatches(await testContext(), budget);
  assertWellFormed(result, nonIidBatchesClaim.name);
  for (const norm of ['none', 'bn', 'brn']) {
    for (const key of [`${norm}Iid`, `${norm}NonIid`]) assert.ok((result.numbers[key] as number) >= 0 && (result.numbers[key] as number) <= 1, key);
  }
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'));
  await assertFiguresRender(result);
});
