/**
 * @file A sweep's report, the one surface a command needs: the model from the records, its chart
 * specs, and its Markdown, CSV and HTML.
 */
export {
  buildSweepReport, DEFAULT_SWEEP_METRIC, isSweepMetric, metricTitle, SWEEP_METRICS,
  type SweepAxisSummary, type SweepGroup, type SweepMetric, type SweepReport, type SweepReportOptions,
} from './sweep-summary.js';
export { sweepChartSpecs, sweepCharts, type SweepChart } from './sweep-charts.js';
export { buildSweepMarkdown } from './sweep-markdown.js';
export { buildSweepCsv, sweepCsvHeader } from './sweep-csv.js';
export { buildSweepHtml, type SweepChartSvgs } from './sweep-html.js';
