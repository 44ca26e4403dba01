/**
 * @file The report builders (src/lab/report): the verdict rule on hand-picked cases derived
 * from its statement, mean ± std over seeds, the run record's JSON round trip and its corrupt
 * cases, and the Markdown / CSV / HTML built from hand-written records: they hold the article's
 * figures, bnlab's, and the verdicts.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARTICLE_RESULTS } from '../../src/lab/article.js';
import { configChartSpec, overviewChartSpec } from '../../src/lab/report/charts.js';
import { buildCsvReport, REPORT_CSV_HEADER } from '../../src/lab/report/csv.js';
import { buildHtmlReport } from '../../src/lab/report/html.js';
import { ARTICLE_VERDICT_BASIS, LAST_HALF_EXPLANATION } from '../../src/lab/report/last-half-note.js';
import { buildMarkdownReport } from '../../src/lab/report/markdown.js';
import { CorruptRecordError, parseRunRecord, runRecordJson } from '../../src/lab/report/run-record.js';
import { buildGridReport, meanCurve, seedStats } from '../../src/lab/report/summary.js';
import { VERDICT_RULE, verdictFor } from '../../src/lab/report/verdict.js';
import { FIXTURE_SETTINGS, fixtureRecord } from './run-record-fixture.js';

describe('the verdict rule', () => {
  test('agrees within one percentage point with one seed, differs beyond', () => {
    assert.equal(verdictFor(0.97, 0, 0.9774).kind, 'agrees'); // −0.0074
    const differs = verdictFor(0.96, 0, 0.9774); // −0.0174
    assert.equal(differs.kind, 'differs');
    assert.ok(differs.kind === 'differs' && Math.abs(differs.difference - -0.0174) < 1e-12);
  });

  test('the tolerance widens to two standard deviations over seeds', () => {
    const verdict = verdictFor(0.9574, 0.015, 0.9774); // |−0.02| ≤ 2·0.015 = 0.03
    assert.equal(verdict.kind, 'agrees');
    assert.ok(verdict.kind === 'agrees' && Math.abs(verdict.tolerance - 0.03) < 1e-12);
    assert.equal(verdictFor(0.9374, 0.015, 0.9774).kind, 'differs'); // |−0.04| > 0.03
  });

  test("a run the article reports as failed agrees when bnlab's fails too, whatever the exact chance figure", () => {
    const bothFail = verdictFor(0.0958, 0, 0.1126); // model 3 without BN: 0.0168 apart, both chance
    assert.deepEqual(bothFail.kind === 'agrees' && bothFail.failedBoth, true);
    const onlyArticleFails = verdictFor(0.95, 0, 0.1126);
    assert.ok(onlyArticleFails.kind === 'differs' && onlyArticleFails.articleFailed && !onlyArticleFails.bnlabFailed);
    const onlyBnlabFails = verdictFor(0.098, 0, 0.9388);
    assert.ok(onlyBnlabFails.kind === 'differs' && onlyBnlabFails.bnlabFailed);
    assert.equal(verdictFor(NaN, 0, 0.098).kind, 'agrees', 'a NaN accuracy is a failed run');
  });

  test('no article figure: not compared', () => {
    assert.equal(verdictFor(0.5, 0, null).kind, 'not-compared');
  });
});

describe('statistics over seeds', () => {
  test('mean and sample std (n − 1)', () => {
    const stats = seedStats([0.97, 0.98, 0.99]);
    assert.ok(Math.abs(stats.mean - 0.98) < 1e-12);
    assert.ok(Math.abs(stats.std - 0.01) < 1e-12); // sqrt((0.0001 + 0 + 0.0001) / 2)
    assert.deepEqual(seedStats([0.5]), { mean: 0.5, std: 0, count: 1 });
  });

  test('the mean curve averages seeds step by step', () => {
    const a = fixtureRecord(1, true, 1, 0.9, 0.9);
    const b = fixtureRecord(1, true, 2, 0.7, 0.7);
    assert.deepEqual(
      meanCurve([a, b]).map((p) => [p.step, Number(p.validationAccuracy.toFixed(10))]),
      [
        [0, 0.1],
        [25_000, 0.45],
        [50_000, 0.8],
      ],
    );
  });
});

describe('run records', () => {
  test('round trip through JSON, NaN losses as null', () => {
    const record = fixtureRecord(3, false, 1, 0.0958, 0.098, { divergedAtStep: 55, validation: { accuracy: 0.0958, loss: NaN } });
    const json = runRecordJson(record);
    assert.match(json, /"loss": null/);
    const parsed = parseRunRecord(json, 'c3-nobn-s1');
    assert.ok(Number.isNaN(parsed.validation.loss));
    assert.ok(Number.isNaN(parsed.curve[0]!.trainingLoss));
    assert.equal(runRecordJson(parsed), json, 'writing it back gives the same bytes');
  });

  test('bad JSON, a missing field, a wrong id are corrupt, with a reason', () => {
    const json = runRecordJson(fixtureRecord(1, true, 1, 0.98, 0.98));
    assert.throws(
      () => parseRunRecord(json.slice(0, 100), 'c1-bn-s1'),
      (error: Error) => error instanceof CorruptRecordError && /not valid JSON/.test(error.message),
    );
    const withoutTest = JSON.parse(json) as Record<string, unknown>;
    delete withoutTest.test;
    assert.throws(() => parseRunRecord(JSON.stringify(withoutTest), 'c1-bn-s1'), /missing field "test"/);
    assert.throws(() => parseRunRecord(json, 'c1-bn-s2'), /holds run c1-bn-s1/);
    const badCurve = JSON.parse(json) as { curve: Array<Record<string, unknown>> };
    badCurve.curve[1]!.validationAccuracy = 'high';
    assert.throws(() => parseRunRecord(JSON.stringify(badCurve), 'c1-bn-s1'), /curve\[1\]\.validationAccuracy/);
    const otherLr = JSON.parse(json) as { config: { learningRate: number } };
    otherLr.config.learningRate = 2;
    assert.throws(() => parseRunRecord(JSON.stringify(otherLr), 'c1-bn-s1'), /field "configId" is not the article configuration of its config/);
  });
});

/** A grid where bnlab agrees on most cells: the article's figures, nudged. */
function fixtureGrid() {
  const records = [];
  for (const figures of ARTICLE_RESULTS) {
    const id = figures.configId;
    for (const seed of [1, 2]) {
      const nudge = seed === 1 ? 0.002 : -0.002;
      records.push(fixtureRecord(id, false, seed, figures.withoutBn.validation + nudge, figures.withoutBn.test + nudge));
      // Model 5 with BN: bnlab reaches 0.95 where the article has 0.7802, a difference of +0.1698 the report must name.
      const bnValidation = id === 5 ? 0.95 : figures.withBn.validation + nudge;
      records.push(fixtureRecord(id, true, seed, bnValidation, figures.withBn.test + nudge));
    }
  }
  return buildGridReport(records, FIXTURE_SETTINGS, [{ startedAt: '2026-01-01T00:00:00Z', wallMs: 3_723_000, jobs: 2, runsFinished: 32, interrupted: false }]);
}

