/**
 * @file From the finished run records of a runs dir to the report's figures: per configuration
 * and network, the mean ± std over seeds of the final validation and test accuracy and of the
 * last-half validation mean, the mean validation curve, the speed, and the verdict of every cell
 * against the article. Every builder of the report (Markdown, CSV, HTML, charts) reads this one
 * model. Pure.
 */

import { NORM_KINDS, type NormKind } from '../../nn/spec.js';
import {
  ARTICLE_CONFIGURATIONS,
  ARTICLE_RESULTS,
  ARTICLE_STEPS,
  type ArticleAccuracies,
  type ArticleConfiguration,
  type ArticleFigures,
  articleFiguresFor,
  type ConfigurationId,
} from '../article.js';
import type { GridSettings } from '../grid.js';
import type { RunRecord } from './run-record.js';
import { type Verdict, verdictFor } from './verdict.js';

export interface SeedStats {
  mean: number;
  /** Sample standard deviation (n − 1) over seeds; 0 with one seed. */
  std: number;
  count: number;
}

export interface MeanCurvePoint {
  step: number;
  /** Mean over the seeds that have a point at this step. */
  validationAccuracy: number;
}

export interface NetworkSummary {
  batchNorm: boolean;
  /** Its normalization: none and bn are the article's two networks, the others (`reproduce --norms`) stand beside them. */
  norm: NormKind;
  /** The records, by seed. */
  runs: RunRecord[];
  /** Final validation accuracy: what the verdicts compare, as the article's table reports final values. */
  validation: SeedStats;
  /** Mean validation accuracy over the last half of the curve (see last-half.ts), shown beside the final value. */
  lastHalf: SeedStats;
  test: SeedStats;
  stepsPerSecond: SeedStats;
  meanCurve: MeanCurvePoint[];
  /** How many of the seeds' runs had a NaN or infinite loss at some step. */
  divergedRuns: number;
  verdicts: { validation: Verdict; test: Verdict };
}

export interface ConfigSummary {
  config: ArticleConfiguration;
  /** The article's figures for the steps run, or null when it measured none (then nothing is compared). */
  article: ArticleFigures | null;
  /** The figures shown beside bnlab's: `article`, or the 50,000-step table when `article` is null. */
  articleShown: ArticleFigures;
  withoutBn: NetworkSummary | null;
  withBn: NetworkSummary | null;
  /** The networks with the report's other norms (`otherNorms`, in that order; null where not run): no article figures, no verdicts. */
  others: Array<NetworkSummary | null>;
}

/** One `bnlab reproduce` invocation on a runs dir (a grid may take several: Ctrl-C, resume). */
export interface GridSession {
  startedAt: string;
  wallMs: number;
  jobs: number;
  runsFinished: number;
  interrupted: boolean;
}

/** Where and when a report's runs ran: what both the article's report and a sweep's say. */
export interface RunsProvenance {
  sessions: GridSession[];
  /** The wall time the sessions took together: sessions that ran at once (processes sharing a runs dir) count once. */
  wallMs: number;
  backends: string[];
  bnlabVersions: string[];
  dataSources: string[];
  /**
   * One sentence per way the runs are not alike ("runs of this report ran on several backends: …",
   * "… on different data: …"); empty when they ran on one backend and one data set.
   */
  mixedNotes: string[];
}

/** The provenance of `runs` recorded over `sessions`. */
export function provenanceOf(runs: readonly RunRecord[], sessions: readonly GridSession[]): RunsProvenance {
  return {
    sessions: [...sessions],
    wallMs: sessionsWallMs(sessions),
    backends: unique(runs.map((run) => run.backend)),
    bnlabVersions: unique(runs.map((run) => run.bnlab)),
    dataSources: unique(runs.map((run) => run.data)),
    mixedNotes: mixedNotes(runs),
  };
}

export interface GridReport extends RunsProvenance {
  settings: GridSettings;
  /** Configurations with at least one finished run, in the article's order. */
  configs: ConfigSummary[];
  /** Every record, in grid order (config, seed, without BN before with BN). */
  runs: RunRecord[];
  seedCounts: number[];
  /** The norms besides none and bn that some run of the report trained (`reproduce --norms`), in NORM_KINDS order. */
  otherNorms: NormKind[];
}

export function seedStats(values: readonly number[]): SeedStats {
  const count = values.length;
  if (count === 0) return { mean: NaN, std: NaN, count };
  const mean = values.reduce((sum, value) => sum + value, 0) / count;
  if (count === 1) return { mean, std: 0, count };
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, std: Math.sqrt(squares / (count - 1)), count };
}

/** The mean over runs of the validation-accuracy curves, step by step. */
export function meanCurve(runs: readonly RunRecord[]): MeanCurvePoint[] {
  const byStep = new Map<number, { sum: number; count: number }>();
  for (const run of runs) {
    for (const point of run.curve) {
      const entry = byStep.get(point.step) ?? { sum: 0, count: 0 };
      entry.sum += point.validationAccuracy;
      entry.count++;
      byStep.set(point.step, entry);
    }
  }
  return [...byStep.entries()].sort(([a], [b]) => a - b).map(([step, { sum, count }]) => ({ step, validationAccuracy: sum / count }));
}

function notComparedReason(settings: GridSettings): string {
  return `bnlab ran ${settings.steps} steps; the article's table is for ${ARTICLE_STEPS} steps`;
}

