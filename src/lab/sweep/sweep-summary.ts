/**
 * @file From the run records of one sweep to its report's figures: the runs grouped by their
 * values on every axis (seeds pooled), per group the mean ± std over seeds of the final and the
 * last-half validation accuracy, the test accuracy and the speed, its diverged runs and its mean
 * validation curve; the axes with their values; the groups ranked by the chosen metric; the
 * settings every run shares. Every builder of the sweep report (Markdown, CSV, HTML, charts)
 * reads this one model. Pure.
 */
import type { TrainConfig } from '../../train/config.js';
import type { RunRecord } from '../report/run-record.js';
import { type GridSession, type MeanCurvePoint, meanCurve, provenanceOf, type RunsProvenance, type SeedStats, seedStats, unique } from '../report/summary.js';
import type { RunAxisValue } from './sweep-runs.js';

/** What a sweep's groups are ranked by: the last-half mean of validation accuracy, or its final value. */
export const SWEEP_METRICS = ['last-half', 'final'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];
export const DEFAULT_SWEEP_METRIC: SweepMetric = 'last-half';

/** The metric's name in tables, sentences and chart axes. */
export function metricTitle(metric: SweepMetric): string {
  return metric === 'last-half' ? 'last-half validation accuracy' : 'final validation accuracy';
}

export function otherMetric(metric: SweepMetric): SweepMetric {
  return metric === 'last-half' ? 'final' : 'last-half';
}

export interface SweepAxisSummary {
  name: string;
  /** Its values in the order the records first show them (the spec's order for a whole sweep). */
  values: Array<{ label: string; numeric: number | null }>;
  /** Every value sets one number, so the axis can be drawn on a continuous scale. */
  numeric: boolean;
}

/** The runs that share their value on every axis: one combination, over its seeds. */
export interface SweepGroup {
  /** Its labels joined by '-': its runs' id without the seed. */
  key: string;
  /** Its value on each axis, in the report's axis order. */
  axes: RunAxisValue[];
  /** Its records, by seed. */
  runs: RunRecord[];
  /** Final validation accuracy. */
  final: SeedStats;
  /** Mean validation accuracy over the last half of each run's curve. */
  lastHalf: SeedStats;
  test: SeedStats;
  stepsPerSecond: SeedStats;
  /** How many of its runs had a NaN or infinite loss at some step. */
  divergedRuns: number;
  meanCurve: MeanCurvePoint[];
}

/** A setting with one value in every run of the sweep, as the report writes it. */
interface SharedSetting {
  name: string;
  value: string;
}

export interface SweepReport extends RunsProvenance {
  /** The sweep's name (several names joined by ' / ' if the records disagree; a note says so). */
  name: string;
  metric: SweepMetric;
  axes: SweepAxisSummary[];
  /** Every combination that has runs, the first axis varying slowest, each axis in its values' order. */
  groups: SweepGroup[];
  /** The same groups, best first by the metric's mean over seeds (NaN last). */
  ranking: SweepGroup[];
  /** Every record, in group order, then by seed. */
  runs: RunRecord[];
  /** The distinct seeds, ascending. */
  seeds: number[];
  /** The distinct numbers of seeds a group has (one number when the sweep is complete). */
  seedCounts: number[];
  sharedSettings: SharedSetting[];
}

export interface SweepReportOptions {
  /** What the groups are ranked by; 'last-half' by default. */
  metric?: SweepMetric;
  /** The sessions that ran the sweep, for its wall time. */
  sessions?: readonly GridSession[];
  /** The name when there are no records to take it from. */
  name?: string;
}

/** A group's statistics of a metric. */
export function metricStats(group: SweepGroup, metric: SweepMetric): SeedStats {
  return metric === 'last-half' ? group.lastHalf : group.final;
}

/** The seed statistics of one group's figures. */
function summarizeGroup(runs: RunRecord[], axes: RunAxisValue[]): SweepGroup {
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  return {
    key: axes.map((value) => value.label).join('-'),
    axes,
    runs: sorted,
    final: seedStats(sorted.map((run) => run.validation.accuracy)),
    lastHalf: seedStats(sorted.map((run) => run.lastHalfValidation)),
    test: seedStats(sorted.map((run) => run.test.accuracy)),
    stepsPerSecond: seedStats(sorted.map((run) => run.stepsPerSecond)),
    divergedRuns: sorted.filter((run) => run.divergedAtStep !== null).length,
    meanCurve: meanCurve(sorted),
  };
}

