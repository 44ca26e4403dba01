/**
 * @file The machine-readable record of a run: what ran (version, backend, config, network) and
 * what came out (accuracies, curve, divergence, speed), and the record of `compare` (the CLI's
 * compare.json, which the page exports too). JSON has no NaN or Infinity: such values are
 * written as null, and a diverged run says so in `divergedAtStep`.
 */
import type { TrainConfig } from '../train/config.js';
import type { CurvePoint, TrainResult } from '../train/trainer.js';
import { withBnName, withoutBnName } from './charts/series-colors.js';
import type { Series } from './charts/types.js';

/** The article's names of the two networks, as results and progress print them. */
export function networkName(batchNorm: boolean): string {
  return batchNorm ? 'With Batch Norm' : 'Without Batch Norm';
}

/** A validation curve as a chart series, named so that charts colour it like every other without/with-BN pair. */
export function curveSeries(batchNorm: boolean, curve: readonly CurvePoint[]): Series {
  return { name: batchNorm ? withBnName : withoutBnName, points: curve.map((point) => ({ x: point.step, y: point.validationAccuracy })) };
}

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

/** compare.json: both networks of one `compare` run, trained from the same weights on the same batches. */
export interface CompareRecord {
  bnlab: string;
  command: 'compare';
  backend: string;
  data: string;
  config: Omit<TrainConfig, 'batchNorm'>;
  runs: RunSummary[];
}

export function compareRecord(
  bnlab: string, backend: string, data: string, config: TrainConfig, runs: ReadonlyArray<{ batchNorm: boolean; result: TrainResult }>,
): CompareRecord {
  const { batchNorm: _unused, ...settings } = config;
  return {
    bnlab,
    command: 'compare',
    backend,
    data,
    config: settings,
    runs: runs.map(({ batchNorm, result }) => summarizeRun(networkName(batchNorm), batchNorm, config, result)),
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
