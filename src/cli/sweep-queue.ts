/** @file PLACEHOLDER until the queue lands (replaced in this session). */
import type { SweepExecutor } from './sweep-runner.js';
import { UsageError } from './errors.js';

export function parseQueueUrl(text: string): string {
  return text;
}

export const trainOnQueue: SweepExecutor = async () => {
  throw new UsageError('--queue is not available yet');
};
