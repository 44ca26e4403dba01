/**
 * @file The machine-readable record of a run: what ran (version, backend, config, network) and
 * what came out (accuracies, curve, divergence, speed). JSON has no NaN or Infinity: such values
 * are written as null, and a diverged run says so in `divergedAtStep`.
 */
import type { TrainConfig } from '../train/config.js';
import type { TrainResult } from '../train/trainer.js';

export interface RunSummary {
  label: string;
  batchNorm: boolean;
  network: string;
  validationAccuracy: number;
  testAccuracy: number;
  validationLoss: number;
  testLoss: number;
  steps: number;
  divergedAtStep: number | null;
  stopReason: TrainResult['stopReason'];
  stepsPerSecond: number;
  trainingMs: number;
  elapsedMs: number;
  curve: TrainResult['curve'];
}

export function summarizeRun(label: string, batchNorm: boolean, config: TrainConfig, result: TrainResult): RunSummary {
  return {
    label,
    batchNorm,
    network: describeNetwork(config, batchNorm),
    validationAccuracy: result.validation.accuracy,
    testAccuracy: result.test.accuracy,
    validationLoss: result.validation.loss,
    testLoss: result.test.loss,
    steps: result.steps,
    divergedAtStep: result.divergedAtStep,
    stopReason: result.stopReason,
    stepsPerSecond: round(result.stepsPerSecond, 1),
    trainingMs: Math.round(result.trainingMs),
    elapsedMs: Math.round(result.elapsedMs),
    curve: result.curve,
  };
}

export function describeNetwork(config: TrainConfig, batchNorm: boolean): string {
  return `784-${config.hiddenSizes.join('-')}-10 ${config.activation}${batchNorm ? ' with BN' : ''}`;
}

/** JSON text in which NaN and ±Infinity become null (JSON has neither). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
