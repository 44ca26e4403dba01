/**
 * @file One finished run of a sweep as it is stored (`<runs-dir>/runs/<id>.json`) and read back:
 * what ran (id, sweep, its values on the sweep's axes, seed, config, backend, version) and what
 * came out (curve, final validation and test accuracy and loss, the mean validation accuracy over
 * the last half of the curve, divergence, speed). JSON has no NaN: a NaN loss is written as null
 * and read back as NaN. Pure: parsing checks every field, so a damaged file is named and re-run,
 * never half-used. Records of format bnlab-run/1 (the article's grid before sweeps) still load:
 * their axes come from their ids (c3-bn-s1), their last-half mean from their curves.
 */
import { resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import type { CurvePoint, TrainResult } from '../../train/trainer.js';
import { ARTICLE_CONFIGURATIONS, type ConfigurationId } from '../article.js';
import type { GridSettings } from '../grid.js';
import { isRunId, type RunAxisValue, runIdOf, type SweepRun } from '../sweep/sweep-runs.js';
import { lastHalfMean } from './last-half.js';

export const RUN_RECORD_FORMAT = 'bnlab-run/2';
const LEGACY_FORMAT = 'bnlab-run/1';

/** The article's configuration (std, lr, activation) a config trains, or null when it is none of the eight. */
function articleConfigurationOf(config: Pick<TrainConfig, 'initStd' | 'learningRate' | 'activation'>): ConfigurationId | null {
  const match = ARTICLE_CONFIGURATIONS.find(
    (article) => article.initStd === config.initStd && article.learningRate === config.learningRate && article.activation === config.activation,
  );
  return match?.id ?? null;
}

interface FinalFigures {
  accuracy: number;
  loss: number;
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  id: string;
  /** The name of the sweep spec it belongs to (`article` for `bnlab reproduce`). */
  sweep: string;
  /** Its value on each of the sweep's axes, in the spec's order. */
  axes: RunAxisValue[];
  /** The article's configuration its std, lr and activation are, or null. */
  configId: ConfigurationId | null;
  seed: number;
  batchNorm: boolean;
  settings: GridSettings;
  /** The full training config the run used (std, lr, activation, BN eps and momentum, …). */
  config: TrainConfig;
  curve: CurvePoint[];
  validation: FinalFigures;
  test: FinalFigures;
  /**
   * The mean validation accuracy over the last half of the curve (its points at step ≥ steps/2):
   * for a run that oscillates, the final accuracy is one sample of its swing; this is its level.
   */
  lastHalfValidation: number;
  /** Steps run (equals settings.steps: an interrupted run is never recorded). */
  steps: number;
  divergedAtStep: number | null;
  /** Training steps per second (validation time excluded). */
  stepsPerSecond: number;
  /** The kernel backend variant that ran it. */
  backend: string;
  bnlab: string;
  /** Wall time of the whole run in its worker, validation and test included. */
  durationMs: number;
  /** Where the MNIST files came from. */
  data: string;
  /** The sha256 of the data's content (absent in records written before it was pinned). */
  dataHash?: string;
  finishedAt: string;
}

/** JSON text in which NaN and ±Infinity become null (JSON has neither), with a final newline. */
export function runRecordJson(record: RunRecord): string {
  return `${JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

/** A stored record that cannot be used; the message says which field is wrong. */
export class CorruptRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptRecordError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(object: Json, key: string, where = ''): unknown {
  if (!(key in object)) throw new CorruptRecordError(`missing field "${where}${key}"`);
  return object[key];
}

/** A number, or NaN where the writer had NaN (stored as null). */
function numberOrNaN(object: Json, key: string, where = ''): number {
  const value = field(object, key, where);
  if (value === null) return NaN;
  if (typeof value !== 'number') throw new CorruptRecordError(`field "${where}${key}" is not a number`);
  return value;
}

function finiteNumber(object: Json, key: string, where = ''): number {
  const value = field(object, key, where);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CorruptRecordError(`field "${where}${key}" is not a finite number`);
  return value;
}

function wholeNumber(object: Json, key: string, min: number, where = ''): number {
  const value = finiteNumber(object, key, where);
  if (!Number.isInteger(value) || value < min) throw new CorruptRecordError(`field "${where}${key}" is not a whole number of at least ${min}`);
  return value;
}

function text(object: Json, key: string): string {
  const value = field(object, key);
  if (typeof value !== 'string') throw new CorruptRecordError(`field "${key}" is not a string`);
  return value;
}

function finalFigures(object: Json, key: string): FinalFigures {
  const value = field(object, key);
  if (!isObject(value)) throw new CorruptRecordError(`field "${key}" is not an object`);
  return { accuracy: finiteNumber(value, 'accuracy', `${key}.`), loss: numberOrNaN(value, 'loss', `${key}.`) };
}

/** The stored TrainConfig, checked where it matters: the fields that must agree with the record's own. */
function trainConfig(object: Json, settings: GridSettings, batchNorm: boolean, seed: number): TrainConfig {
  const value = field(object, 'config');
  if (!isObject(value)) throw new CorruptRecordError('field "config" is not an object');
  if (
    typeof value.initStd !== 'number' ||
    typeof value.learningRate !== 'number' ||
    typeof value.activation !== 'string' ||
    !Array.isArray(value.hiddenSizes)
  ) {
    throw new CorruptRecordError('field "config" lacks the std, learning rate, activation or hidden sizes');
  }
  if (
    value.steps !== settings.steps ||
    value.batchSize !== settings.batchSize ||
    value.validateEvery !== settings.validateEvery ||
    value.batchNorm !== batchNorm ||
    value.seed !== seed
  ) {
    throw new CorruptRecordError('its config disagrees with its settings, BN or seed');
  }
  try {
    // Resolved as bnlab resolves a config today, so a record from before a setting existed reads with that setting's default.
    return resolveTrainConfig(value as Partial<TrainConfig>);
  } catch (error) {
    throw new CorruptRecordError(`its config is not valid: ${(error as Error).message}`);
  }
}

const LEGACY_ID = /^c([1-8])-(bn|nobn)-s\d+$/;

/** A record's axis values; a bnlab-run/1 record (the article's grid) has them in its id. */
function axisValues(object: Json, legacy: boolean, id: string): RunAxisValue[] {
  if (legacy) {
    const match = LEGACY_ID.exec(id);
    if (!match) throw new CorruptRecordError(`its id ${id} is not one of the article's grid`);
    return [
      { axis: 'config', label: `c${match[1]}`, numeric: null },
      { axis: 'norm', label: match[2]!, numeric: null },
    ];
  }
  const value = field(object, 'axes');
  if (!Array.isArray(value)) throw new CorruptRecordError('field "axes" is not a list');
  return value.map((item: unknown, index): RunAxisValue => {
    if (!isObject(item) || typeof item.axis !== 'string' || typeof item.label !== 'string' || (item.numeric !== null && typeof item.numeric !== 'number')) {
      throw new CorruptRecordError(`axes[${index}] is not { axis, label, numeric }`);
    }
    return { axis: item.axis, label: item.label, numeric: item.numeric as number | null };
  });
}

