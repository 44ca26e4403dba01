/**
 * @file One training run as the CLI shows it: a progress bar (or lines), divergence notes, and
 * a clean stop on Ctrl-C, around train/trainer.ts.
 */
import type { MnistData } from '../data/mnist.js';
import type { MLP } from '../nn/mlp.js';
import type { TrainConfig } from '../train/config.js';
import { train, type TrainResult } from '../train/trainer.js';
import { createProgress, type ProgressStyle } from './progress.js';

export async function runWithProgress(
  label: string, net: MLP, data: MnistData, config: TrainConfig, style: ProgressStyle, shouldStop: () => boolean,
): Promise<TrainResult> {
  const progress = createProgress(label, config.steps, style);
  const result = await train(net, data, config, {
    onStep: (step) => progress.step(step),
    onValidation: (point) => progress.validation(point),
    onDivergence: (step, loss) => progress.note(`${label}: the loss became ${loss} at step ${step}; the network diverged (recorded, the run ${config.stopOnDivergence ? 'stops' : 'goes on'}).`),
    shouldStop,
  });
  progress.done();
  if (result.stopReason === 'interrupted') progress.note(`${label}: interrupted after ${result.steps} of ${config.steps} steps; writing what was asked for.`);
  return result;
}
