/**
 * @file The result lines as the article prints them ("With Batch Norm: The final accuracy on
 * validation data is …").
 */
import type { TrainResult } from '../train/trainer.js';

export function printResults(runs: Array<{ label: string; result: TrainResult }>, backend: string, out: NodeJS.WriteStream = process.stdout): void {
  out.write('Training result:\n');
  for (const { label, result } of runs) {
    out.write(`${label}: The final accuracy on validation data is ${result.validation.accuracy.toFixed(4)}\n`);
  }
  out.write('Testing result:\n');
  for (const { label, result } of runs) {
    out.write(`${label}: The final accuracy on test data is ${result.test.accuracy.toFixed(4)}\n`);
  }
  for (const { label, result } of runs) {
    const diverged = result.divergedAtStep === null ? '' : `; diverged at step ${result.divergedAtStep} (loss NaN or infinite)`;
    const dead = result.deadLayerSteps
      ? `; hidden layers dead for good from step ${result.steps - result.deadLayerSteps}: the output layer trained alone after it`
      : '';
    out.write(`${label}: ${result.steps} steps, ${result.stepsPerSecond.toFixed(0)} steps/s (${backend})${diverged}${dead}\n`);
  }
}
