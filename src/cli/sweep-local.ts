/**
 * @file A sweep trained on this machine: a pool of worker threads, one run at a time per slot,
 * each run claimed in the runs dir just before it starts, so that processes sharing the runs dir
 * split the sweep between them. A process whose own queue is empty waits for the runs another
 * process holds (polling for their records) and takes over those whose owner died, so every
 * process ends with the whole sweep in its report.
 */
import type { SweepRun } from '../lab/sweep/sweep-runs.js';
import { GridPool } from '../node/grid-pool.js';
import { describeOwner, type RunClaim } from '../node/run-store.js';
import { loadKernels } from '../node/wasm-files.js';
import type { SweepExecutor } from './sweep-runner.js';

/** How often a process with nothing left to claim looks again at the runs other processes hold. */
const CLAIM_POLL_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export const trainLocally: SweepExecutor = async (execution) => {
  const { plan, store, remaining, isDone, io } = execution;
  // Checked here so that a backend that cannot run is one clear error, not a failing worker.
  const kernels = await loadKernels(plan.backend);
  const jobs = Math.min(plan.jobs, remaining.length);
  io.stdout.write(
    `${jobs} worker thread${jobs === 1 ? '' : 's'}, kernel backend ${kernels.variant}, data: ${execution.data.source} (sha256 ${execution.data.hash.slice(0, 12)}…).\n`,
  );
  const progress = execution.createProgress(jobs);
  // One run at a time per slot, each claimed just before it starts: a run is never handed to a worker unclaimed.
  const pool = new GridPool({ jobs: 1, backend: plan.backend, data: execution.shared });
  const interrupt = io.watchInterrupt(() => {
    progress.note('bnlab: stopping (unfinished runs are not recorded; run the same command again to resume; Ctrl-C again quits at once)');
    pool.stop();
  });
  let interrupted = false;

  /** The next run this process may train (claimed), 'wait' while the only ones left are held by other processes, or 'done'. */
  const takeNext = async (): Promise<{ run: SweepRun; claim: RunClaim } | 'wait' | 'done'> => {
    for (const run of [...remaining]) {
      if (pool.stopped) return 'done';
      if (!remaining.includes(run)) continue; // taken by another slot meanwhile
      // A record written by another process ends the wait at once (its claim may outlive it a moment, or its owner died just after).
      if (isDone(await store.readRun(run.id, run.config))) {
        if (remaining.includes(run)) execution.recordedElsewhere(run, progress);
        continue;
      }
      const attempt = await store.claimRun(run.id);
      if (attempt.kind === 'busy') continue;
      const { claim } = attempt;
      if (!remaining.includes(run)) {
        await claim.release();
        continue;
      }
      const stored = await store.readRun(run.id, run.config).catch(async (error: unknown) => {
        await claim.release();
        throw error;
      });
      if (isDone(stored)) {
        // Recorded by another process since this one looked.
        await claim.release();
        execution.recordedElsewhere(run, progress);
        continue;
      }
      remaining.splice(remaining.indexOf(run), 1);
      if (attempt.tookOverFrom) {
        progress.note(`bnlab: run ${run.id}: took over the claim of ${describeOwner(attempt.tookOverFrom)}, which stopped its heartbeat`);
      }
      return { run, claim };
    }
    return remaining.length === 0 ? 'done' : 'wait';
  };

  const slot = async (index: number): Promise<void> => {
    while (!pool.stopped) {
      const next = await takeNext();
      if (next === 'done') return;
      if (next === 'wait') {
        await sleep(CLAIM_POLL_MS);
        continue;
      }
      const { run, claim } = next;
      try {
        const outcome = await pool.run([{ ...run, batchNorm: run.config.batchNorm }], {
          onStart: () => progress.start(index, run),
          onProgress: (_worker, _job, step, stepsPerSecond) => progress.progress(index, step, stepsPerSecond),
          onFinish: (_worker, _job, finished) => execution.record(run, finished, progress, index),
        });
        if (outcome.interrupted) interrupted = true;
      } finally {
        await claim.release();
      }
    }
  };

  try {
    const slots = await Promise.allSettled(
      Array.from({ length: jobs }, (_, index) =>
        slot(index).catch((error: unknown) => {
          pool.stop(); // one failure ends the others' runs too
          throw error;
        }),
      ),
    );
    const failure = slots.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (pool.stopped) interrupted = true;
  } finally {
    interrupt.dispose();
    progress.done();
  }
  return { interrupted, jobs };
};
