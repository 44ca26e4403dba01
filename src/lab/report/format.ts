/**
 * @file How the report writes its numbers, shared by the Markdown, CSV and HTML builders so the
 * three always show the same figures. Pure.
 */
import { flagName, NORM_SETTINGS, TRAIN_DEFAULTS } from '../../train/config.js';
import { describeConfiguration } from '../article.js';
import type { ConfigSummary, GridReport, SeedStats } from './summary.js';

/** "0.9781" with one seed, "0.9781 ± 0.0012" with more. */
export function formatStats(stats: SeedStats, digits = 4): string {
  if (stats.count === 0) return '—';
  const mean = Number.isFinite(stats.mean) ? stats.mean.toFixed(digits) : String(stats.mean);
  return stats.count > 1 ? `${mean} ± ${stats.std.toFixed(digits)}` : mean;
}

export function formatAccuracy(value: number | null): string {
  return value === null ? '—' : value.toFixed(4);
}

export function formatRate(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(0);
}

/** "1 h 02 min 05 s", "3 min 04 s", "12.3 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const mmss = `${String(minutes).padStart(hours > 0 ? 2 : 1, '0')} min ${String(seconds).padStart(2, '0')} s`;
  return hours > 0 ? `${hours} h ${mmss}` : mmss;
}

export function activationName(summary: ConfigSummary): string {
  return summary.config.activation === 'relu' ? 'ReLU' : 'sigmoid';
}

export function configurationLabel(summary: ConfigSummary): string {
  return `Model ${summary.config.id} (${describeConfiguration(summary.config)})`;
}

/** "1 seed" / "3 seeds" / "1-3 seeds" (when configurations have different numbers of seeds). */
export function seedsLabel(report: GridReport): string {
  const counts = report.seedCounts;
  if (counts.length === 0) return 'no runs';
  const low = Math.min(...counts),
    high = Math.max(...counts);
  const range = low === high ? String(low) : `${low}-${high}`;
  return `${range} seed${high === 1 ? '' : 's'}`;
}

/** What the report says about when and how the grid (or a sweep: `what`) ran. */
export function wallTimeSentence(report: Pick<GridReport, 'sessions' | 'wallMs'>, what = 'grid'): string {
  const sessions = report.sessions.length;
  if (sessions === 0) return `The ${what}'s wall time was not recorded.`;
  const jobs = [...new Set(report.sessions.map((session) => session.jobs))].join('/');
  const parts =
    sessions === 1
      ? 'in one session'
      : `over ${sessions} sessions (processes sharing the runs dir, a resume after an interruption, or a run again with more seeds or configurations; sessions that overlapped count once)`;
  return `${what[0]!.toUpperCase()}${what.slice(1)} wall time: ${formatDuration(report.wallMs)} ${parts}, ${jobs} worker thread${jobs === '1' ? '' : 's'}.`;
}

/** "; the norms' settings: --norm-groups 16, --norm-placement post" when every run shares settings other than the defaults (reproduce's flags); else "". */
export function normSettingsClause(report: Pick<GridReport, 'runs'>): string {
  const flags: string[] = [];
  for (const setting of NORM_SETTINGS) {
    const values = new Set(report.runs.map((run) => run.config[setting]));
    if (values.size !== 1) continue;
    const value = [...values][0]!;
    if (value === TRAIN_DEFAULTS[setting]) continue;
    if (typeof value === 'boolean') flags.push(setting === 'normAffine' ? '--no-affine' : flagName(setting));
    else flags.push(`${flagName(setting)} ${value}`);
  }
  return flags.length === 0 ? '' : `; the norms' settings: ${flags.join(', ')}`;
}
