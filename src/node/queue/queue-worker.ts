/**
 * @file A worker of a distributed sweep: takes runs from the BullMQ queue in Redis and trains
 * each on the same pool of training threads a local sweep uses (GridPool), so a run gives the
 * same numbers here as on the coordinator's machine (same kernel backend and CPU family).
 *
 * A malformed job fails for good (UnrecoverableError); a job for other data fails with the two
 * hashes and is retried, perhaps by a worker that has its data; either way this worker goes on.
 * A worker that dies (kill -9, a lost machine) stops renewing its jobs' locks: after about the
 * stall timeout another worker's stalled-job check puts them back in the queue. stop() (Ctrl-C)
 * ends the active runs and moves their jobs back to waiting at once, so no one waits for that.
 */
import { hostname } from 'node:os';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { BackendChoice } from '../../core/backend.js';
import { mnistFromShared, type RunOutcome, type SharedMnist } from '../grid-messages.js';
import { GridPool } from '../grid-pool.js';
import { mnistContentHash } from '../run-store.js';
import { loadKernels } from '../wasm-files.js';
import { encodeQueuedResult, parseQueuedRun, QUEUE_NAME_DEFAULT, type QueuedRun } from './queue-protocol.js';
import { openRedis, type RedisConnection } from './redis-client.js';
import type { QueuedProgress } from './run-queue.js';

export const STALL_TIMEOUT_MS_DEFAULT = 30_000;
/** Runs stalled (their worker died) more often than this fail for good: a run that kills every worker must not go round forever. */
const MAX_STALLED_COUNT = 2;
/** How often an active run's progress is written to Redis. */
const PROGRESS_EVERY_MS = 1_000;
/** Redis errors while reconnecting come in bursts: at most one line per this interval. */
const ERROR_LINE_EVERY_MS = 10_000;

export interface QueueWorkerOptions {
  url: string;
  /** Runs trained at once (BullMQ concurrency), one training thread each. */
  jobs: number;
  /** The kernels for jobs that leave the choice to the worker (backend `auto`); `js` or `wasm` in a job wins. */
  backend: BackendChoice;
  data: SharedMnist;
  queueName?: string;
  /** A run whose worker stops renewing its lock for this long is given to another worker. */
  stallTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Where the worker's lines go (default: stdout). */
  log?: (line: string) => void;
  /** `${hostname}:${pid}` unless given (tests run several workers in one process). */
  name?: string;
}

