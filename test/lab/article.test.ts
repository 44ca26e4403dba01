/**
 * @file The article's figures as typed data (src/lab/article.ts) match its table
 * (reference/article-table.csv) number for number (the grid itself, sweeps/article.yaml, is
 * checked against the same table in test/node/article-sweep.test.ts).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARTICLE_CONFIGURATIONS, ARTICLE_RESULTS, ARTICLE_SHORT_RUN, ARTICLE_STEPS, articleFiguresFor, isConfigurationId } from '../../src/lab/article.js';
import { readArticleCsv } from './article-csv.js';

const csv = readArticleCsv();
const tableRows = csv.filter((row) => /^\d+$/.test(row.model));

describe('the article as data', () => {
  test('the CSV holds the eight models and the short run', () => {
    assert.deepEqual(
      tableRows.map((row) => row.model),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
    assert.ok(csv.some((row) => row.model === '1-short'));
  });

  test('every configuration has the std, lr and activation of its CSV row', () => {
    assert.equal(ARTICLE_CONFIGURATIONS.length, 8);
    for (const row of tableRows) {
      const config = ARTICLE_CONFIGURATIONS.find((c) => c.id === Number(row.model));
      assert.ok(config, `model ${row.model}`);
      assert.deepEqual(
        { initStd: config.initStd, learningRate: config.learningRate, activation: config.activation },
        { initStd: row.initStd, learningRate: row.learningRate, activation: row.activation },
      );
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
    assert.deepEqual(
      [ARTICLE_SHORT_RUN.withoutBn.validation, ARTICLE_SHORT_RUN.withoutBn.test, ARTICLE_SHORT_RUN.withBn.validation, ARTICLE_SHORT_RUN.withBn.test],
      [short.noBnVal, short.noBnTest, short.bnVal, short.bnTest],
    );
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
