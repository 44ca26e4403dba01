/**
 * @file `bnlab report [RUNS_DIR]`: the report of a runs dir, written into `<runs-dir>/report/`:
 * report.md, report.csv, report.html (self-contained, charts inlined) and charts as SVG and PNG.
 * For the article's grid (`bnlab reproduce`): tables beside the article's figures with verdicts,
 * one chart per configuration and an overview; for any other sweep: the combinations ranked by a
 * metric, and the charts its axes call for (src/lab/sweep/sweep-report.ts). `bnlab reproduce` and
 * `bnlab sweep` write the same report when they end (or are interrupted).
 */

import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { VegaLiteSpec } from '../../lab/charts/types.js';
import { GRID_DEFAULTS, type GridSettings } from '../../lab/grid.js';
import { configChartName, configChartSpec, OVERVIEW_CHART_NAME, overviewChartSpec } from '../../lab/report/charts.js';
import { buildCsvReport } from '../../lab/report/csv.js';
import { buildHtmlReport } from '../../lab/report/html.js';
import { buildMarkdownReport } from '../../lab/report/markdown.js';
import type { RunRecord } from '../../lab/report/run-record.js';
import { buildGridReport, type GridReport } from '../../lab/report/summary.js';
import {
  buildSweepCsv,
  buildSweepHtml,
  buildSweepMarkdown,
  buildSweepReport,
  DEFAULT_SWEEP_METRIC,
  SWEEP_METRICS,
  type SweepMetric,
  type SweepReport,
  sweepChartSpecs,
} from '../../lab/sweep/sweep-report.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { writeAll } from '../../node/output-paths.js';
import { renderSvg, svgToPng } from '../../node/render-chart.js';
import { RunStore } from '../../node/run-store.js';
import { parseChoice } from '../parse.js';

export const DEFAULT_RUNS_DIR = 'bnlab-runs';

export interface WrittenReport {
  /** The article grid's report (for `bnlab reproduce`'s runs dirs), or a sweep's. */
  report: { kind: 'article'; model: GridReport } | { kind: 'sweep'; model: SweepReport };
  /** How many finished runs the report holds. */
  runs: number;
  markdownPath: string;
  csvPath: string;
  htmlPath: string;
  chartPaths: string[];
  /** Files in the runs dir that could not be used (said on stderr too). */
  problems: string[];
}

/** The article grid's settings: its runs dir pins them (a rebuilt manifest may not: then its first record's). */
function gridSettingsOf(store: RunStore, records: readonly RunRecord[]): GridSettings {
  const { steps, batchSize, validateEvery } = store.manifest.pinned;
  if (steps !== undefined && batchSize !== undefined && validateEvery !== undefined) return { steps, batchSize, validateEvery };
  return records[0]?.settings ?? GRID_DEFAULTS;
}

interface ReportParts {
  charts: Array<[string, VegaLiteSpec]>;
  markdown: () => string;
  csv: () => string;
  html: (svgs: ReadonlyMap<string, string>) => string;
}

/** The article's report beside its figures for the article's grid (`bnlab reproduce`); a sweep's report, drawn for its axes, otherwise. */
function reportOf(store: RunStore, records: RunRecord[], metric: SweepMetric): { report: WrittenReport['report']; parts: ReportParts } {
  const sessions = store.manifest.sessions;
  if (store.manifest.sweep === 'article') {
    const model = buildGridReport(records, gridSettingsOf(store, records), sessions);
    const charts: Array<[string, VegaLiteSpec]> =
      model.configs.length === 0
        ? []
        : [
            [OVERVIEW_CHART_NAME, overviewChartSpec(model)],
            ...model.configs.map((summary): [string, VegaLiteSpec] => [configChartName(summary), configChartSpec(summary)]),
          ];
    return {
      report: { kind: 'article', model },
      parts: { charts, markdown: () => buildMarkdownReport(model), csv: () => buildCsvReport(model), html: (svgs) => buildHtmlReport(model, svgs) },
    };
  }
  const model = buildSweepReport(records, { metric, sessions, name: store.manifest.sweep });
  const charts = records.length === 0 ? [] : sweepChartSpecs(model);
  return {
    report: { kind: 'sweep', model },
    parts: { charts, markdown: () => buildSweepMarkdown(model), csv: () => buildSweepCsv(model), html: (svgs) => buildSweepHtml(model, svgs) },
  };
}

/**
 * Charts rendered ahead, by name, with the spec each was rendered from: a chart whose spec is the
 * same when the report is written is not rendered again (the same spec renders to the same bytes).
 * `bnlab reproduce` and `bnlab sweep` fill it while their last runs train (`prerenderCharts`), so
 * that little of the report is left to do when the last run ends.
 */
export class ChartCache {
  private readonly charts = new Map<string, { spec: string; svg: string; png: Uint8Array | null }>();
  /** Charts rendered (not found in the cache), for tests and timings. */
  rendered = 0;

