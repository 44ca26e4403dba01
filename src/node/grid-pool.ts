/**
 * @file The grid's pool of worker threads, one per job: each worker loads its kernels once and
 * trains on the MNIST the main thread shared with it; the pool hands out run specs one at a time
 * (the next to whichever worker is free) and passes progress and results on. A finished run is
 * handed to `onFinish` (which writes its record) before that worker gets its next spec.
 * `stop()` (Ctrl-C) asks every worker to end its run cleanly; unfinished runs are not reported.
 */
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from '../core/backend.js';
import type { RunSpec } from '../lab/grid.js';
import type { TrainResult } from '../train/trainer.js';
import type { GridWorkerData, MainToWorker, SharedMnist, WorkerToMain } from './grid-messages.js';

export interface FinishedRun {
  result: TrainResult;
  backend: string;
  durationMs: number;
}

export interface GridPoolEvents {
  onReady?(worker: number, backend: string): void;
  onStart?(worker: number, spec: RunSpec): void;
  onProgress?(worker: number, spec: RunSpec, step: number, stepsPerSecond: number): void;
  /** Awaited before the worker takes its next run. */
  onFinish?(worker: number, spec: RunSpec, run: FinishedRun): Promise<void> | void;
  onInterrupted?(worker: number, spec: RunSpec, step: number): void;
}

export interface GridPoolOptions {
  jobs: number;
  backend: BackendChoice;
  data: SharedMnist;
  /** The worker script (default: the compiled grid-worker.js beside this file). */
  workerUrl?: URL;
}

export interface GridPoolOutcome {
  finished: number;
  /** True when stop() ended the grid before every spec ran. */
  interrupted: boolean;
}

/** How long a stopped worker may take to end its run (it finishes the current step and its test evaluation). */
const STOP_GRACE_MS = 10_000;

export class GridWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GridWorkerError';
  }
}

interface Slot {
  worker: Worker;
  index: number;
  spec: RunSpec | null;
  ready: boolean;
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

  /** Asks every worker to end its current run cleanly; the pending specs are not started. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const listener of this.stopListeners) listener();
  }

  /** Runs `specs` on `jobs` workers (fewer if there are fewer specs); resolves when all are done or the pool is stopped. */
  run(specs: readonly RunSpec[], events: GridPoolEvents = {}): Promise<GridPoolOutcome> {
    const queue = [...specs];
    const jobs = Math.min(this.options.jobs, queue.length);
    if (jobs === 0) return Promise.resolve({ finished: 0, interrupted: false });
    const workerUrl = this.options.workerUrl ?? new URL('./grid-worker.js', import.meta.url);
    const workerData: GridWorkerData = { data: this.options.data, backend: this.options.backend };
    let finished = 0;

    return new Promise<GridPoolOutcome>((resolvePool, rejectPool) => {
      const slots: Slot[] = [];
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
        const busy = slots.some((slot) => slot.spec !== null);
        if (busy) return;
        if (queue.length > 0 && !this.stopping) return;
        settled = true;
        terminateAll();
        resolvePool({ finished, interrupted: queue.length > 0 || this.stopping });
      };
      const send = (slot: Slot, message: MainToWorker): void => slot.worker.postMessage(message);
      const dispatch = (slot: Slot): void => {
        if (settled || this.stopping || !slot.ready || slot.spec !== null) return maybeFinish();
        const spec = queue.shift();
        if (!spec) return maybeFinish();
        slot.spec = spec;
        events.onStart?.(slot.index, spec);
        send(slot, { type: 'run', spec });
      };

      this.stopListeners.push(() => {
        for (const slot of slots) if (!slot.done) send(slot, { type: 'stop' });
        graceTimer = setTimeout(() => {
          // A worker that does not answer in time is ended; its run was not going to be recorded anyway.
          if (!settled) {
            for (const slot of slots) slot.spec = null;
            maybeFinish();
          }
        }, STOP_GRACE_MS);
        graceTimer.unref();
        maybeFinish();
      });

      const onMessage = async (slot: Slot, message: WorkerToMain): Promise<void> => {
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            events.onReady?.(slot.index, message.backend);
            dispatch(slot);
            return;
          case 'progress':
            if (slot.spec && slot.spec.id === message.id) events.onProgress?.(slot.index, slot.spec, message.step, message.stepsPerSecond);
            return;
          case 'finished': {
            const spec = slot.spec;
            if (!spec || spec.id !== message.id) return fail(new GridWorkerError(`worker ${slot.index + 1} reported run ${message.id}, which it was not running`));
            try {
              await events.onFinish?.(slot.index, spec, { result: message.result, backend: message.backend, durationMs: message.durationMs });
            } catch (error) {
              return fail(error as Error);
            }
            finished++;
            slot.spec = null;
            dispatch(slot);
            return;
          }
          case 'interrupted':
            if (slot.spec) events.onInterrupted?.(slot.index, slot.spec, message.step);
            slot.spec = null;
            maybeFinish();
            return;
          case 'failed':
            return fail(new GridWorkerError(message.id === null
              ? `a grid worker could not start: ${message.message}`
              : `run ${message.id} failed in worker ${slot.index + 1}: ${message.message}`));
          default:
            message satisfies never;
        }
      };

      for (let index = 0; index < jobs; index++) {
        const worker = new Worker(workerUrl, { workerData });
        const slot: Slot = { worker, index, spec: null, ready: false, done: false };
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
