/**
 * @file The machine-readable record of a run: what ran (version, backend, config, network) and
 * what came out (accuracies, curve, divergence, speed), and the record of `compare` (the CLI's
 * compare.json, which the page exports too). JSON has no NaN or Infinity: such values are
 * written as null, and a diverged run says so in `divergedAtStep`.
 */
import type { NormKind } from '../nn/spec.js';
import { normKindOf, type TrainConfig } from '../train/config.js';
import type { CurvePoint, TrainResult } from '../train/trainer.js';
import { withBnName, withBrnName, withGhostName, withGnName, withLnName, withoutBnName, withRmsName, withWnName } from './charts/series-colors.js';
import type { Series } from './charts/types.js';

/** The article's names of the networks ("Without Batch Norm", "With Layer Norm", …), as results and progress print them. */
export function networkName(norm: NormKind | boolean): string {
  return NETWORK_NAMES[normKindOf(norm)];
}

const NETWORK_NAMES: Readonly<Record<NormKind, string>> = {
  none: 'Without Batch Norm',
  bn: 'With Batch Norm',
  brn: 'With Batch Renorm',
  ghost: 'With Ghost Batch Norm',
  ln: 'With Layer Norm',
  gn: 'With Group Norm',
  rms: 'With RMSNorm',
  wn: 'With Weight Norm',
};

const SERIES_NAMES: Readonly<Record<NormKind, string>> = {
  none: withoutBnName,
  bn: withBnName,
  brn: withBrnName,
  ghost: withGhostName,
  ln: withLnName,
  gn: withGnName,
  rms: withRmsName,
  wn: withWnName,
};

/** The name (and so the colour) every chart gives the network with `norm`: "with BN", "with LN"… */
export function normSeriesName(norm: NormKind | boolean): string {
  return SERIES_NAMES[normKindOf(norm)];
}

/** A validation curve as a chart series, named so that charts colour each norm as every other chart does. */
export function curveSeries(norm: NormKind | boolean, curve: readonly CurvePoint[]): Series {
  return { name: normSeriesName(norm), points: curve.map((point) => ({ x: point.step, y: point.validationAccuracy })) };
}

export interface RunSummary {
  label: string;
  batchNorm: boolean;
  /** Present for the norms beyond BN (ln, gn, rms); `batchNorm` says none or BN, as records always have. */
  norm?: NormKind;
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

export function summarizeRun(label: string, norm: NormKind | boolean, config: TrainConfig, result: TrainResult): RunSummary {
  const kind = normKindOf(norm);
  return {
    label,
    batchNorm: kind === 'bn',
    ...(kind === 'none' || kind === 'bn' ? {} : { norm: kind }),
    network: describeNetwork(config, kind),
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
  /** The settings the networks share (each run's norm is in its summary). */
  config: Omit<TrainConfig, 'batchNorm' | 'norm'>;
  runs: RunSummary[];
}

export function compareRecord(
  bnlab: string,
  backend: string,
  data: string,
  config: TrainConfig,
  runs: ReadonlyArray<{ batchNorm: boolean; norm?: NormKind; result: TrainResult }>,
): CompareRecord {
  const { batchNorm: _unused, norm: _norm, ...settings } = config;
  return {
    bnlab,
    command: 'compare',
    backend,
    data,
    config: settings,
    runs: runs.map(({ batchNorm, norm, result }) => summarizeRun(networkName(norm ?? batchNorm), norm ?? batchNorm, config, result)),
  };
}

/** "784-128-128-128-10 relu with BN", "… with GN (4 groups)". */
function describeNetwork(config: TrainConfig, norm: NormKind | boolean): string {
  const kind = normKindOf(norm);
  const suffix = kind === 'none' ? '' : kind === 'gn' ? ` with GN (${config.normGroups} groups)` : ` with ${kind === 'rms' ? 'RMSNorm' : kind.toUpperCase()}`;
  return `784-${config.hiddenSizes.join('-')}-10 ${config.activation}${suffix}`;
}

/** JSON text in which NaN and ±Infinity become null (JSON has neither). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
