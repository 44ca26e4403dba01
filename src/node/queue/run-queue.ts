/**
 * @file The coordinator's side of a distributed sweep: runs go into a BullMQ queue in Redis
 * (one job per run, its id the run id, so adding a run twice adds it once), workers on any
 * machine train them (queue-worker.ts), and the coordinator collects the results that Redis
 * holds, writes each record, then removes its job. Results stay in Redis until removed, so a
 * coordinator started again collects what finished while it was away.
 */
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseQueuedResult, parseQueuedRun, QUEUE_NAME_DEFAULT, type QueuedResult, type QueuedRun } from './queue-protocol.js';
import { openRedis, QueueUnreachableError } from './redis-client.js';

export { QueueUnreachableError };

/** Tries per job: a failure that may not recur (a worker thread that crashed, a worker with other data) is retried elsewhere. */
const ATTEMPTS_DEFAULT = 3;
/** Wait before a failed job is tried again, so that another worker is likely to take it. */
const RETRY_DELAY_MS_DEFAULT = 5_000;
/** Failed jobs kept for the coordinator to read (the oldest beyond it are dropped): bounded, so a broken sweep cannot fill Redis. */
const FAILED_KEPT = 10_000;

export interface RunQueueOptions {
  queueName?: string;
  connectTimeoutMs?: number;
  attempts?: number;
  retryDelayMs?: number;
}

interface FailedRun {
  id: string;
  /** The last failure's one-line reason, as the worker gave it. */
  reason: string;
  attemptsMade: number;
}

export interface Collected {
  completed: QueuedResult[];
  /** Jobs that failed for good (attempts used up, or refused as malformed), and completed jobs whose result does not read back. */
  failed: FailedRun[];
}

export interface ActiveRun {
  id: string;
  /** `${hostname}:${pid}` of the worker training it ('' until it reports). */
  worker: string;
  step: number;
  stepsPerSecond: number;
}

/** What a worker reports about an active job about every second (the BullMQ job's progress). */
export interface QueuedProgress {
  step: number;
  stepsPerSecond: number;
  worker: string;
}

export type RunJobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'completed' | 'failed' | 'waiting-children' | 'unknown';

export interface EnqueueOutcome {
  /** Runs that became new jobs. */
  added: string[];
  /** Runs whose job was in the queue already, in whatever state (left as they were). */
  present: Array<{ id: string; state: RunJobState }>;
}

const PAGE = 500;

export class RunQueue {
  private constructor(
    private readonly queue: Queue<unknown, unknown, string>,
    private readonly client: Redis,
    /** The Redis address as it may be printed (password as ***). */
    readonly shown: string,
    readonly queueName: string,
    private readonly attempts: number,
    private readonly retryDelayMs: number,
  ) {}

