/**
 * @file A sweep trained by `bnlab worker` processes through a BullMQ queue in Redis (`--queue`).
 * This process is the coordinator: it first collects results that finished while it was away,
 * enqueues every run still missing (job id = run id, so enqueueing again is harmless), then polls
 * Redis: each finished result is checked against its run (same config, same data), written into
 * the run store once, and its job removed; the runs in training are shown with the worker that
 * holds them. A run that failed for good (its attempts used up) is named with its reason and left
 * unrecorded. Ctrl-C stops the coordinator only: queued runs go on on the workers, and running the
 * same command again collects them.
 */
import type { SweepRun } from '../lab/sweep/sweep-runs.js';
import { QUEUE_NAME_DEFAULT, QUEUED_RUN_FORMAT, type QueuedResult, type QueuedRun } from '../node/queue/queue-protocol.js';
import { parseRedisUrl, redactRedisUrl } from '../node/queue/redis-url.js';
import { RunQueue } from '../node/queue/run-queue.js';
import { UsageError } from './errors.js';
import { parseQueueName } from './sweep-options.js';
import type { SweepProgress } from './sweep-progress.js';
import type { SweepExecution, SweepExecutor } from './sweep-runner.js';

/** How often the coordinator asks Redis what finished and what trains. */
const POLL_MS = 500;
/** How often it adds the missing runs again (a queue emptied by hand, jobs removed): harmless for the runs that are there. */
const REENQUEUE_MS = 15_000;
/** Lines in the progress display: one per run in training, up to this many. */
const SHOWN_SLOTS = 8;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Where a sweep's runs go with --queue: a Redis address and a queue name. */
export interface QueueTarget {
  url: string;
  name: string;
}

/** Checks --queue and --queue-name (one line, exit 2, before any data is loaded); null without --queue. */
export function queueTargetOf(url: string | undefined, name: string | undefined): QueueTarget | null {
  if (url === undefined) {
    if (name !== undefined) throw new UsageError('--queue-name names the queue of --queue: give --queue redis://host:port too');
    return null;
  }
  parseRedisUrl(url);
  return { url, name: parseQueueName(name ?? QUEUE_NAME_DEFAULT) };
}

/** Connects once and lets go: an unreachable Redis is one line before any data is loaded or any runs dir written. */
export async function checkQueueReachable(target: QueueTarget): Promise<void> {
  await (await RunQueue.connect(target.url, { queueName: target.name })).close();
}

function queuedRunOf(run: SweepRun, execution: SweepExecution): QueuedRun {
  return {
    format: QUEUED_RUN_FORMAT,
    id: run.id,
    sweep: execution.plan.sweep,
    config: run.config,
    dataHash: execution.data.hash,
    backend: execution.plan.backend,
  };
}

/** Why a worker's result cannot be this run's record, or null when it can. */
function mismatch(run: SweepRun, result: QueuedResult, dataHash: string): string | null {
  if (result.dataHash !== dataHash) return `it was trained on other data (sha256 ${result.dataHash.slice(0, 12)}…, this sweep's is ${dataHash.slice(0, 12)}…)`;
  if (result.outcome.result.steps !== run.config.steps) return `it ran ${result.outcome.result.steps} steps, not ${run.config.steps}`;
  return null;
}

/** Maps the runs in training to display lines: a run keeps its line while it trains. */
class SlotMap {
  private readonly held = new Map<string, number>();

  constructor(private readonly size: number) {}

  /** The run's line, `fresh` when it just got it; null when every line is taken. */
  slotOf(id: string): { slot: number; fresh: boolean } | null {
    const existing = this.held.get(id);
    if (existing !== undefined) return { slot: existing, fresh: false };
    const used = new Set(this.held.values());
    for (let slot = 0; slot < this.size; slot++) {
      if (!used.has(slot)) {
        this.held.set(id, slot);
        return { slot, fresh: true };
      }
    }
    return null;
  }

  release(id: string): number | null {
    const slot = this.held.get(id);
    this.held.delete(id);
    return slot ?? null;
  }

  /** Lines of runs no longer in training (another worker took over after a stall, or it finished unseen). */
  staleIds(active: ReadonlySet<string>): string[] {
    return [...this.held.keys()].filter((id) => !active.has(id));
  }
}

