/**
 * @file The article's grid as the sweep shipped with bnlab (sweeps/article.yaml): its 16 runs are
 * the article's table (test/lab/article-csv.ts), ids as before sweeps (c3-bn-s1), the two runs of
 * a pair from the same initial weights; `reproduce`'s flags change it as they say.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { articleSweep } from '../../src/cli/commands/reproduce.js';
import { ARTICLE_BATCH_SIZE } from '../../src/lab/article.js';
import { GRID_DEFAULTS } from '../../src/lab/grid.js';
import { sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import { articleSpecPath, readSweepSpec } from '../../src/node/sweep-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { initialWeightsFor } from '../../src/train/networks.js';
import { readArticleCsv } from '../lab/article-csv.js';

const tableRows = readArticleCsv().filter((row) => /^\d+$/.test(row.model));
const spec = await readSweepSpec(articleSpecPath());

describe("the article's grid as a sweep", () => {
  test("its fixed settings are the article's: 50,000 steps, batch 60, validation every 500", () => {
    assert.deepEqual(spec.fixed, { steps: tableRows[0]!.steps, batchSize: tableRows[0]!.batchSize, validateEvery: 500 });
    assert.deepEqual(spec.fixed, GRID_DEFAULTS);
    assert.equal(ARTICLE_BATCH_SIZE, 60);
  });

  test("16 runs: each CSV configuration without and with BN, with the CSV's std, lr and activation, trained to the end", () => {
    const runs = sweepRuns(spec);
    assert.equal(runs.length, 16);
    assert.equal(new Set(runs.map((run) => run.id)).size, 16);
    for (const row of tableRows) {
      const pair = runs.filter((run) => run.id.startsWith(`c${row.model}-`));
      assert.deepEqual(
        pair.map((run) => run.id),
        [`c${row.model}-nobn-s1`, `c${row.model}-bn-s1`],
      );
      assert.deepEqual(
        pair.map((run) => run.config.batchNorm),
        [false, true],
      );
      for (const run of pair) {
        // Exactly the config the grid had before it was a file: the defaults with the row's values.
        assert.deepEqual(
          run.config,
          resolveTrainConfig({
            steps: row.steps,
            batchSize: row.batchSize,
            validateEvery: 500,
            learningRate: row.learningRate,
            initStd: row.initStd,
            activation: row.activation as 'relu' | 'sigmoid',
            seed: 1,
            batchNorm: run.config.batchNorm,
            stopOnDivergence: false,
          }),
        );
      }
    }
  });

  test("reproduce's flags: a selection of configurations, seeds 1..N, other steps", () => {
    const runs = sweepRuns(articleSweep(spec, { steps: 200, validateEvery: 100, configs: [8, 1], seeds: 2 }));
    assert.deepEqual(
      runs.map((run) => run.id),
      ['c1-nobn-s1', 'c1-bn-s1', 'c8-nobn-s1', 'c8-bn-s1', 'c1-nobn-s2', 'c1-bn-s2', 'c8-nobn-s2', 'c8-bn-s2'],
    );
    assert.ok(runs.every((run) => run.config.steps === 200 && run.config.validateEvery === 100 && run.config.seed === run.seed));
  });

  test('the two networks of a pair start from the same initial weights; another seed draws others', () => {
    const runs = sweepRuns(articleSweep(spec, { steps: 50_000, validateEvery: 500, configs: [5], seeds: 2 }));
    const [withoutBn, withBn, otherSeed] = runs.map((run) => initialWeightsFor(run.config));
    assert.equal(withoutBn!.length, 4);
    withoutBn!.forEach((weights, layer) => {
      assert.deepEqual(weights.data, withBn![layer]!.data, `layer ${layer}`);
    });
    assert.notDeepEqual(withoutBn![0]!.data.slice(0, 16), otherSeed![0]!.data.slice(0, 16));
    // std 10: the sample std of the first layer's 100,352 weights is within 1% of 10.
    const first = withoutBn![0]!.data;
    let squares = 0;
    for (let i = 0; i < first.length; i++) squares += first[i]! ** 2;
    const std = Math.sqrt(squares / first.length);
    assert.ok(Math.abs(std - 10) < 0.1, `std ${std}`);
  });
});
