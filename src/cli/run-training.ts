/**
 * @file Training runs as the CLI shows them: a progress bar (or lines), divergence notes, and
 * a clean stop on Ctrl-C, around train/trainer.ts. One run in this thread (`runWithProgress`,
 * for `train`), or several at once on the worker pool (`runOnPool`, for `compare`), which
 * forwards each run's validation points and divergence so that the output is the same.
 */
import type { MnistData } from '../data/mnist.js';
import type { MLP } from '../nn/mlp.js';
import type { NormKind } from '../nn/spec.js';
import type { TrainJob } from '../node/grid-messages.js';
import type { GridPool } from '../node/grid-pool.js';
import type { TrainConfig } from '../train/config.js';
import { type TrainResult, train } from '../train/trainer.js';
import { createProgress, createProgressGroup, type ProgressStyle } from './progress.js';

export async function runWithProgress(
  label: string,
  net: MLP,
  data: MnistData,
  config: TrainConfig,
  style: ProgressStyle,
  shouldStop: () => boolean,
): Promise<TrainResult> {
  const progress = createProgress(label, config.steps, style);
  const result = await train(
    net,
    data,
    config,
    {
      onStep: (step) => progress.step(step),
      onValidation: (point) => progress.validation(point),
      onDivergence: (step, loss) => progress.note(divergenceNote(label, step, loss, config)),
      shouldStop,
    },
    { skipDeadLayers: true },
  ); // the same numbers and weights (a --save is unchanged), without the layers that can no longer change
  progress.done();
  if (result.stopReason === 'interrupted') progress.note(interruptedNote(label, result, config));
  return result;
}

export interface LabeledJob {
  label: string;
  job: TrainJob;
}

export interface LabeledResult {
  label: string;
  batchNorm: boolean;
  /** The job's own norm, when it named one (compare --norms). */
  norm?: NormKind;
  result: TrainResult;
}

/**
 * Trains `runs` on `pool` at once (as many at a time as it has workers) with one progress bar
 * each; resolves with the results in the order of `runs`, an interrupted run's included (pool.stop()
 * on Ctrl-C ends every run cleanly). A run the pool never started is left out, as `compare` left
 * out a network it had not reached before.
 */
export async function runOnPool(pool: GridPool, runs: readonly LabeledJob[], style: ProgressStyle): Promise<LabeledResult[]> {
  const group = createProgressGroup(
    runs.map(({ label, job }) => ({ label, totalSteps: job.config.steps })),
    style,
  );
  const indexOf = new Map(runs.map(({ job }, i) => [job.id, i]));
  const progressOf = (job: TrainJob) => group.runs[indexOf.get(job.id)!]!;
  const labelOf = (job: TrainJob) => runs[indexOf.get(job.id)!]!.label;
  const results: Array<TrainResult | undefined> = runs.map(() => undefined);
  try {
    await pool.run(
      runs.map(({ job }) => job),
      {
        onStart: (_worker, job) => progressOf(job).start(),
        onProgress: (_worker, job, step) => progressOf(job).step(step),
        onValidation: (_worker, job, point) => progressOf(job).validation(point),
        onDivergence: (_worker, job, step, loss) => progressOf(job).note(divergenceNote(labelOf(job), step, loss, job.config)),
        onFinish: (_worker, job, { result }) => {
          results[indexOf.get(job.id)!] = result;
          progressOf(job).done();
        },
        onInterrupted: (_worker, job, { result }) => {
          results[indexOf.get(job.id)!] = result;
          progressOf(job).done();
          progressOf(job).note(interruptedNote(labelOf(job), result, job.config));
        },
      },
    );
  } finally {
    group.close();
  }
  return runs.flatMap(({ label, job }, i) =>
    results[i] ? [{ label, batchNorm: job.batchNorm, ...(job.norm === undefined ? {} : { norm: job.norm }), result: results[i]! }] : [],
  );
}

function divergenceNote(label: string, step: number, loss: number, config: TrainConfig): string {
  return `${label}: the loss became ${loss} at step ${step}; the network diverged (recorded, the run ${config.stopOnDivergence ? 'stops' : 'goes on'}).`;
}

function interruptedNote(label: string, result: TrainResult, config: TrainConfig): string {
  return `${label}: interrupted after ${result.steps} of ${config.steps} steps; writing what was asked for.`;
}
