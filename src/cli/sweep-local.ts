/**
 * @file A sweep trained on this machine: a pool of worker threads started once for the session
 * (GridPool.serve), one run at a time per thread, each run claimed in the runs dir just before it
 * starts, so that processes sharing the runs dir split the sweep between them. Runs are taken in
 * the order the runner gives (longest expected first); a thread left without a run while others
 * still train says so (execution.tail), and the report's charts start on the free core. A process whose own queue is empty waits for the runs another
 * process holds (polling for their records) and takes over those whose owner died, so every
 * process ends with the whole sweep in its report.
 */
import { availableParallelism } from 'node:os';
import { tailMayStart, tailThreads } from '../lab/sweep/run-order.js';
import type { SweepRun } from '../lab/sweep/sweep-runs.js';
import type { TrainJob } from '../node/grid-messages.js';
import { GridPool } from '../node/grid-pool.js';
import { describeOwner, type RunClaim } from '../node/run-store.js';
import { loadKernels } from '../node/wasm-files.js';
import type { SweepExecutor } from './sweep-runner.js';

/** How often a process with nothing left to claim looks again at the runs other processes hold. */
const CLAIM_POLL_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** A run as the pool takes it: the run itself (its events hand it back), with the job's fields. */
type PoolJob = SweepRun & TrainJob;

export const trainLocally: SweepExecutor = async (execution) => {
  const { plan, store, remaining, isDone, io } = execution;
  // Checked here so that a backend that cannot run is one clear error, not a failing worker.
  const kernels = await loadKernels(plan.backend);
  const jobs = Math.min(plan.jobs, remaining.length);
  // Threads for the last runs (src/lab/sweep/run-order.ts): they share the cores with the regular ones rather than start after them.
  const tail = Math.min(tailThreads(plan.jobs, availableParallelism()), remaining.length - jobs);
  io.stdout.write(
    `${jobs} worker thread${jobs === 1 ? '' : 's'}${tail > 0 ? ` (+${tail} for the last run${tail === 1 ? '' : 's'})` : ''}, kernel backend ${kernels.variant}, ` +
      `data: ${execution.data.source} (sha256 ${execution.data.hash.slice(0, 12)}…).\n`,
  );
  const progress = execution.createProgress(jobs + tail);
  // One pool for the whole session: its threads start (and compile the kernels) once, not once per run.
  const pool = new GridPool({ jobs: jobs + tail, backend: plan.backend, data: execution.shared });
  /** Regular threads (0 … jobs − 1) training a run now. */
  let regularBusy = 0;
  /** Resolved (and replaced) whenever a run starts or ends: tail threads wait on it. */
  let signalChange = (): void => undefined;
  let changed = new Promise<void>((resolve) => {
    signalChange = resolve;
  });
  const change = (): void => {
    signalChange();
    changed = new Promise<void>((resolve) => {
      signalChange = resolve;
    });
  };
  const interrupt = io.watchInterrupt(() => {
    progress.note('bnlab: stopping (unfinished runs are not recorded; run the same command again to resume; Ctrl-C again quits at once)');
    pool.stop();
  });
  /** The claims this process holds, by run id: each released once its run is recorded or stopped, the rest at the end. */
  const held = new Map<string, RunClaim>();
  const release = async (id: string): Promise<void> => {
    const claim = held.get(id);
    held.delete(id);
    await claim?.release();
  };

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

  /** A free thread's next run, claimed (each run is claimed just before it starts, never handed to a thread unclaimed); null when none is left. */
  const next = async (worker: number): Promise<PoolJob | null> => {
    const regular = worker < jobs;
    while (!pool.stopped) {
      if (!regular && !tailMayStart({ regularBusy, regular: jobs, unstarted: remaining.length, tail })) {
        if (remaining.length === 0) return null;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([changed, new Promise<void>((done) => (timer = setTimeout(done, CLAIM_POLL_MS)))]); // a run started or ended, or the stop flag to check
        clearTimeout(timer);
        continue;
      }
      const taken = await takeNext();
      if (taken === 'done') {
        if (held.size > 0) execution.tail(); // this thread is free for good while others still train: the report can start
        return null;
      }
      if (taken === 'wait') {
        await sleep(CLAIM_POLL_MS);
        continue;
      }
      held.set(taken.run.id, taken.claim);
      if (regular) regularBusy++;
      change();
      return { ...taken.run, batchNorm: taken.run.config.batchNorm };
    }
    return null;
  };

  let interrupted = false;
  try {
    const outcome = await pool.serve(next, {
      onStart: (index, job) => progress.start(index, job),
      onProgress: (index, _job, step, stepsPerSecond) => progress.progress(index, step, stepsPerSecond),
      onFinish: async (index, job, finished) => {
        try {
          await execution.record(job, finished, progress, index);
        } finally {
          await release(job.id);
          if (index < jobs) regularBusy--;
          change();
        }
      },
      onInterrupted: (_index, job) => release(job.id),
    });
    interrupted = outcome.interrupted || pool.stopped;
  } catch (error) {
    pool.stop(); // the pool has ended every run; a later stop() (Ctrl-C) does nothing
    throw error;
  } finally {
    interrupt.dispose();
    progress.done();
    await Promise.all([...held.keys()].map(release));
  }
  return { interrupted, jobs };
};
