/**
 * @file `bnlab report [RUNS_DIR]`: the report of a runs dir, beside the article's figures, written
 * into `<runs-dir>/report/`: report.md, report.csv, report.html (self-contained, charts inlined),
 * and one chart per configuration plus an overview, each as SVG and PNG. `bnlab reproduce`
 * writes the same report when its grid ends (or is interrupted).
 */
import { Command } from 'commander';
import { join } from 'node:path';
import type { VegaLiteSpec } from '../../lab/charts/types.js';
import { GRID_DEFAULTS, type GridSettings } from '../../lab/grid.js';
import type { RunRecord } from '../../lab/report/run-record.js';
import { configChartName, configChartSpec, OVERVIEW_CHART_NAME, overviewChartSpec } from '../../lab/report/charts.js';
import { buildCsvReport } from '../../lab/report/csv.js';
import { buildHtmlReport } from '../../lab/report/html.js';
import { buildMarkdownReport } from '../../lab/report/markdown.js';
import { buildGridReport, type GridReport } from '../../lab/report/summary.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { renderSvg, svgToPng } from '../../node/render-chart.js';
import { writeAll } from '../../node/output-paths.js';
import { RunStore } from '../../node/run-store.js';

export const DEFAULT_RUNS_DIR = 'bnlab-runs';

export interface WrittenReport {
  report: GridReport;
  markdownPath: string;
  csvPath: string;
  htmlPath: string;
  chartPaths: string[];
  /** Files in the runs dir that could not be used (said on stderr too). */
  problems: string[];
}

/** What a sweep's report ranks by: the mean validation accuracy over the last half of each run, or its final value. */
export type ReportMetric = 'last-half' | 'final';
export const REPORT_METRICS: readonly ReportMetric[] = ['last-half', 'final'];

/** The article grid's settings: its runs dir pins them (a rebuilt manifest may not: then its first record's). */
function gridSettingsOf(store: RunStore, records: readonly RunRecord[]): GridSettings {
  const { steps, batchSize, validateEvery } = store.manifest.pinned;
  if (steps !== undefined && batchSize !== undefined && validateEvery !== undefined) return { steps, batchSize, validateEvery };
  return records[0]?.settings ?? GRID_DEFAULTS;
}

export async function writeReport(store: RunStore, stderr: NodeJS.WritableStream = process.stderr, _options: { metric: ReportMetric } = { metric: 'last-half' }): Promise<WrittenReport> {
  const { records, problems } = await store.listRuns();
  for (const problem of problems) stderr.write(`bnlab: ${problem}\n`);
  const report = buildGridReport(records, gridSettingsOf(store, records), store.manifest.sessions);
  const dir = store.reportDir;
  // Every file is attempted even when one fails (writeAll), so one unwritable chart costs no other output.
  const writes: Array<{ path: string; write: () => Promise<void> }> = [];
  const svgs = new Map<string, string>();
  const chartPaths: string[] = [];
  if (report.configs.length > 0) {
    const charts: Array<[string, VegaLiteSpec]> = [
      [OVERVIEW_CHART_NAME, overviewChartSpec(report)],
      ...report.configs.map((summary): [string, VegaLiteSpec] => [configChartName(summary), configChartSpec(summary)]),
    ];
    for (const [name, spec] of charts) {
      const base = join(dir, name);
      const svg = await renderSvg(spec); // kept for the HTML page
      svgs.set(name, svg);
      writes.push({ path: `${base}.svg`, write: () => writeFileAtomic(`${base}.svg`, svg) }, { path: `${base}.png`, write: () => writeFileAtomic(`${base}.png`, svgToPng(svg)) });
      chartPaths.push(`${base}.svg`, `${base}.png`);
    }
  }
  const markdownPath = join(dir, 'report.md');
  const csvPath = join(dir, 'report.csv');
  const htmlPath = join(dir, 'report.html');
  writes.push(
    { path: markdownPath, write: () => writeFileAtomic(markdownPath, buildMarkdownReport(report)) },
    { path: csvPath, write: () => writeFileAtomic(csvPath, buildCsvReport(report)) },
    { path: htmlPath, write: () => writeFileAtomic(htmlPath, buildHtmlReport(report, svgs)) },
  );
  await writeAll(writes);
  return { report, markdownPath, csvPath, htmlPath, chartPaths, problems };
}

/** The action of `bnlab report`, callable from tests. */
export async function runReport(runsDir: string = DEFAULT_RUNS_DIR, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<WrittenReport> {
  const store = await RunStore.openExisting(runsDir, (text) => err.write(`bnlab: ${text}\n`));
  const written = await writeReport(store, err);
  out.write(`${written.report.runs.length} finished runs in ${runsDir}. Wrote ${written.markdownPath}, ${written.csvPath}, ${written.htmlPath} and ${written.chartPaths.length} chart files.\n`);
  return written;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write the report of a runs dir (tables beside the article\'s figures with verdicts, charts, an HTML page) into <runs-dir>/report/')
    .argument('[runs-dir]', 'the folder bnlab reproduce wrote to', DEFAULT_RUNS_DIR)
    .action(async (runsDir: string) => {
      await runReport(runsDir);
    });
}
