/**
 * @file What `bnlab sweep` and `bnlab reproduce` share: a sweep's runs, each finished run recorded
 * in a runs dir, then the report. Resumable: run it again with the same spec and only unfinished
 * runs run; finished records are never rewritten. Ctrl-C stops the training cleanly, writes the
 * report of what is finished, and exits with code 130.
 *
 * The runs dir is pinned to the sweep and its fixed settings (src/node/run-store.ts): other ones
 * are refused with a message suggesting --force or another --runs-dir, so records never mix. The
 * runs are trained by an executor: on this machine's worker threads (sweep-local.ts, processes
 * sharing the runs dir through claims) or by `bnlab worker` processes through a Redis queue
 * (sweep-queue.ts); either way each record is written here, once.
 */

import type { BackendChoice } from '../core/backend.js';
import { formatDuration } from '../lab/report/format.js';
import { makeRunRecord, type RunRecord } from '../lab/report/run-record.js';
import { longestFirst, type RunCost } from '../lab/sweep/run-order.js';
import type { SweepMetric } from '../lab/sweep/sweep-report.js';
import type { SweepRun } from '../lab/sweep/sweep-runs.js';
import type { SweepSettings } from '../lab/sweep/sweep-spec.js';
import { mnistFromShared, type RunOutcome, type SharedMnist, shareMnist } from '../node/grid-messages.js';
import { loadMnist } from '../node/mnist-files.js';
import { bnlabVersion } from '../node/package-info.js';
import { mnistContentHash, RunStore, type StoredRun } from '../node/run-store.js';
import { ChartCache, prerenderCharts, type WrittenReport, writeReport } from './commands/report.js';
import { watchInterrupt } from './interrupt.js';
import { createSweepProgress, type SweepProgress, type SweepProgressStyle } from './sweep-progress.js';
import { checkQueueReachable, type QueueTarget } from './sweep-queue.js';

export interface SweepPlan {
  /** The sweep's name (pins the runs dir; names the records). */
  sweep: string;
  /** The fixed settings the runs dir is pinned to. */
  pinned: SweepSettings;
  runs: SweepRun[];
  /** What the runs are, for the head line ("16 runs (8 configurations × without/with BN × 1 seed)"). */
  describeRuns: string;
  jobs: number;
  runsDir: string;
  force: boolean;
  backend: BackendChoice;
  dataDir: string | null;
  /** The metric a sweep's report ranks by. */
  metric: SweepMetric;
  /** Train on `bnlab worker` processes through this Redis queue instead of local threads. */
  queue: QueueTarget | null;
}

export interface SweepIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Registers the Ctrl-C handler; tests pass their own. */
  watchInterrupt: (onFirst: () => void) => { dispose(): void };
}

export const defaultSweepIo = (): SweepIo => ({ stdout: process.stdout, stderr: process.stderr, watchInterrupt });

export interface SweepOutcome {
  /** Runs of the sweep already finished before this session. */
  skipped: number;
  /** Runs finished (and recorded) by this session. */
  finished: number;
  /** Runs held by another process when this one started. */
  claimedElsewhere: number;
  /** Runs recorded by another process during this session (this one did not train them). */
  finishedElsewhere: number;
  /** Runs trained here whose record another process had written meanwhile (its record was kept). */
  keptExisting: number;
  interrupted: boolean;
  /** Runs that failed for good on the workers (a queue's attempts used up): not recorded. */
  failed: number;
  report: WrittenReport;
  wallMs: number;
}

