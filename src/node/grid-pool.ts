/**
 * @file The pool of training worker threads (the grid's runs of `reproduce`, the two networks of
 * `compare`): each worker loads its kernels once and trains on the MNIST the main thread shared
 * with it; the pool hands out jobs one at a time (the next to whichever worker is free) and
 * passes progress, validation points, divergence and results on. `run` takes a list of jobs;
 * `serve` asks a source for each free worker's next job (a sweep claims each run just before it
 * starts), so its workers start once for a whole sweep rather than once per run (a thread, its
 * modules and the kernels' compilation: about 0.1-0.4 s of CPU a run, measured on this machine). A finished run is handed to
 * `onFinish` (which may write its record) before that worker gets its next job. `stop()`
 * (Ctrl-C) asks every worker to end its run cleanly: a stopped run goes to `onInterrupted` with
 * the result of the steps it ran, never to `onFinish`; jobs not started are not run.
 * With `shareBatches`, jobs beyond one per worker are not queued but trained side by side: the
 * jobs are dealt over the workers in groups that draw the same batches, and each worker trains its
 * group step by step on batches drawn once (issue 15, item 2), every job to the numbers it gets alone.
 */
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from '../core/backend.js';
import type { CurvePoint } from '../train/trainer.js';
import {
  type GridWorkerData,
  jobMessage,
  type MainToWorker,
  type RunOutcome,
  type SharedMnist,
  sameBatches,
  type TrainJob,
  type WorkerToMain,
} from './grid-messages.js';

export type FinishedRun = RunOutcome;

/** What the pool reports; `J` is the caller's job type (a grid RunSpec, say), handed back as given. */
export interface GridPoolEvents<J extends TrainJob = TrainJob> {
  onReady?(worker: number, backend: string): void;
  onStart?(worker: number, job: J): void;
  onProgress?(worker: number, job: J, step: number, stepsPerSecond: number): void;
  /** Every validation point of the run (step 0, every validateEvery steps, the last), in order. */
  onValidation?(worker: number, job: J, point: CurvePoint): void;
  /** The first step whose loss was NaN or infinite. */
  onDivergence?(worker: number, job: J, step: number, loss: number): void;
  /** Awaited before the worker takes its next run. */
  onFinish?(worker: number, job: J, run: FinishedRun): Promise<void> | void;
  /** A run ended early by stop(), with its result so far (stopReason 'interrupted'). */
  onInterrupted?(worker: number, job: J, run: FinishedRun): Promise<void> | void;
}

export interface GridPoolOptions {
  jobs: number;
  backend: BackendChoice;
  data: SharedMnist;
  /** The worker script (default: the compiled grid-worker.js beside this file). */
  workerUrl?: URL;
  /**
   * More jobs than workers: deal them over the workers, each worker training its share side by
   * side on batches drawn once (jobs that draw other batches go in other groups), rather than one
   * after another. Default false.
   */
  shareBatches?: boolean;
}

export interface GridPoolOutcome {
  finished: number;
  /** True when stop() ended the pool before every job ran to its end. */
  interrupted: boolean;
}

/** How long a stopped worker may take to end its run (it finishes the current step and its test evaluation). */
const STOP_GRACE_MS = 10_000;

class GridWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GridWorkerError';
  }
}

interface Slot<J> {
  worker: Worker;
  index: number;
  /** The jobs it is running (one, or a group trained side by side), by id. */
  jobs: Map<string, J>;
  ready: boolean;
  /** Waiting for the job source's answer. */
  asking: boolean;
  /** The job source has no more jobs for it. */
  exhausted: boolean;
  done: boolean;
}

export class GridPool {
  private stopping = false;
  private stopListeners: Array<() => void> = [];

