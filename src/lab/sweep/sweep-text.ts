/**
 * @file What the sweep report says, written once for its Markdown and its HTML: the title, the
 * lines about what ran, the sentence about the metric, and the ranking table as header and cell
 * texts (each builder only adds its own markup). Pure.
 */
import { formatRate, formatStats, wallTimeSentence } from '../report/format.js';
import { LAST_HALF_EXPLANATION } from '../report/last-half-note.js';
import { MAX_CURVE_GROUPS } from './sweep-charts.js';
import { metricStats, metricTitle, otherMetric, type SweepMetric, type SweepReport } from './sweep-summary.js';

export function sweepTitle(report: SweepReport): string {
  return `bnlab sweep: ${report.name}`;
}

/** "seeds 1, 2, 3" and, when combinations have different numbers of them, how many each has. */
function seedsText(report: SweepReport): string {
  const seeds = `seed${report.seeds.length === 1 ? '' : 's'} ${report.seeds.join(', ') || '—'}`;
  if (report.seedCounts.length <= 1) return seeds;
  return `${seeds} (${report.seedCounts.join('-')} per combination: the sweep is not complete)`;
}

/** The bullet points under the title: settings, axes, runs, wall time. */
export function sweepFacts(report: SweepReport): string[] {
  const settings = report.sharedSettings.map((setting) => `${setting.name} ${setting.value}`).join(', ');
  const axes = report.axes.map((axis) => `${axis.name} (${axis.values.map((value) => value.label).join(', ')})`).join('; ');
  return [
    `Settings every run shares: ${settings || '—'}.`,
    `Axes: ${axes || '—'}.`,
    `Runs: ${report.runs.length} finished, ${report.groups.length} combination${report.groups.length === 1 ? '' : 's'} × ${seedsText(report)}; ` +
      `kernel backend ${report.backends.join(', ') || '—'}; bnlab ${report.bnlabVersions.join(', ') || '—'}; data: ${report.dataSources.join(', ') || '—'}.`,
    wallTimeSentence(report, 'sweep'),
  ];
}

/** Why the table is ranked as it is and what its two validation columns are. */
export function metricSentence(report: SweepReport): string {
  const ranked =
    report.metric === 'last-half'
      ? 'The combinations are ranked by their last-half mean of validation accuracy; their final validation accuracy is shown beside it.'
      : 'The combinations are ranked by their final validation accuracy; their last-half mean is shown beside it.';
  return `${ranked} ${LAST_HALF_EXPLANATION} Each figure is the mean ± std over seeds (sample std).`;
}

/** What the charts section says when the curves chart is left out. */
export function missingCurvesSentence(report: SweepReport): string | null {
  if (report.groups.length <= MAX_CURVE_GROUPS) return null;
  return `The validation curves are not drawn: ${report.groups.length} combinations are too many to tell apart in one chart (at most ${MAX_CURVE_GROUPS}); the CSV has every run.`;
}

function columnTitle(metric: SweepMetric): string {
  return metric === 'last-half' ? 'last-half validation' : 'final validation';
}

export interface RankingTable {
  header: string[];
  /** The column of the metric the table is ranked by (its cells are marked). */
  rankedColumn: number;
  rows: string[][];
}

/** The ranking: rank, the group's label on each axis, both metrics (the ranked one first), test, steps/s, diverged runs. */
export function rankingTable(report: SweepReport): RankingTable {
  const other = otherMetric(report.metric);
  const header = ['rank', ...report.axes.map((axis) => axis.name), `${columnTitle(report.metric)} (ranked)`, columnTitle(other), 'test', 'steps/s', 'diverged'];
  const rows = report.ranking.map((group, index) => [
    String(index + 1),
    ...group.axes.map((value) => value.label),
    formatStats(metricStats(group, report.metric)),
    formatStats(metricStats(group, other)),
    formatStats(group.test),
    formatRate(group.stepsPerSecond.mean),
    `${group.divergedRuns} of ${group.runs.length}`,
  ]);
  return { header, rankedColumn: 1 + report.axes.length, rows };
}

/** The section heading of the ranking. */
export function rankingHeading(report: SweepReport): string {
  return `Ranking by ${metricTitle(report.metric)}`;
}