/** What an executor is given: the runs to train and the one way to record them. */
export interface SweepExecution {
  plan: SweepPlan;
  store: RunStore;
  /** Unfinished runs, longest expected first (ties in sweep order); the executor removes each it takes or sees recorded. */
  remaining: SweepRun[];
  shared: SharedMnist;
  data: { source: string; hash: string };
  io: SweepIo;
  /** Whether a stored run counts as done for this session (with --force: recorded since it started). */
  isDone(stored: StoredRun): boolean;
  /** Writes a finished run's record (once: an existing record is kept) and shows it. */
  record(run: SweepRun, outcome: RunOutcome, progress: SweepProgress, slot: number, worker?: string): Promise<void>;
  /** Notes a run another process recorded. */
  recordedElsewhere(run: SweepRun, progress: SweepProgress): void;
  /** The progress display for `slots` lines. */
  createProgress(slots: number): SweepProgress;
  /**
   * Said by the executor when a thread of this process has no run left to take while others still
   * train, and after each run it records from then on: the report's charts start rendering on the
   * idle core (those whose runs are all finished are not rendered again at the end).
   */
  tail(): void;
}

/** How the runs get trained; resolves when none is left or it was stopped. */
export type SweepExecutor = (execution: SweepExecution) => Promise<{ interrupted: boolean; jobs: number; failed?: number }>;

/**
 * MNIST decoded once and copied into shared memory for the workers. In its own function so the
 * decoded copy (~220 MB) is garbage as soon as it returns, not kept alive across the sweep's awaits.
 */
async function loadSharedMnist(dataDir: string | null): Promise<SharedMnist> {
  return shareMnist(await loadMnist(dataDir === null ? {} : { dataDir }));
}

/** The line a finished run gets in the progress display. */
function finishedLine(record: RunRecord): string {
  const diverged = record.divergedAtStep === null ? '' : `, diverged at step ${record.divergedAtStep}`;
  return (
    `validation ${record.validation.accuracy.toFixed(4)} (last half ${record.lastHalfValidation.toFixed(4)}), test ${record.test.accuracy.toFixed(4)}, ` +
    `${record.stepsPerSecond.toFixed(0)} steps/s, ${formatDuration(record.durationMs)}${diverged}`
  );
}