  /**
   * The chart's SVG, from the cache when it was rendered from the same spec, and its PNG as a
   * function (rasterized on first call, then kept; a failure throws there, where its file is written).
   */
  async render(name: string, spec: VegaLiteSpec): Promise<{ svg: string; png: () => Uint8Array }> {
    const key = specKey(spec);
    let chart = this.charts.get(name);
    if (chart?.spec !== key) {
      chart = { spec: key, svg: await renderSvg(spec), png: null };
      this.rendered++;
      this.charts.set(name, chart);
    }
    const rendered = chart;
    return { svg: rendered.svg, png: () => (rendered.png ??= svgToPng(rendered.svg)) };
  }
}

/** A spec as text that tells apart every value the renderer could (JSON alone would write NaN and Infinity as null). */
function specKey(spec: VegaLiteSpec): string {
  return JSON.stringify(spec, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? `number:${value}` : value));
}

/**
 * Renders into `cache` the charts of the report the runs dir would get now, one at a time, until
 * `cancelled()` says stop (checked between charts). Charts whose runs are all finished come out as
 * the final report will have them; the others are rendered again then.
 */
export async function prerenderCharts(store: RunStore, cache: ChartCache, options: { metric: SweepMetric; cancelled: () => boolean }): Promise<void> {
  const { records } = await store.listRuns();
  const { parts } = reportOf(store, records, options.metric);
  for (const [name, spec] of parts.charts) {
    if (options.cancelled()) return;
    const { png } = await cache.render(name, spec);
    if (options.cancelled()) return;
    try {
      png();
    } catch {
      // Left for writeReport, which writes every other file and names this one.
    }
  }
}

export async function writeReport(
  store: RunStore,
  stderr: NodeJS.WritableStream = process.stderr,
  options: { metric: SweepMetric; charts?: ChartCache } = { metric: DEFAULT_SWEEP_METRIC },
): Promise<WrittenReport> {
  const { records, problems } = await store.listRuns();
  for (const problem of problems) stderr.write(`bnlab: ${problem}\n`);
  const { report, parts } = reportOf(store, records, options.metric);
  const dir = store.reportDir;
  const cache = options.charts ?? new ChartCache();
  // Every file is attempted even when one fails (writeAll), so one unwritable chart costs no other output.
  const writes: Array<{ path: string; write: () => Promise<void> }> = [];
  const svgs = new Map<string, string>();
  const chartPaths: string[] = [];
  for (const [name, spec] of parts.charts) {
    const base = join(dir, name);
    const { svg, png } = await cache.render(name, spec);
    svgs.set(name, svg); // kept for the HTML page
    writes.push(
      { path: `${base}.svg`, write: () => writeFileAtomic(`${base}.svg`, svg) },
      { path: `${base}.png`, write: () => writeFileAtomic(`${base}.png`, png()) },
    );
    chartPaths.push(`${base}.svg`, `${base}.png`);
  }
  const markdownPath = join(dir, 'report.md');
  const csvPath = join(dir, 'report.csv');
  const htmlPath = join(dir, 'report.html');
  writes.push(
    { path: markdownPath, write: () => writeFileAtomic(markdownPath, parts.markdown()) },
    { path: csvPath, write: () => writeFileAtomic(csvPath, parts.csv()) },
    { path: htmlPath, write: () => writeFileAtomic(htmlPath, parts.html(svgs)) },
  );
  await writeAll(writes);
  return { report, runs: records.length, markdownPath, csvPath, htmlPath, chartPaths, problems };
}

/** The action of `bnlab report`, callable from tests. */
async function runReport(
  runsDir: string = DEFAULT_RUNS_DIR,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  metric: SweepMetric = DEFAULT_SWEEP_METRIC,
): Promise<WrittenReport> {
  const store = await RunStore.openExisting(runsDir, (text) => err.write(`bnlab: ${text}\n`));
  const written = await writeReport(store, err, { metric });
  out.write(
    `${written.runs} finished runs in ${runsDir}. Wrote ${written.markdownPath}, ${written.csvPath}, ${written.htmlPath} and ${written.chartPaths.length} chart files.\n`,
  );
  return written;
}

export function reportCommand(): Command {
  return new Command('report')
    .description("write the report of a runs dir (the article's grid beside its figures, or a sweep ranked and charted by its axes) into <runs-dir>/report/")
    .argument('[runs-dir]', 'the folder bnlab reproduce or bnlab sweep wrote to', DEFAULT_RUNS_DIR)
    .addOption(
      new Option(
        '--metric <name>',
        `what a sweep's report ranks by: ${SWEEP_METRICS.join('|')} (last-half: mean validation accuracy over the last half of each run)`,
      ).default(DEFAULT_SWEEP_METRIC),
    )
    .action(async (runsDir: string, options: { metric: string }) => {
      await runReport(runsDir, process.stdout, process.stderr, parseChoice<SweepMetric>('--metric', options.metric, SWEEP_METRICS));
    });
}