  constructor(private readonly options: GridPoolOptions) {
    if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new RangeError(`jobs must be a whole number of at least 1, got ${options.jobs}`);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Asks every worker to end its current run cleanly; the pending jobs are not started. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const listener of this.stopListeners) listener();
  }

  /** Runs `pending` on `jobs` workers (fewer if there are fewer jobs); resolves when all are done or the pool is stopped. */
  run<J extends TrainJob>(pending: readonly J[], events: GridPoolEvents<J> = {}): Promise<GridPoolOutcome> {
    const queue = this.options.shareBatches ? groupsSharingBatches(pending, this.options.jobs) : pending.map((job) => [job]);
    const workers = Math.min(this.options.jobs, queue.length);
    return this.drive(
      workers,
      async () => queue.shift() ?? null,
      events,
      () => queue.length === 0,
    );
  }

  /**
   * Runs the jobs `next` hands out on `jobs` workers that live for the whole session: a worker
   * that is free asks `next` for its next job (`next` may take its time, to claim a run or wait for
   * one) and is done when it answers null. The workers start (thread, kernels) once, not once per
   * job. Resolves when every worker is done, or when the pool is stopped and its runs have ended; a
   * job `next` handed out after stop() is not started (the caller still holds it).
   */
  serve<J extends TrainJob>(next: (worker: number) => Promise<J | null>, events: GridPoolEvents<J> = {}): Promise<GridPoolOutcome> {
    return this.drive(
      this.options.jobs,
      async (worker) => {
        const job = await next(worker);
        return job === null ? null : [job];
      },
      events,
      (slots) => slots.every((slot) => slot.exhausted),
    );
  }

  /** `workers` workers, each running the groups `nextGroup` hands it until it answers null; `drained` says when no group is left to hand out. */
  private drive<J extends TrainJob>(
    workers: number,
    nextGroup: (worker: number) => Promise<J[] | null>,
    events: GridPoolEvents<J>,
    drained: (slots: ReadonlyArray<Slot<J>>) => boolean,
  ): Promise<GridPoolOutcome> {
    if (workers === 0) return Promise.resolve({ finished: 0, interrupted: false });
    const workerUrl = this.options.workerUrl ?? new URL('./grid-worker.js', import.meta.url);
    const workerData: GridWorkerData = { data: this.options.data, backend: this.options.backend };
    let finished = 0;

    return new Promise<GridPoolOutcome>((resolvePool, rejectPool) => {
      const slots: Array<Slot<J>> = [];
      let settled = false;
      let graceTimer: NodeJS.Timeout | null = null;

      const terminateAll = (): void => {
        if (graceTimer) clearTimeout(graceTimer);
        for (const slot of slots) {
          slot.done = true;
          void slot.worker.terminate();
        }
      };
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        terminateAll();
        rejectPool(error);
      };
      const maybeFinish = (): void => {
        if (settled) return;
        const busy = slots.some((slot) => slot.jobs.size > 0 || slot.asking);
        if (busy) return;
        const nothingLeft = drained(slots);
        if (!this.stopping && !nothingLeft) return;
        settled = true;
        terminateAll();
        resolvePool({ finished, interrupted: !nothingLeft || this.stopping });
      };
      const send = (slot: Slot<J>, message: MainToWorker): void => slot.worker.postMessage(message);
      const dispatch = async (slot: Slot<J>): Promise<void> => {
        if (settled || this.stopping || !slot.ready || slot.exhausted || slot.asking || slot.jobs.size > 0) {
          maybeFinish();
          return;
        }
        slot.asking = true;
        let group: J[] | null;
        try {
          group = await nextGroup(slot.index);
        } catch (error) {
          return fail(error as Error);
        } finally {
          slot.asking = false;
        }
        if (group === null || group.length === 0) {
          slot.exhausted = true;
          maybeFinish();
          return;
        }
        if (settled || this.stopping) {
          maybeFinish();
          return;
        }
        for (const job of group) slot.jobs.set(job.id, job);
        for (const job of group) events.onStart?.(slot.index, job);
        send(slot, group.length === 1 ? { type: 'run', job: jobMessage(group[0]!) } : { type: 'runGroup', jobs: group.map(jobMessage) });
      };

      this.stopListeners.push(() => {
        for (const slot of slots) if (!slot.done) send(slot, { type: 'stop' });
        graceTimer = setTimeout(() => {
          // A worker that does not answer in time is ended, and its run is lost: better than a Ctrl-C that never returns.
          if (!settled) {
            for (const slot of slots) slot.jobs.clear();
            maybeFinish();
          }
        }, STOP_GRACE_MS);
        graceTimer.unref();
        maybeFinish();
      });

      const onMessage = async (slot: Slot<J>, message: WorkerToMain): Promise<void> => {
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            events.onReady?.(slot.index, message.backend);
            await dispatch(slot);
            return;
          case 'progress': {
            const job = slot.jobs.get(message.id);
            if (job) events.onProgress?.(slot.index, job, message.step, message.stepsPerSecond);
            return;
          }
          case 'validation': {
            const job = slot.jobs.get(message.id);
            if (job) events.onValidation?.(slot.index, job, message.point);
            return;
          }
          case 'diverged': {
            const job = slot.jobs.get(message.id);
            if (job) events.onDivergence?.(slot.index, job, message.step, message.loss);
            return;
          }
          case 'finished': {
            const job = slot.jobs.get(message.id);
            if (!job) return fail(new GridWorkerError(`worker ${slot.index + 1} reported run ${message.id}, which it was not running`));
            try {
              await events.onFinish?.(slot.index, job, { result: message.result, backend: message.backend, durationMs: message.durationMs });
            } catch (error) {
              return fail(error as Error);
            }
            finished++;
            slot.jobs.delete(job.id);
            await dispatch(slot);
            return;
          }
          case 'interrupted': {
            const job = slot.jobs.get(message.id);
            if (job) {
              try {
                await events.onInterrupted?.(slot.index, job, { result: message.result, backend: message.backend, durationMs: message.durationMs });
              } catch (error) {
                return fail(error as Error);
              }
            }
            if (job) slot.jobs.delete(job.id);
            maybeFinish();
            return;
          }
          case 'failed':
            return fail(
              new GridWorkerError(
                message.id === null
                  ? `a training worker could not start: ${message.message}`
                  : `run ${message.id} failed in worker ${slot.index + 1}: ${message.message}`,
              ),
            );
          default:
            message satisfies never;
        }
      };

      for (let index = 0; index < workers; index++) {
        const worker = new Worker(workerUrl, { workerData });
        const slot: Slot<J> = { worker, index, jobs: new Map(), ready: false, asking: false, exhausted: false, done: false };
        slots.push(slot);
        // Messages of one worker are handled in order: a finished run's record is written before the next message.
        let chain = Promise.resolve();
        worker.on('message', (message: WorkerToMain) => {
          chain = chain.then(() => onMessage(slot, message));
        });
        worker.on('error', (error) => fail(new GridWorkerError(`worker ${index + 1} crashed: ${error.message}`)));
        worker.on('exit', (code) => {
          if (!slot.done && !settled) fail(new GridWorkerError(`worker ${index + 1} exited unexpectedly (code ${code})`));
        });
      }
      if (this.stopping) this.stopListeners.at(-1)!();
    });
  }
}

/**
 * `jobs` as at most `workers` groups to train side by side, each of jobs that draw the same
 * batches: one job per group while there are no more jobs than workers; beyond, the jobs are dealt
 * in turn over the workers (so the groups' sizes differ by one at most), then split where their
 * batches differ. Job order is kept within a group.
 */
export function groupsSharingBatches<J extends TrainJob>(jobs: readonly J[], workers: number): J[][] {
  if (jobs.length <= workers) return jobs.map((job) => [job]);
  const dealt = Array.from({ length: workers }, (): J[] => []);
  jobs.forEach((job, i) => {
    dealt[i % workers]!.push(job);
  });
  return dealt.flatMap((group) => {
    const sharing: J[][] = [];
    for (const job of group) {
      const same = sharing.find((candidates) => sameBatches(candidates[0]!, job));
      if (same) same.push(job);
      else sharing.push([job]);
    }
    return sharing;
  });
}
