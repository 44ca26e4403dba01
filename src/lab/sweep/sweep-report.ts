/**
 * @file A sweep's report, the one surface a command needs: the model from the records, its chart
 * specs, and its Markdown, CSV and HTML.
 */

export { sweepChartSpecs, sweepCharts } from './sweep-charts.js';
export { buildSweepCsv, sweepCsvHeader } from './sweep-csv.js';
export { buildSweepHtml } from './sweep-html.js';
export { buildSweepMarkdown } from './sweep-markdown.js';
export {
  buildSweepReport,
  DEFAULT_SWEEP_METRIC,
  SWEEP_METRICS,
  type SweepMetric,
  type SweepReport,
} from './sweep-summary.js';
