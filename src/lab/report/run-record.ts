/**
 * @file One finished grid run as it is stored (`<runs-dir>/runs/<id>.json`) and read back: what
 * ran (id, configuration, seed, BN, settings, backend, version) and what came out (curve, final
 * validation and test accuracy and loss, divergence, speed). JSON has no NaN: a NaN loss is
 * written as null and read back as NaN. Pure: parsing checks every field, so a damaged file is
 * named and re-run, never half-used.
 */
import type { TrainConfig } from '../../train/config.js';
import type { CurvePoint } from '../../train/trainer.js';
import { articleConfiguration, isConfigurationId, type ConfigurationId } from '../article.js';
import { runId, type GridSettings } from '../grid.js';

export const RUN_RECORD_FORMAT = 'bnlab-run/1';

export interface FinalFigures {
  accuracy: number;
  loss: number;
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  id: string;
  configId: ConfigurationId;
  seed: number;
  batchNorm: boolean;
  settings: GridSettings;
  /** The full training config the run used (std, lr, activation, BN eps and momentum, …). */
  config: TrainConfig;
  curve: CurvePoint[];
  validation: FinalFigures;
  test: FinalFigures;
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
function trainConfig(object: Json, configId: ConfigurationId, settings: GridSettings, batchNorm: boolean, seed: number): TrainConfig {
  const value = field(object, 'config');
  if (!isObject(value)) throw new CorruptRecordError('field "config" is not an object');
  const article = articleConfiguration(configId);
  if (value.initStd !== article.initStd || value.learningRate !== article.learningRate || value.activation !== article.activation) {
    throw new CorruptRecordError(`its config is not the article's configuration ${configId}`);
  }
  if (value.steps !== settings.steps || value.batchSize !== settings.batchSize || value.batchNorm !== batchNorm || value.seed !== seed) {
    throw new CorruptRecordError('its config disagrees with its settings, BN or seed');
  }
  return value as unknown as TrainConfig;
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
  if (parsed.format !== RUN_RECORD_FORMAT) throw new CorruptRecordError(`field "format" is not "${RUN_RECORD_FORMAT}"`);
  const id = text(parsed, 'id');
  if (id !== expectedId) throw new CorruptRecordError(`it holds run ${id}`);
  const configId = finiteNumber(parsed, 'configId');
  if (!isConfigurationId(configId)) throw new CorruptRecordError('field "configId" is not 1-8');
  const seed = wholeNumber(parsed, 'seed', 0);
  const batchNorm = field(parsed, 'batchNorm');
  if (typeof batchNorm !== 'boolean') throw new CorruptRecordError('field "batchNorm" is not true or false');
  if (runId(configId, batchNorm, seed) !== id) throw new CorruptRecordError(`its configuration, BN and seed do not make the id ${id}`);
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
  const divergedValue = field(parsed, 'divergedAtStep');
  if (divergedValue !== null && (typeof divergedValue !== 'number' || !Number.isInteger(divergedValue))) {
    throw new CorruptRecordError('field "divergedAtStep" is neither null nor a step');
  }
  return {
    format: RUN_RECORD_FORMAT,
    id,
    configId,
    seed,
    batchNorm,
    settings,
    config: trainConfig(parsed, configId, settings, batchNorm, seed),
    curve,
    validation: finalFigures(parsed, 'validation'),
    test: finalFigures(parsed, 'test'),
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