/** The article's two networks; every other norm is shown beside them. */
const ARTICLE_NORMS: readonly NormKind[] = ['none', 'bn'];

function summarizeNetwork(runs: RunRecord[], norm: NormKind, article: ArticleAccuracies | null, settings: GridSettings): NetworkSummary | null {
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  const validation = seedStats(sorted.map((run) => run.validation.accuracy));
  const test = seedStats(sorted.map((run) => run.test.accuracy));
  const reason = ARTICLE_NORMS.includes(norm) ? notComparedReason(settings) : 'the article trained no network with this norm';
  return {
    batchNorm: norm === 'bn',
    norm,
    runs: sorted,
    validation,
    lastHalf: seedStats(sorted.map((run) => run.lastHalfValidation)),
    test,
    stepsPerSecond: seedStats(sorted.map((run) => run.stepsPerSecond)),
    meanCurve: meanCurve(sorted),
    divergedRuns: sorted.filter((run) => run.divergedAtStep !== null).length,
    verdicts: {
      validation: verdictFor(validation.mean, validation.std, article?.validation ?? null, reason),
      test: verdictFor(test.mean, test.std, article?.test ?? null, reason),
    },
  };
}

/** The distinct values, sorted. */
export function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

/** The report's model from the records of one runs dir (all made with `settings`). */
export function buildGridReport(records: readonly RunRecord[], settings: GridSettings, sessions: readonly GridSession[] = []): GridReport {
  // Runs of none of the article's configurations have no place in its table.
  const normOrder = (run: RunRecord): number => NORM_KINDS.indexOf(run.config.norm);
  const runs = records.filter((run) => run.configId !== null).sort((a, b) => a.configId! - b.configId! || a.seed - b.seed || normOrder(a) - normOrder(b));
  const otherNorms = NORM_KINDS.filter((norm) => !ARTICLE_NORMS.includes(norm) && runs.some((run) => run.config.norm === norm));
  const configs: ConfigSummary[] = [];
  for (const config of ARTICLE_CONFIGURATIONS) {
    const ofConfig = runs.filter((run) => run.configId === config.id);
    if (ofConfig.length === 0) continue;
    const article = articleFiguresFor(config.id, settings.steps);
    configs.push({
      config,
      article,
      articleShown: article ?? ARTICLE_RESULTS[config.id - 1]!,
      withoutBn: summarizeNetwork(
        ofConfig.filter((run) => run.config.norm === 'none'),
        'none',
        article?.withoutBn ?? null,
        settings,
      ),
      withBn: summarizeNetwork(
        ofConfig.filter((run) => run.config.norm === 'bn'),
        'bn',
        article?.withBn ?? null,
        settings,
      ),
      others: otherNorms.map((norm) =>
        summarizeNetwork(
          ofConfig.filter((run) => run.config.norm === norm),
          norm,
          null,
          settings,
        ),
      ),
    });
  }
  const seedCounts = unique(
    configs
      .flatMap((c) => [c.withoutBn, c.withBn, ...c.others].map((network) => network?.runs.length))
      .filter((n): n is number => n !== undefined)
      .map(String),
  ).map(Number);
  return {
    settings,
    configs,
    runs,
    seedCounts,
    otherNorms,
    ...provenanceOf(runs, sessions),
  };
}

/** The length of the union of the sessions' [start, start + wall time] intervals (a session without a readable start adds its own). */
export function sessionsWallMs(sessions: readonly GridSession[]): number {
  let total = 0;
  const spans: Array<[number, number]> = [];
  for (const session of sessions) {
    const start = Date.parse(session.startedAt);
    if (Number.isFinite(start)) spans.push([start, start + session.wallMs]);
    else total += session.wallMs;
  }
  spans.sort((x, y) => x[0] - y[0]);
  let end = -Infinity;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/** Data is told apart by its content hash when the records carry one, else by where it came from. */
function mixedNotes(runs: readonly RunRecord[]): string[] {
  const notes: string[] = [];
  const backends = unique(runs.map((run) => run.backend));
  if (backends.length > 1) notes.push(`runs of this report ran on several backends: ${backends.join(', ')}`);
  const data = new Map<string, string>();
  for (const run of runs) {
    const key = run.dataHash ?? `source ${run.data}`;
    if (!data.has(key)) data.set(key, run.dataHash === undefined ? run.data : `${run.data} (sha256 ${run.dataHash.slice(0, 12)}…)`);
  }
  if (data.size > 1) notes.push(`runs of this report ran on different data: ${unique([...data.values()]).join('; ')}`);
  return notes;
}

/** Every cell of the table with its verdict, in table order (for lists of differing cells). */
export function reportCells(
  report: GridReport,
): Array<{ configId: ConfigurationId; batchNorm: boolean; split: 'validation' | 'test'; network: NetworkSummary; article: number | null; verdict: Verdict }> {
  const cells = [];
  for (const summary of report.configs) {
    for (const network of [summary.withoutBn, summary.withBn]) {
      if (!network) continue;
      const articleAccuracies = summary.article === null ? null : network.batchNorm ? summary.article.withBn : summary.article.withoutBn;
      for (const split of ['validation', 'test'] as const) {
        cells.push({
          configId: summary.config.id,
          batchNorm: network.batchNorm,
          split,
          network,
          article: articleAccuracies?.[split] ?? null,
          verdict: network.verdicts[split],
        });
      }
    }
  }
  return cells;
}