/** The axes as the records show them; every record of one sweep has the same axes in the same order. */
function axesOf(records: readonly RunRecord[]): SweepAxisSummary[] {
  const names = records[0]?.axes.map((value) => value.axis) ?? [];
  for (const record of records) {
    const own = record.axes.map((value) => value.axis);
    if (own.length !== names.length || own.some((name, index) => name !== names[index])) {
      throw new RangeError(
        `Run ${record.id} has the axes ${own.join(', ') || '(none)'} where the other runs have ${names.join(', ') || '(none)'}: a sweep report takes the runs of one sweep.`,
      );
    }
  }
  return names.map((name, index) => {
    const values: SweepAxisSummary['values'] = [];
    for (const record of records) {
      const value = record.axes[index]!;
      if (!values.some((seen) => seen.label === value.label)) values.push({ label: value.label, numeric: value.numeric });
    }
    const numeric = values.every((value) => value.numeric !== null);
    // Records come in file-name order (b16 before b8): a numeric axis reads in its values' order.
    if (numeric) values.sort((a, b) => a.numeric! - b.numeric!);
    return { name, values, numeric };
  });
}

/** Best first by the metric's mean; NaN last; ties by the other metric, then in group order. */
function rankGroups(groups: readonly SweepGroup[], metric: SweepMetric): SweepGroup[] {
  const descending = (a: number, b: number): number => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : b - a);
  const other = otherMetric(metric);
  return groups
    .map((group, index) => ({ group, index }))
    .sort(
      (a, b) =>
        descending(metricStats(a.group, metric).mean, metricStats(b.group, metric).mean) ||
        descending(metricStats(a.group, other).mean, metricStats(b.group, other).mean) ||
        a.index - b.index,
    )
    .map(({ group }) => group);
}

/** Settings that are not results of the sweep: the seed varies by design, and a sweep never stops a diverging run. */
const UNREPORTED_SETTINGS: ReadonlySet<keyof TrainConfig> = new Set(['seed', 'stopOnDivergence']);
const BATCH_NORM_SETTINGS: ReadonlySet<keyof TrainConfig> = new Set(['bnEps', 'bnMomentum', 'bnEstimator', 'bnAverageBatches', 'evalBatchSize']);

function settingText(value: unknown): string {
  return Array.isArray(value) ? value.join('x') : String(value);
}

/** The config settings every run has with one value, in TrainConfig's order, named as a sweep spec names them (`norm`). */
function sharedSettingsOf(records: readonly RunRecord[]): SharedSetting[] {
  const first = records[0]?.config;
  if (!first) return [];
  // BN's own settings say nothing about a sweep in which no network has BN.
  const anyBatchNorm = records.some((run) => run.config.batchNorm);
  const shared: SharedSetting[] = [];
  for (const name of Object.keys(first) as Array<keyof TrainConfig>) {
    if (UNREPORTED_SETTINGS.has(name) || (!anyBatchNorm && BATCH_NORM_SETTINGS.has(name))) continue;
    const text = JSON.stringify(first[name]);
    if (!records.every((run) => JSON.stringify(run.config[name]) === text)) continue;
    // batchNorm follows norm, which a sweep spec names.
    if (name !== 'batchNorm') shared.push({ name, value: settingText(first[name]) });
  }
  return shared;
}

/** The report's model from the records of one sweep. Throws RangeError if the records have different axes. */
export function buildSweepReport(records: readonly RunRecord[], options: SweepReportOptions = {}): SweepReport {
  const metric = options.metric ?? DEFAULT_SWEEP_METRIC;
  const axes = axesOf(records);
  const indexOf = (record: RunRecord): number[] => record.axes.map((value, axis) => axes[axis]!.values.findIndex((seen) => seen.label === value.label));
  const byKey = new Map<string, { order: number[]; axes: RunAxisValue[]; runs: RunRecord[] }>();
  for (const record of records) {
    const key = JSON.stringify(record.axes.map((value) => value.label));
    const entry = byKey.get(key) ?? { order: indexOf(record), axes: record.axes.map((value) => ({ ...value })), runs: [] };
    entry.runs.push(record);
    byKey.set(key, entry);
  }
  const lexicographic = (a: number[], b: number[]): number => a.reduce((found, value, index) => found || value - b[index]!, 0);
  const groups = [...byKey.values()].sort((a, b) => lexicographic(a.order, b.order)).map((entry) => summarizeGroup(entry.runs, entry.axes));
  const runs = groups.flatMap((group) => group.runs);
  const names = unique(records.map((run) => run.sweep));
  const provenance = provenanceOf(runs, options.sessions ?? []);
  const sweepNotes = names.length > 1 ? [`runs of this report belong to several sweeps: ${names.join(', ')}`] : [];
  return {
    name: names.length > 0 ? names.join(' / ') : (options.name ?? 'sweep'),
    metric,
    axes,
    groups,
    ranking: rankGroups(groups, metric),
    runs,
    seeds: [...new Set(runs.map((run) => run.seed))].sort((a, b) => a - b),
    seedCounts: [...new Set(groups.map((group) => group.runs.length))].sort((a, b) => a - b),
    sharedSettings: sharedSettingsOf(runs),
    ...provenance,
    // Beside the article report's notes (backends, data): runs of several sweeps.
    mixedNotes: [...provenance.mixedNotes, ...sweepNotes],
  };
}