  /** Connects to Redis at `url`: a QueueUrlError for a malformed address, a QueueUnreachableError within seconds when Redis does not answer. */
  static async connect(url: string, options: RunQueueOptions = {}): Promise<RunQueue> {
    const queueName = options.queueName ?? QUEUE_NAME_DEFAULT;
    const attempts = options.attempts ?? ATTEMPTS_DEFAULT;
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a whole number of at least 1, got ${attempts}`);
    const { client, shown } = await openRedis(url, {
      role: 'queue',
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
    const queue = new Queue<unknown, unknown, string>(queueName, { connection: client });
    queue.on('error', () => {}); // connection trouble surfaces as failed commands, which the caller sees
    try {
      await queue.waitUntilReady();
    } catch (error) {
      await queue.close().catch(() => {});
      client.disconnect();
      throw new QueueUnreachableError(
        `Redis at ${shown} answered but the queue could not start (${(error as Error).message.split('\n')[0]}): check that it is Redis 5 or newer`,
      );
    }
    return new RunQueue(queue, client, shown, queueName, attempts, options.retryDelayMs ?? RETRY_DELAY_MS_DEFAULT);
  }

  /**
   * Adds each run as a job with jobId = run id. A run whose job exists (waiting, active, finished
   * and not yet removed) is left alone: BullMQ ignores an add with an existing id, so enqueueing
   * again after a restart is harmless. Each run is checked first (parseQueuedRun), so a worker is never sent one it would refuse.
   */
  async enqueue(runs: readonly QueuedRun[]): Promise<EnqueueOutcome> {
    const outcome: EnqueueOutcome = { added: [], present: [] };
    for (const run of runs) parseQueuedRun(run);
    for (let start = 0; start < runs.length; start += PAGE) {
      const page = runs.slice(start, start + PAGE);
      const states = await Promise.all(page.map((run) => this.jobState(run.id)));
      const fresh = page.filter((run, i) => {
        if (states[i] === 'unknown') return true;
        outcome.present.push({ id: run.id, state: states[i]! });
        return false;
      });
      if (fresh.length === 0) continue;
      await this.queue.addBulk(
        fresh.map((run) => ({
          name: run.sweep,
          data: run,
          opts: {
            jobId: run.id,
            attempts: this.attempts,
            backoff: { type: 'fixed', delay: this.retryDelayMs },
            removeOnComplete: false, // the result waits in Redis until the coordinator has written its record
            removeOnFail: { count: FAILED_KEPT },
          },
        })),
      );
      outcome.added.push(...fresh.map((run) => run.id));
    }
    return outcome;
  }

  /** Every finished job's result now in Redis, and every job that failed for good with its reason. */
  async collect(): Promise<Collected> {
    const collected: Collected = { completed: [], failed: [] };
    for (const job of await this.all('completed')) {
      try {
        const result = parseQueuedResult(job.returnvalue);
        if (result.id !== job.id) throw new Error(`the worker's result is for run ${result.id}, not ${job.id}`);
        collected.completed.push(result);
      } catch (error) {
        collected.failed.push({ id: job.id!, reason: (error as Error).message, attemptsMade: job.attemptsMade });
      }
    }
    for (const job of await this.all('failed')) {
      collected.failed.push({ id: job.id!, reason: oneLine(job.failedReason ?? 'no reason given'), attemptsMade: job.attemptsMade });
    }
    return collected;
  }

  private async all(state: 'completed' | 'failed'): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let start = 0; ; start += PAGE) {
      const page = (await this.queue.getJobs([state], start, start + PAGE - 1, true)) as Job[];
      jobs.push(...page.filter((job): job is Job => job !== undefined && job !== null));
      if (page.length < PAGE) return jobs;
    }
  }

  /** Removes a run's job (after its record is written, or to enqueue a failed run afresh); false if there was none or it is active. */
  async remove(id: string): Promise<boolean> {
    // BullMQ answers 1 for an id it does not hold too, so absence is asked first.
    if ((await this.jobState(id)) === 'unknown') return false;
    return (await this.queue.remove(id)) === 1;
  }

  async jobState(id: string): Promise<RunJobState> {
    return (await this.queue.getJobState(id)) as RunJobState;
  }

  /** The runs being trained now, with the progress their workers last reported. */
  async active(): Promise<ActiveRun[]> {
    const jobs = (await this.queue.getActive(0, -1)) as Job[];
    return jobs
      .filter((job) => job !== undefined && job !== null)
      .map((job) => {
        const progress = job.progress as Partial<QueuedProgress> | number;
        const reported = typeof progress === 'object' && progress !== null ? progress : {};
        return {
          id: job.id!,
          worker: typeof reported.worker === 'string' ? reported.worker : (job.processedBy ?? ''),
          step: typeof reported.step === 'number' ? reported.step : 0,
          stepsPerSecond: typeof reported.stepsPerSecond === 'number' ? reported.stepsPerSecond : 0,
        };
      });
  }

  /** Counts by state, for a summary line. */
  async counts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed', number>> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.client.disconnect();
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
