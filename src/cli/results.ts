/**
 * @file The result lines as the article prints them ("With Batch Norm: The final accuracy on
 * validation data is …"), and curves as chart series.
 */
import { withBnName, withoutBnName } from '../lab/charts/series-colors.js';
import type { Series } from '../lab/charts/types.js';
import type { CurvePoint, TrainResult } from '../train/trainer.js';

export function networkName(batchNorm: boolean): string {
  return batchNorm ? 'With Batch Norm' : 'Without Batch Norm';
}

/** A validation curve as a chart series, named so that charts colour it like every other without/with-BN pair. */
export function curveSeries(batchNorm: boolean, curve: readonly CurvePoint[]): Series {
  return { name: batchNorm ? withBnName : withoutBnName, points: curve.map((point) => ({ x: point.step, y: point.validationAccuracy })) };
}

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
    out.write(`${label}: ${result.steps} steps, ${result.stepsPerSecond.toFixed(0)} steps/s (${backend})${diverged}\n`);
  }
}
