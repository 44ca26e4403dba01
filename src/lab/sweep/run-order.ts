/**
 * @file The order in which a sweep's runs are handed to its threads: longest expected first
 * (longest-processing-time-first), so that on a few threads the last runs to end are short ones and
 * the threads end close together. A run's expected time is its steps × a cost per step: its own
 * earlier record where the runs dir holds one (--force), else the mean of its other seeds' records
 * (same values on every axis), else the median of what is known, else 1 (then only steps count).
 * Runs expected to take as long keep the sweep's order (seed by seed). Only the order changes:
 * each run is seeded and trained alone, so its numbers do not depend on it, and reports sort by id.
 * Pure.
 */
import { median } from '../claims/seed-statistics.js';
import type { SweepRun } from './sweep-runs.js';

/** What a finished run's record says of its cost: its steps and its wall time in its worker. */
export interface RunCost {
  id: string;
  steps: number;
  durationMs: number;
}

/** The run's id without its seed (`c3-bn-s2` -> `c3-bn`): runs that differ only by seed share it. */
function combinationOf(id: string): string {
  return id.replace(/-s\d+$/, '');
}

/** Each run's expected time (in the records' milliseconds, or in steps when no record is known), by id. */
export function expectedRunTimes(runs: readonly SweepRun[], known: readonly RunCost[]): Map<string, number> {
  const perStepById = new Map<string, number>();
  const perStepByCombination = new Map<string, number[]>();
  for (const cost of known) {
    if (!(cost.steps > 0) || !(cost.durationMs >= 0) || !Number.isFinite(cost.durationMs)) continue;
    const perStep = cost.durationMs / cost.steps;
    perStepById.set(cost.id, perStep);
    const combination = combinationOf(cost.id);
    perStepByCombination.set(combination, [...(perStepByCombination.get(combination) ?? []), perStep]);
  }
  const fallback = perStepById.size > 0 ? median([...perStepById.values()]) : 1;
  const expected = new Map<string, number>();
  for (const run of runs) {
    const others = perStepByCombination.get(combinationOf(run.id));
    const perStep = perStepById.get(run.id) ?? (others ? others.reduce((a, b) => a + b, 0) / others.length : fallback);
    expected.set(run.id, perStep * run.config.steps);
  }
  return expected;
}

/** `runs` longest expected first; runs expected to take as long keep their order. A new array. */
export function longestFirst<R extends SweepRun>(runs: readonly R[], known: readonly RunCost[]): R[] {
  const expected = expectedRunTimes(runs, known);
  return runs
    .map((run, index) => ({ run, index, time: expected.get(run.id)! }))
    .sort((a, b) => b.time - a.time || a.index - b.index)
    .map(({ run }) => run);
}

/**
 * Threads a sweep on `jobs` of `cores` cores adds for its last runs: when `jobs` takes every core,
 * the runs still to start once every thread is busy are started at once on extra threads (at most
 * jobs − 1), so that the last runs share the cores and end together instead of one running alone
 * while the other cores idle (15 runs of equal length on 2 cores: 7.5 run-lengths instead of 8).
 * None when `jobs` leaves cores free: an extra thread would take a core the user did not give.
 */
export function tailThreads(jobs: number, cores: number): number {
  return jobs >= cores ? jobs - 1 : 0;
}

/** Whether a tail thread may start a run now: every regular thread is busy and no more runs are left to start than tail threads to take them. */
export function tailMayStart(state: { regularBusy: number; regular: number; unstarted: number; tail: number }): boolean {
  return state.unstarted > 0 && state.regularBusy >= state.regular && state.unstarted <= state.tail;
}