describe('the report', () => {
  const report = fixtureGrid();

  test('the model: eight configurations, two seeds, mean ± std', () => {
    assert.equal(report.configs.length, 8);
    assert.deepEqual(report.seedCounts, [2]);
    const model1 = report.configs[0]!;
    assert.ok(Math.abs(model1.withoutBn!.validation.mean - 0.9774) < 1e-12);
    assert.ok(Math.abs(model1.withoutBn!.validation.std - Math.sqrt(2 * 0.002 ** 2)) < 1e-12);
  });

  test("the Markdown holds the article's figures, bnlab's, the rule and the verdicts", () => {
    const markdown = buildMarkdownReport(report);
    for (const figures of ARTICLE_RESULTS) {
      for (const value of [figures.withoutBn.validation, figures.withoutBn.test, figures.withBn.validation, figures.withBn.test]) {
        assert.ok(markdown.includes(`(${value.toFixed(4)})`), `article figure ${value} of model ${figures.configId}`);
      }
    }
    assert.ok(markdown.includes(VERDICT_RULE));
    assert.ok(markdown.includes('**0.9774 ± 0.0028** (0.9774) agrees'), 'model 1 without BN validation');
    // The fixture's last-half mean is (0.1 + v) / 4 + v / 2 = 0.025 + 0.75 v: 0.7581 ± 0.75 · 0.0028.
    assert.ok(markdown.includes('**0.9774 ± 0.0028** (0.9774) agrees; last half 0.7581 ± 0.0021 |'), 'the last-half mean beside the final validation accuracy');
    assert.ok(markdown.includes(ARTICLE_VERDICT_BASIS), 'the report says the verdicts compare final values');
    assert.ok(markdown.includes(LAST_HALF_EXPLANATION));
    assert.ok(markdown.includes('**0.9500 ± 0.0000** (0.7802) differs (+0.1698)'));
    assert.match(markdown, /31 of 32 cells agree, 1 differ/);
    assert.match(
      markdown,
      /Model 5 \(std 10, lr 0.01, ReLU\), with BN, validation: bnlab 0.9500 ± 0.0000, article 0.7802: differs by \+0.1698 \(16.98 percentage points/,
    );
    assert.match(markdown, /Grid wall time: 1 h 02 min 03 s in one session, 2 worker threads/);
    assert.match(markdown, /\| c8-bn-s2 \| wasm relaxed-simd \| 1200 \|/);
  });

  test("the CSV: one row per configuration in the article's layout, with the verdicts", () => {
    const lines = buildCsvReport(report).trim().split('\n');
    assert.equal(lines.length, 9);
    assert.deepEqual(lines[0]!.split(','), REPORT_CSV_HEADER);
    const model5 = Object.fromEntries(REPORT_CSV_HEADER.map((name, i) => [name, lines[5]!.split(',')[i]]));
    assert.equal(model5.article_bn_val_acc, '0.7802');
    assert.equal(model5.bnlab_bn_val_acc, '0.9500');
    assert.equal(model5.bn_val_acc_difference, '0.1698');
    assert.equal(model5.bn_val_acc_verdict, 'differs');
    assert.equal(model5.no_bn_val_acc_verdict, 'agrees');
    assert.equal(model5.bnlab_bn_val_acc_last_half, (0.025 + 0.75 * 0.95).toFixed(4));
    assert.equal(model5.bnlab_bn_val_acc_last_half_std, '0.0000');
    assert.ok(
      REPORT_CSV_HEADER.indexOf('bnlab_no_bn_val_acc_last_half') === REPORT_CSV_HEADER.indexOf('no_bn_val_acc_verdict') + 1,
      'beside the validation figures',
    );
  });

  test('the HTML page is self-contained: tables, inlined SVG, nothing fetched', () => {
    const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const html = buildHtmlReport(
      report,
      new Map([
        ['overview', svg],
        ['model-1', svg],
      ]),
    );
    assert.match(html, /^<!DOCTYPE html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.ok(!html.includes('<?xml'), 'the XML prolog is dropped when inlining');
    assert.ok(!/<script|<link|\ssrc=|href="http/i.test(html), 'no script, stylesheet link, or fetched resource');
    assert.ok(html.includes('<td class="differs"><strong>0.9500 ± 0.0000</strong>'));
    assert.ok(html.includes('0.7802'));
    assert.ok(html.includes('<span class="last-half">last half 0.7581 ± 0.0021</span>'));
    assert.ok(html.includes('The verdicts compare the final validation and test accuracy'));
  });

  test("charts inlined side by side keep their own clip paths: every id is unique in the page and every reference finds its own chart's", () => {
    // vega numbers clip paths clip1, clip2… in each SVG; a browser resolves url(#clip1) to the page's first.
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs><path clip-path="url(#clip1)" d="M0,0L9,9"/></svg>';
    const html = buildHtmlReport(
      report,
      new Map([
        ['overview', svg],
        ['model-1', svg],
        ['model-2', svg],
      ]),
    );
    const ids = Array.from(html.matchAll(/\sid="([^"]+)"/g), (match) => match[1]!);
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, ids.length, `ids repeat: ${ids.join(', ')}`);
    const references = Array.from(html.matchAll(/url\(#([^)]+)\)/g), (match) => match[1]!);
    assert.deepEqual(references, ids, 'each chart refers to the clip path it defines');
  });

  test('a short grid is shown beside the 50,000-step table but not compared', () => {
    const settings = { steps: 200, batchSize: 60, validateEvery: 100 };
    const short = buildGridReport([fixtureRecord(2, true, 1, 0.5, 0.5, { settings })], settings);
    assert.equal(short.configs[0]!.article, null);
    const markdown = buildMarkdownReport(short);
    assert.ok(markdown.includes('**0.5000** (0.9746) not compared'));
    assert.match(markdown, /0 of 2 cells agree, 0 differ, 2 not compared/);
  });

  test('chart specs: one per configuration with both curves, and an overview of all panels', () => {
    const spec = configChartSpec(report.configs[2]!) as { title: { text: string }; data: { values: Array<{ series: string }> } };
    assert.match(spec.title.text, /^Model 3: std 0.05, lr 2, ReLU \(mean of 2 seeds\)/);
    assert.deepEqual([...new Set(spec.data.values.map((row) => row.series))], ['without BN', 'with BN'], 'the names every bnlab chart colours alike');
    const overview = overviewChartSpec(report) as { concat: unknown[]; columns: number };
    assert.equal(overview.concat.length, 8);
    assert.equal(overview.columns, 4);
  });
});