/** The BullMQ settings a stall timeout implies (see the file comment). */
export function stallSettings(stallTimeoutMs: number): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  return {
    // The lock is renewed every lockDuration/2 while the worker lives; it lapses lockDuration after the last renewal.
    lockDuration: stallTimeoutMs,
    // A lapsed lock is noticed at the next check: the job goes back after 1 to 1.5 stall timeouts.
    stalledInterval: Math.max(1_000, Math.round(stallTimeoutMs / 2)),
    maxStalledCount: MAX_STALLED_COUNT,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export class QueueWorker {
  private stopping = false;
  private readonly pools = new Set<GridPool>();
  private stopped: Promise<void> | null = null;
  private lastErrorLine = 0;

  private constructor(
    private readonly connection: RedisConnection,
    private readonly worker: Worker<unknown, unknown, string>,
    readonly name: string,
    readonly dataHash: string,
    /** The ready line, printed once the worker takes jobs. */
    readonly readyLine: string,
  ) {}

  /**
   * Connects (QueueUrlError, QueueUnreachableError within seconds), checks that the kernels load,
   * and starts taking jobs; resolves once the worker is ready, after printing its ready line.
   */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new RangeError(`jobs must be a whole number of at least 1, got ${options.jobs}`);
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const name = options.name ?? `${hostname()}:${process.pid}`;
    const queueName = options.queueName ?? QUEUE_NAME_DEFAULT;
    const stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS_DEFAULT;
    const data = options.data;
    const dataHash = mnistContentHash(mnistFromShared(data));
    // Checked here so that a backend that cannot run is one clear error, not a failing job.
    const kernels = await loadKernels(options.backend);
    const connection = await openRedis(options.url, {
      role: 'worker',
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });

    let self: QueueWorker | null = null;
    const worker = new Worker<unknown, unknown, string>(queueName, (job, token) => self!.process(job, token ?? '', options, log), {
      connection: connection.client,
      concurrency: options.jobs,
      name,
      autorun: false,
      ...stallSettings(stallTimeoutMs),
    });
    const readyLine =
      `bnlab worker: ${name} on ${connection.shown}, queue ${queueName}, ${options.jobs} thread${options.jobs === 1 ? '' : 's'}, ` +
      `kernel backend ${kernels.variant}${options.backend === 'auto' ? '' : ` (--backend ${options.backend})`}, data sha256 ${dataHash.slice(0, 12)}… (${data.source}), stall timeout ${seconds(stallTimeoutMs)}`;
    self = new QueueWorker(connection, worker, name, dataHash, readyLine);
    worker.on('error', (error) => self!.reportError(error, log));
    try {
      await worker.waitUntilReady();
    } catch (error) {
      await worker.close(true).catch(() => {});
      connection.client.disconnect();
      throw error;
    }
    void worker.run().catch((error: unknown) => self!.reportError(error, log));
    log(readyLine);
    return self;
  }

  private reportError(error: unknown, log: (line: string) => void): void {
    if (this.stopping) return;
    const now = Date.now();
    if (now - this.lastErrorLine < ERROR_LINE_EVERY_MS) return;
    this.lastErrorLine = now;
    const message = error instanceof Error ? error.message : String(error);
    log(`bnlab worker: Redis trouble at ${this.connection.shown}: ${message.split('\n')[0]} (retrying)`);
  }

  private async process(job: Job<unknown, unknown, string>, token: string, options: QueueWorkerOptions, log: (line: string) => void): Promise<unknown> {
    let run: QueuedRun;
    try {
      run = parseQueuedRun(job.data);
      if (run.id !== job.id) throw new Error(`job ${job.id} carries run ${run.id}: a job's id must be its run's id`);
    } catch (error) {
      log(`refused job ${job.id}: ${(error as Error).message}`);
      throw new UnrecoverableError((error as Error).message);
    }
    if (run.dataHash !== this.dataHash) {
      const reason = `this worker's data is sha256 ${this.dataHash.slice(0, 12)}…, the job's ${run.dataHash.slice(0, 12)}…: start the worker with the same --data-dir as the coordinator`;
      log(`refused run ${run.id}: ${reason}`);
      throw new Error(reason);
    }
    if (this.stopping) return this.putBack(job, token);

    const backend = run.backend === 'auto' ? options.backend : run.backend;
    const pool = new GridPool({ jobs: 1, backend, data: options.data });
    this.pools.add(pool);
    let outcome: RunOutcome | null = null;
    let lastProgress = 0;
    const report = (progress: QueuedProgress): void => {
      lastProgress = Date.now();
      // A progress write that fails (Redis away a moment) only leaves the display behind.
      job.updateProgress(progress).catch(() => {});
    };
    log(`started ${run.id} (sweep ${run.sweep}${job.attemptsMade > 0 ? `, attempt ${job.attemptsMade + 1}` : ''})`);
    report({ step: 0, stepsPerSecond: 0, worker: this.name });
    try {
      await pool.run([{ id: run.id, config: run.config, batchNorm: run.config.batchNorm }], {
        onProgress: (_worker, _job, step, stepsPerSecond) => {
          if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) report({ step, stepsPerSecond, worker: this.name });
        },
        onFinish: (_worker, _job, finished) => {
          outcome = finished;
        },
      });
    } catch (error) {
      log(`failed ${run.id}: ${(error as Error).message}`);
      throw error;
    } finally {
      this.pools.delete(pool);
    }
    if (outcome === null) {
      if (this.stopping) return this.putBack(job, token);
      throw new Error(`run ${run.id} ended without a result`);
    }
    const { result, durationMs } = outcome as RunOutcome;
    const diverged = result.divergedAtStep === null ? '' : `, diverged at step ${result.divergedAtStep}`;
    log(
      `finished ${run.id}: validation ${result.validation.accuracy.toFixed(4)}, test ${result.test.accuracy.toFixed(4)}, ${result.stepsPerSecond.toFixed(0)} steps/s, ${seconds(durationMs)}${diverged}`,
    );
    return encodeQueuedResult({ id: run.id, worker: this.name, outcome: outcome as RunOutcome, dataSource: options.data.source, dataHash: this.dataHash });
  }

  /** Hands a job this worker will not finish back to the queue at once (BullMQ's moveToWait + WaitingError), not after the stall timeout. */
  private async putBack(job: Job<unknown, unknown, string>, token: string): Promise<never> {
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** Stops taking jobs, ends the active runs (their jobs go back to waiting), and disconnects. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const pool of this.pools) pool.stop();
      await this.worker.close().catch(() => {});
      this.connection.client.disconnect();
    })();
    return this.stopped;
  }

  /** Runs being trained now. */
  get activeRuns(): number {
    return this.pools.size;
  }
}