function optionalDataHash(object: Json): { dataHash?: string } {
  if (!('dataHash' in object)) return {};
  if (typeof object.dataHash !== 'string') throw new CorruptRecordError('field "dataHash" is not a string');
  return { dataHash: object.dataHash };
}

/**
 * Parses a stored record and checks it is the record of `expectedId`. Throws CorruptRecordError
 * (bad JSON, a missing or mistyped field, an id that does not match its file name).
 */
export function parseRunRecord(jsonText: string, expectedId: string): RunRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonText);
  } catch (error) {
    throw new CorruptRecordError(`not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new CorruptRecordError('not a JSON object');
  if (parsed.format !== RUN_RECORD_FORMAT && parsed.format !== LEGACY_FORMAT) throw new CorruptRecordError(`field "format" is not "${RUN_RECORD_FORMAT}"`);
  const legacy = parsed.format === LEGACY_FORMAT;
  const id = text(parsed, 'id');
  if (id !== expectedId) throw new CorruptRecordError(`it holds run ${id}`);
  if (!isRunId(id)) throw new CorruptRecordError(`its id ${id} is not a run id`);
  const seed = wholeNumber(parsed, 'seed', 0);
  const batchNorm = field(parsed, 'batchNorm');
  if (typeof batchNorm !== 'boolean') throw new CorruptRecordError('field "batchNorm" is not true or false');
  const axes = axisValues(parsed, legacy, id);
  if (runIdOf(axes, seed) !== id) throw new CorruptRecordError(`its axis values and seed do not make the id ${id}`);
  const settingsValue = field(parsed, 'settings');
  if (!isObject(settingsValue)) throw new CorruptRecordError('field "settings" is not an object');
  const settings: GridSettings = {
    steps: wholeNumber(settingsValue, 'steps', 0, 'settings.'),
    batchSize: wholeNumber(settingsValue, 'batchSize', 1, 'settings.'),
    validateEvery: wholeNumber(settingsValue, 'validateEvery', 1, 'settings.'),
  };
  const curveValue = field(parsed, 'curve');
  if (!Array.isArray(curveValue) || curveValue.length === 0) throw new CorruptRecordError('field "curve" is not a non-empty list');
  const curve: CurvePoint[] = curveValue.map((point: unknown, index) => {
    if (!isObject(point)) throw new CorruptRecordError(`curve point ${index} is not an object`);
    const where = `curve[${index}].`;
    return {
      step: wholeNumber(point, 'step', 0, where),
      validationAccuracy: finiteNumber(point, 'validationAccuracy', where),
      validationLoss: numberOrNaN(point, 'validationLoss', where),
      trainingLoss: numberOrNaN(point, 'trainingLoss', where),
    };
  });
  const config = trainConfig(parsed, settings, batchNorm, seed);
  const configId = articleConfigurationOf(config);
  if (!legacy && field(parsed, 'configId') !== configId) throw new CorruptRecordError('field "configId" is not the article configuration of its config');
  if (legacy && field(parsed, 'configId') !== configId)
    throw new CorruptRecordError(`its config is not the article's configuration ${String(parsed.configId)}`);
  const sweep = legacy ? 'article' : text(parsed, 'sweep');
  const divergedValue = field(parsed, 'divergedAtStep');
  if (divergedValue !== null && (typeof divergedValue !== 'number' || !Number.isInteger(divergedValue))) {
    throw new CorruptRecordError('field "divergedAtStep" is neither null nor a step');
  }
  return {
    format: RUN_RECORD_FORMAT,
    id,
    sweep,
    axes,
    configId,
    seed,
    batchNorm,
    settings,
    config,
    curve,
    validation: finalFigures(parsed, 'validation'),
    test: finalFigures(parsed, 'test'),
    // Derived from the curve, so a record's figure is never out of step with it.
    lastHalfValidation: lastHalfMean(curve, settings.steps),
    steps: wholeNumber(parsed, 'steps', 0),
    divergedAtStep: divergedValue as number | null,
    stepsPerSecond: finiteNumber(parsed, 'stepsPerSecond'),
    backend: text(parsed, 'backend'),
    bnlab: text(parsed, 'bnlab'),
    durationMs: finiteNumber(parsed, 'durationMs'),
    data: text(parsed, 'data'),
    ...optionalDataHash(parsed),
    finishedAt: text(parsed, 'finishedAt'),
  };
}

/** How a run was trained: its outcome in a worker (local thread or remote process). */
export interface RunProvenance {
  result: TrainResult;
  backend: string;
  durationMs: number;
  bnlab: string;
  data: string;
  dataHash: string;
  finishedAt: string;
}

/** The record of sweep run `run`, trained as `provenance` says. */
export function makeRunRecord(sweep: string, run: SweepRun, provenance: RunProvenance): RunRecord {
  const { result } = provenance;
  const { config } = run;
  return {
    format: RUN_RECORD_FORMAT,
    id: run.id,
    sweep,
    axes: run.axes,
    configId: articleConfigurationOf(config),
    seed: run.seed,
    batchNorm: config.batchNorm,
    settings: { steps: config.steps, batchSize: config.batchSize, validateEvery: config.validateEvery },
    config,
    curve: result.curve,
    validation: { accuracy: result.validation.accuracy, loss: result.validation.loss },
    test: { accuracy: result.test.accuracy, loss: result.test.loss },
    lastHalfValidation: lastHalfMean(result.curve, config.steps),
    steps: result.steps,
    divergedAtStep: result.divergedAtStep,
    stepsPerSecond: Math.round(result.stepsPerSecond * 10) / 10,
    backend: provenance.backend,
    bnlab: provenance.bnlab,
    durationMs: Math.round(provenance.durationMs),
    data: provenance.data,
    dataHash: provenance.dataHash,
    finishedAt: provenance.finishedAt,
  };
}
