/**
 * @file The article's figures as typed data (src/lab/article.ts) match its table
 * (reference/article-table.csv) number for number, and the grid (src/lab/grid.ts) is the
 * article's: eight configurations, each without and with BN, from the same initial weights.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARTICLE_BATCH_SIZE, ARTICLE_CONFIGURATIONS, ARTICLE_RESULTS, ARTICLE_SHORT_RUN, ARTICLE_STEPS, articleFiguresFor, isConfigurationId,
} from '../../src/lab/article.js';
import { articleGrid, GRID_DEFAULTS, gridRuns, parseRunId, runId } from '../../src/lab/grid.js';
import { initialWeightsFor } from '../../src/train/networks.js';
import { readArticleCsv } from './article-csv.js';

const csv = readArticleCsv();
const tableRows = csv.filter((row) => /^\d+$/.test(row.model));

describe('the article as data', () => {
  test('the CSV holds the eight models and the short run', () => {
    assert.deepEqual(tableRows.map((row) => row.model), ['1', '2', '3', '4', '5', '6', '7', '8']);
    assert.ok(csv.some((row) => row.model === '1-short'));
  });

  test('every configuration has the std, lr and activation of its CSV row', () => {
    assert.equal(ARTICLE_CONFIGURATIONS.length, 8);
    for (const row of tableRows) {
      const config = ARTICLE_CONFIGURATIONS.find((c) => c.id === Number(row.model));
      assert.ok(config, `model ${row.model}`);
      assert.deepEqual({ initStd: config.initStd, learningRate: config.learningRate, activation: config.activation }, { initStd: row.initStd, learningRate: row.learningRate, activation: row.activation });
    }
  });

  test('every figure equals the CSV', () => {
    for (const row of tableRows) {
      const figures = ARTICLE_RESULTS[Number(row.model) - 1]!;
      assert.equal(figures.configId, Number(row.model));
      assert.equal(figures.steps, row.steps);
      assert.equal(figures.batchSize, row.batchSize);
      assert.deepEqual(figures.withoutBn, { validation: row.noBnVal, test: row.noBnTest }, `model ${row.model} without BN`);
      assert.deepEqual(figures.withBn, { validation: row.bnVal, test: row.bnTest }, `model ${row.model} with BN`);
      assert.equal(figures.withoutBnStepsPerSecond, row.noBnItPerS);
      assert.equal(figures.withBnStepsPerSecond, row.bnItPerS);
    }
    const short = csv.find((row) => row.model === '1-short')!;
    assert.equal(ARTICLE_SHORT_RUN.steps, short.steps);
    assert.deepEqual([ARTICLE_SHORT_RUN.withoutBn.validation, ARTICLE_SHORT_RUN.withoutBn.test, ARTICLE_SHORT_RUN.withBn.validation, ARTICLE_SHORT_RUN.withBn.test], [short.noBnVal, short.noBnTest, short.bnVal, short.bnTest]);
  });

  test('the figures set beside a run depend on its steps', () => {
    assert.equal(articleFiguresFor(3, ARTICLE_STEPS), ARTICLE_RESULTS[2]);
    assert.equal(articleFiguresFor(1, 3000), ARTICLE_SHORT_RUN);
    assert.equal(articleFiguresFor(2, 3000), null, 'the article ran only model 1 for 3,000 steps');
    assert.equal(articleFiguresFor(1, 200), null);
  });

  test('configuration ids are 1-8', () => {
    assert.ok(isConfigurationId(1) && isConfigurationId(8));
    assert.ok(!isConfigurationId(0) && !isConfigurationId(9) && !isConfigurationId(1.5));
  });
});

describe('the grid', () => {
  test('defaults are the article\'s: 50,000 steps, batch 60', () => {
    assert.equal(GRID_DEFAULTS.steps, tableRows[0]!.steps);
    assert.equal(GRID_DEFAULTS.batchSize, tableRows[0]!.batchSize);
    assert.equal(ARTICLE_BATCH_SIZE, 60);
  });

  test('16 runs: each CSV configuration without and with BN, with the CSV\'s std, lr and activation', () => {
    const runs = articleGrid();
    assert.equal(runs.length, 16);
    assert.equal(new Set(runs.map((run) => run.id)).size, 16);
    for (const row of tableRows) {
      const pair = runs.filter((run) => run.configId === Number(row.model));
      assert.deepEqual(pair.map((run) => run.batchNorm), [false, true]);
      for (const run of pair) {
        assert.equal(run.config.initStd, row.initStd);
        assert.equal(run.config.learningRate, row.learningRate);
        assert.equal(run.config.activation, row.activation);
        assert.equal(run.config.steps, row.steps);
        assert.equal(run.config.batchSize, row.batchSize);
        assert.equal(run.config.batchNorm, run.batchNorm);
        assert.equal(run.config.stopOnDivergence, false);
      }
    }
  });

  test('ids are stable and parse back', () => {
    assert.equal(runId(3, true, 1), 'c3-bn-s1');
    assert.equal(runId(3, false, 12), 'c3-nobn-s12');
    assert.deepEqual(parseRunId('c3-bn-s1'), { configId: 3, batchNorm: true, seed: 1 });
    assert.equal(parseRunId('c9-bn-s1'), null);
    assert.equal(parseRunId('notes'), null);
  });

  test('a selection keeps the article\'s order, seeds 1..N, and the settings', () => {
    const runs = gridRuns({ configs: [8, 1], seeds: 2 }, { steps: 200, batchSize: 60, validateEvery: 100 });
    assert.deepEqual(runs.map((run) => run.id), ['c1-nobn-s1', 'c1-bn-s1', 'c1-nobn-s2', 'c1-bn-s2', 'c8-nobn-s1', 'c8-bn-s1', 'c8-nobn-s2', 'c8-bn-s2']);
    assert.ok(runs.every((run) => run.config.steps === 200 && run.config.validateEvery === 100 && run.config.seed === run.seed));
  });

  test('the two networks of a pair start from the same initial weights; another seed draws others', () => {
    const runs = gridRuns({ configs: [5], seeds: 2 }, GRID_DEFAULTS);
    const [withoutBn, withBn, otherSeed] = runs.map((run) => initialWeightsFor(run.config));
    assert.equal(withoutBn!.length, 4);
    withoutBn!.forEach((weights, layer) => assert.deepEqual(weights.data, withBn![layer]!.data, `layer ${layer}`));
    assert.notDeepEqual(withoutBn![0]!.data.slice(0, 16), otherSeed![0]!.data.slice(0, 16));
    // std 10: the sample std of the first layer's 100,352 weights is within 1% of 10.
    const first = withoutBn![0]!.data;
    let squares = 0;
    for (let i = 0; i < first.length; i++) squares += first[i]! ** 2;
    const std = Math.sqrt(squares / first.length);
    assert.ok(Math.abs(std - 10) < 0.1, `std ${std}`);
  });
});