export const trainOnQueue: SweepExecutor = async (execution) => {
  const { plan, remaining, io } = execution;
  const { url, name } = plan.queue!;
  const queue = await RunQueue.connect(url, { queueName: name });
  const byId = new Map(remaining.map((run) => [run.id, run]));
  const ofThisSweep = new Set(plan.runs.map((run) => run.id));
  const workersSeen = new Set<string>();
  const progress = execution.createProgress(Math.min(SHOWN_SLOTS, remaining.length));
  const slots = new SlotMap(Math.min(SHOWN_SLOTS, remaining.length));
  let stopped = false;
  let failedRuns = 0;
  const interrupt = io.watchInterrupt(() => {
    stopped = true;
    progress.note('bnlab: stopping the coordinator; the queued runs go on on the workers (run the same command again to collect them)');
  });

  const done = (id: string): void => {
    byId.delete(id);
    const at = remaining.findIndex((run) => run.id === id);
    if (at >= 0) remaining.splice(at, 1);
  };

  /** Writes what finished (once each) and removes its job; names what failed for good. */
  const collect = async (progressView: SweepProgress): Promise<void> => {
    const { completed, failed } = await queue.collect();
    for (const result of completed) {
      const run = byId.get(result.id);
      if (run === undefined) {
        // A run of this sweep recorded already (by a coordinator that died before removing its job): stale. Another sweep's: left alone.
        if (ofThisSweep.has(result.id)) await queue.remove(result.id);
        continue;
      }
      const wrong = mismatch(run, result, execution.data.hash);
      if (wrong !== null) {
        progress.note(`bnlab: run ${run.id}: the queue's result is not this sweep's (${wrong}); its job is removed and the run enqueued again`);
        await queue.remove(run.id);
        await queue.enqueue([queuedRunOf(run, execution)]);
        continue;
      }
      workersSeen.add(result.worker);
      const slot = slots.release(run.id) ?? 0;
      await execution.record(run, result.outcome, progressView, slot, result.worker);
      done(run.id);
      await queue.remove(run.id);
    }
    for (const failure of failed) {
      const run = byId.get(failure.id);
      if (run === undefined) {
        if (ofThisSweep.has(failure.id)) await queue.remove(failure.id); // recorded since: the failure is stale
        continue;
      }
      failedRuns++;
      progress.note(
        `bnlab: run ${run.id} failed on the workers after ${failure.attemptsMade} attempt${failure.attemptsMade === 1 ? '' : 's'}: ${failure.reason}; not recorded (run the command again to retry it)`,
      );
      done(run.id);
      slots.release(run.id);
      await queue.remove(run.id);
    }
  };

  let interrupted = false;
  try {
    // --force trains every run again: results and failures left from before are dropped, not collected.
    if (plan.force) for (const run of remaining) await queue.remove(run.id);
    // What finished while no coordinator was there is recorded before anything is enqueued again.
    await collect(progress);
    const enqueued = await queue.enqueue(remaining.map((run) => queuedRunOf(run, execution)));
    io.stdout.write(
      `Queue ${queue.queueName} on ${redactRedisUrl(url)}: ${enqueued.added.length} run${enqueued.added.length === 1 ? '' : 's'} enqueued, ` +
        `${enqueued.present.length} already there; start workers with: npx bnlab worker ${redactRedisUrl(url)}${name === QUEUE_NAME_DEFAULT ? '' : ` --queue-name ${name}`}\n`,
    );
    let lastEnqueue = Date.now();
    while (remaining.length > 0 && !stopped) {
      await sleep(POLL_MS);
      if (stopped) break;
      const active = await queue.active();
      const activeIds = new Set(active.map((run) => run.id));
      for (const id of slots.staleIds(activeIds)) slots.release(id);
      for (const run of active) {
        if (!byId.has(run.id)) continue;
        const line = slots.slotOf(run.id);
        if (line === null) continue;
        if (run.worker !== '') workersSeen.add(run.worker);
        if (line.fresh) progress.start(line.slot, { id: run.id }, run.worker || 'a worker');
        progress.progress(line.slot, run.step, run.stepsPerSecond);
      }
      await collect(progress);
      if (Date.now() - lastEnqueue > REENQUEUE_MS && remaining.length > 0) {
        await queue.enqueue(remaining.map((run) => queuedRunOf(run, execution)));
        lastEnqueue = Date.now();
      }
    }
    interrupted = stopped && remaining.length > 0;
  } finally {
    interrupt.dispose();
    progress.done();
    await queue.close();
  }
  return { interrupted, jobs: Math.max(1, workersSeen.size), failed: failedRuns };
};