/** The whole of a sweep for a validated plan, trained by `executor`. */
export async function runSweep(plan: SweepPlan, executor: SweepExecutor, command: string, io: SweepIo = defaultSweepIo()): Promise<SweepOutcome> {
  const { stdout, stderr } = io;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  if (plan.queue !== null) await checkQueueReachable(plan.queue);
  // The data first: the runs dir is pinned by the hash of its content.
  const shared = await loadSharedMnist(plan.dataDir);
  const data = { source: shared.source, hash: mnistContentHash(mnistFromShared(shared)) };
  const store = await RunStore.open(plan.runsDir, {
    sweep: plan.sweep,
    pinned: plan.pinned,
    dataDir: plan.dataDir,
    dataHash: data.hash,
    force: plan.force,
    onNote: (text) => stderr.write(`bnlab: ${text}\n`),
  });
  // With --force a run counts as done once a record of this session's time is there (written by this process or another).
  const isDone = (stored: StoredRun): boolean => stored.kind === 'finished' && (!plan.force || stored.record.finishedAt >= startedAt);

  const unfinished: SweepRun[] = [];
  /** What the records there say of the runs' times (finished runs, and with --force the records to be replaced): the order's estimates. */
  const costs: RunCost[] = [];
  let claimedElsewhere = 0;
  for (const run of plan.runs) {
    const stored = await store.readRun(run.id, run.config);
    if (stored.kind === 'finished') costs.push({ id: run.id, steps: stored.record.steps, durationMs: stored.record.durationMs });
    if (isDone(stored)) continue;
    if (stored.kind === 'corrupt') stderr.write(`bnlab: run ${run.id}: record is not usable (${stored.reason}), running it again\n`);
    unfinished.push(run);
    const claim = await store.claimState(run.id);
    if (claim.kind === 'live' && !claim.mine) claimedElsewhere++;
  }
  const skipped = plan.runs.length - unfinished.length;
  // Longest expected first, so that the threads end close together (src/lab/sweep/run-order.ts).
  const remaining = longestFirst(unfinished, costs);
  stdout.write(
    `bnlab ${command}: ${plan.describeRuns}, in ${plan.runsDir}; ${skipped} finished already, ` +
      `${claimedElsewhere > 0 ? `${claimedElsewhere} claimed by another process, ` : ''}${remaining.length - claimedElsewhere} to run.\n`,
  );

  // The report's charts, rendered while the last runs train (tail) and reused by the report where their runs were all finished by then.
  const charts = new ChartCache();
  let prerendering: Promise<void> | null = null;
  let prerenderAgain = false;
  let inTail = false;
  let reportStarted = false;
  const prerender = (): void => {
    if (reportStarted) return;
    if (prerendering !== null) {
      prerenderAgain = true;
      return;
    }
    prerendering = prerenderCharts(store, charts, { metric: plan.metric, cancelled: () => reportStarted })
      .catch(() => undefined) // a chart that cannot be rendered now is rendered, or named, by the report
      .then(() => {
        prerendering = null;
        if (prerenderAgain) {
          prerenderAgain = false;
          prerender();
        }
      });
  };

  let finished = 0;
  let finishedElsewhere = 0;
  let keptExisting = 0;
  let interrupted = false;
  let failed = 0;
  if (remaining.length > 0) {
    const stepsPerRun = Math.max(...plan.runs.map((run) => run.config.steps));
    const style: SweepProgressStyle = stderr.isTTY ? 'live' : 'lines';
    const execution: SweepExecution = {
      plan,
      store,
      remaining,
      shared,
      data,
      io,
      isDone,
      createProgress: (slots) => createSweepProgress({ totalRuns: plan.runs.length, alreadyFinished: skipped, stepsPerRun, jobs: slots, style }, stderr),
      record: async (run, outcome, progress, slot, worker) => {
        const record = makeRunRecord(plan.sweep, run, {
          ...outcome,
          bnlab: bnlabVersion(),
          data: data.source,
          dataHash: data.hash,
          finishedAt: new Date().toISOString(),
        });
        const put = await store.putRecord(record, { replace: plan.force });
        if (put.kept) {
          keptExisting++;
          progress.note(`bnlab: run ${run.id}: another process recorded it meanwhile; its record is kept and this run's result is dropped`);
          return;
        }
        finished++;
        progress.finish(slot, run, `${finishedLine(record)}${worker === undefined ? '' : `, on ${worker}`}`);
        if (inTail) prerender();
      },
      tail: () => {
        inTail = true;
        prerender();
      },
      recordedElsewhere: (run, progress) => {
        const at = remaining.indexOf(run);
        if (at >= 0) remaining.splice(at, 1);
        finishedElsewhere++;
        progress.note(`bnlab: run ${run.id} was recorded by another process`);
      },
    };
    const executed = await executor(execution);
    interrupted = executed.interrupted;
    failed = executed.failed ?? 0;
    await store.addSession({ startedAt, wallMs: Math.round(performance.now() - started), jobs: executed.jobs, runsFinished: finished, interrupted });
  }

  reportStarted = true;
  while (prerendering !== null) await prerendering; // ends after the chart it is rendering
  const report = await writeReport(store, stderr, { metric: plan.metric, charts });
  const wallMs = performance.now() - started;
  const notRun = plan.runs.length - skipped - finished - finishedElsewhere - keptExisting - failed;
  const elsewhere = finishedElsewhere + keptExisting > 0 ? `, ${finishedElsewhere + keptExisting} by another process` : '';
  stdout.write(
    `${interrupted ? 'Interrupted' : 'Done'}: ${finished} run${finished === 1 ? '' : 's'} finished in ${formatDuration(wallMs)}${elsewhere}` +
      `${failed > 0 ? `, ${failed} failed on the workers (run the same command again to retry them)` : ''}` +
      `${interrupted ? `, ${notRun} not run (run the same command again to resume)` : ''}. ` +
      `Report: ${report.markdownPath}, ${report.htmlPath}\n`,
  );
  return { skipped, finished, claimedElsewhere, finishedElsewhere, keptExisting, interrupted, failed, report, wallMs };
}
