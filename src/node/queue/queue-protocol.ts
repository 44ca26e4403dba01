/**
 * @file What a distributed sweep's coordinator and its workers put in the queue: a job is one
 * run to train (`QueuedRun`, the BullMQ job's data, its id the BullMQ job id) and its return
 * value is the run's outcome (`QueuedResult`). Both travel as JSON through Redis, so both are
 * checked on arrival: a malformed job is refused with a one-line reason, and the numbers JSON
 * cannot hold (NaN losses of a diverged run, the NaN training loss at step 0, infinities, -0)
 * are written as `{ "$number": "NaN" }` and read back to the same float64, bit for bit.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../../train/config.js';
import type { CurvePoint, StopReason } from '../../train/trainer.js';
import type { RunOutcome } from '../grid-messages.js';

export const QUEUE_NAME_DEFAULT = 'bnlab-runs';
export const QUEUED_RUN_FORMAT = 'bnlab-job/1';

/** One run to train: the data of a BullMQ job whose id is `id`. */
export interface QueuedRun {
  format: typeof QUEUED_RUN_FORMAT;
  /** The run id, also the BullMQ job id (so adding it twice adds it once). */
  id: string;
  /** The sweep the run belongs to. */
  sweep: string;
  config: TrainConfig;
  /** sha256 (hex) of the data's content (mnistContentHash): a worker with other data refuses the job. */
  dataHash: string;
  /** `js` or `wasm` pins the kernels; `auto` leaves the choice to the worker's --backend. */
  backend: BackendChoice;
}

/** A finished run as its worker returns it. */
export interface QueuedResult {
  id: string;
  /** `${hostname}:${pid}` of the worker that trained it. */
  worker: string;
  outcome: RunOutcome;
  /** Where the worker's data came from (a path or the npm package), for the record. */
  dataSource: string;
  dataHash: string;
}

export class QueueProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueProtocolError';
  }
}

/** The longest run id taken: ids name files and Redis keys. */
const MAX_ID_LENGTH = 200;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CONFIG_KEYS = Object.keys(TRAIN_DEFAULTS).sort();
const BACKEND_CHOICE_LIST: readonly string[] = BACKEND_CHOICES;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `id` cannot be a run id and BullMQ job id, or null when it can. */
function runIdProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id === '') return 'its id must be a non-empty string';
  if (id.length > MAX_ID_LENGTH) return `its id is ${id.length} characters long; at most ${MAX_ID_LENGTH} are taken`;
  // BullMQ refuses ids with ':' (its key separator) and integer ids (its own counter's).
  if (!/^[\x21-\x7e]+$/.test(id) || id.includes(':')) return `its id "${id}" must be printable ASCII without spaces or ':'`;
  if (/^\d+$/.test(id)) return `its id "${id}" is a number, which BullMQ keeps for its own ids; give it a name such as run-${id}`;
  return null;
}

/** `value` as a QueuedRun, or a QueueProtocolError whose one line says what is wrong. */
export function parseQueuedRun(value: unknown): QueuedRun {
  if (!isRecord(value)) throw new QueueProtocolError('the job is not an object');
  const named = typeof value.id === 'string' ? `job ${JSON.stringify(value.id).slice(0, 80)}` : 'the job';
  const refuse = (reason: string): never => {
    throw new QueueProtocolError(`${named}: ${reason}`);
  };
  if (value.format !== QUEUED_RUN_FORMAT) {
    refuse(
      `its format is ${JSON.stringify(value.format) ?? 'missing'}, not "${QUEUED_RUN_FORMAT}": the coordinator and this worker are different bnlab versions; run the same version on both`,
    );
  }
  const idProblem = runIdProblem(value.id);
  if (idProblem !== null) refuse(idProblem);
  if (typeof value.sweep !== 'string' || value.sweep === '') refuse('its sweep must be a non-empty string');
  if (typeof value.dataHash !== 'string' || !SHA256_HEX.test(value.dataHash)) refuse('its dataHash must be the 64 hex digits of a sha256');
  if (typeof value.backend !== 'string' || !BACKEND_CHOICE_LIST.includes(value.backend))
    refuse(`its backend must be one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(value.backend)}`);
  const config = parseConfig(value.config, refuse);
  const extra = Object.keys(value).filter((key) => !['format', 'id', 'sweep', 'config', 'dataHash', 'backend'].includes(key));
  if (extra.length > 0) refuse(`it has fields this version does not know (${extra.join(', ')}): run the same bnlab version on the coordinator and the workers`);
  return {
    format: QUEUED_RUN_FORMAT,
    id: value.id as string,
    sweep: value.sweep as string,
    config,
    dataHash: value.dataHash as string,
    backend: value.backend as BackendChoice,
  };
}

/** A config that resolveTrainConfig accepts and gives back unchanged: every setting present, none unknown, every value in bounds. */
function parseConfig(value: unknown, refuse: (reason: string) => never): TrainConfig {
  if (!isRecord(value)) return refuse('its config is not an object');
  const keys = Object.keys(value).sort();
  const missing = CONFIG_KEYS.filter((key) => !keys.includes(key));
  const unknown = keys.filter((key) => !CONFIG_KEYS.includes(key));
  // A missing setting would silently take this worker's default, which may not be the coordinator's.
  if (missing.length > 0) refuse(`its config lacks ${missing.join(', ')}: the coordinator must send every setting`);
  if (unknown.length > 0)
    refuse(`its config has settings this version does not know (${unknown.join(', ')}): run the same bnlab version on the coordinator and the workers`);
  // resolveTrainConfig checks ranges; the types of settings it does not range-check (booleans) are checked here.
  const defaults = TRAIN_DEFAULTS as unknown as Record<string, unknown>;
  const mistyped = CONFIG_KEYS.filter((key) => Array.isArray(defaults[key]) !== Array.isArray(value[key]) || typeof defaults[key] !== typeof value[key]);
  if (mistyped.length > 0) refuse(`its config has values of the wrong type (${mistyped.map((key) => `${key}: ${JSON.stringify(value[key])}`).join(', ')})`);
  let config: TrainConfig;
  try {
    config = resolveTrainConfig(value as Partial<TrainConfig>);
  } catch (error) {
    return refuse(`its config is invalid: ${(error as Error).message}`);
  }
  if (JSON.stringify(config, CONFIG_KEYS) !== JSON.stringify(value, CONFIG_KEYS))
    refuse('its config does not read back unchanged (a value of the wrong type?)');
  return config;
}

// ----- results: non-finite numbers through JSON -----

/** How a number JSON cannot write travels: `{ "$number": "NaN" }`. */
type EncodedNumber = { $number: 'NaN' | 'Infinity' | '-Infinity' | '-0' };

function encodeNumber(value: number): number | EncodedNumber {
  if (Number.isNaN(value)) return { $number: 'NaN' };
  if (value === Infinity) return { $number: 'Infinity' };
  if (value === -Infinity) return { $number: '-Infinity' };
  if (Object.is(value, -0)) return { $number: '-0' };
  return value;
}

const DECODED: Record<EncodedNumber['$number'], number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** `value` with every number JSON cannot write replaced by its `$number` form (a deep copy; plain data only). */
export function encodeNumbers(value: unknown): unknown {
  if (typeof value === 'number') return encodeNumber(value);
  if (Array.isArray(value)) return value.map(encodeNumbers);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeNumbers(item)]));
  return value;
}

/** The inverse of encodeNumbers. */
export function decodeNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeNumbers);
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$number' && typeof value.$number === 'string' && value.$number in DECODED) {
      return DECODED[value.$number as EncodedNumber['$number']];
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decodeNumbers(item)]));
  }
  return value;
}

/** The job's return value as the worker hands it to BullMQ (which stores JSON). */
export function encodeQueuedResult(result: QueuedResult): unknown {
  return encodeNumbers(result);
}

const STOP_REASONS: readonly StopReason[] = ['completed', 'diverged', 'interrupted'];

/** A job's return value read back from Redis, checked; a QueueProtocolError says what is wrong. */
export function parseQueuedResult(value: unknown): QueuedResult {
  const decoded = decodeNumbers(value);
  const refuse = (reason: string): never => {
    throw new QueueProtocolError(`the worker's result ${reason}`);
  };
  if (!isRecord(decoded)) return refuse('is not an object');
  const { id, worker, outcome, dataSource, dataHash } = decoded;
  if (typeof id !== 'string' || typeof worker !== 'string' || typeof dataSource !== 'string' || typeof dataHash !== 'string') {
    refuse('lacks its id, worker, dataSource or dataHash');
  }
  if (!isRecord(outcome) || typeof outcome.backend !== 'string' || typeof outcome.durationMs !== 'number') refuse('lacks its outcome (backend, durationMs)');
  const result = (outcome as Record<string, unknown>).result;
  if (!isRecord(result)) return refuse('lacks the training result');
  const isNumber = (item: unknown): item is number => typeof item === 'number';
  const isEvaluation = (item: unknown): boolean => isRecord(item) && ['accuracy', 'loss', 'correct', 'count'].every((key) => isNumber(item[key]));
  const isPoint = (item: unknown): item is CurvePoint =>
    isRecord(item) && ['step', 'validationAccuracy', 'validationLoss', 'trainingLoss'].every((key) => isNumber(item[key]));
  if (!Array.isArray(result.curve) || !result.curve.every(isPoint)) refuse('has a malformed curve');
  if (!isEvaluation(result.validation) || !isEvaluation(result.test)) refuse('has a malformed validation or test evaluation');
  if (!['steps', 'trainingMs', 'elapsedMs', 'stepsPerSecond'].every((key) => isNumber(result[key]))) refuse('lacks its steps or timings');
  if (!(result.divergedAtStep === null || isNumber(result.divergedAtStep))) refuse('has a malformed divergedAtStep');
  if (!STOP_REASONS.includes(result.stopReason as StopReason)) refuse(`has an unknown stopReason ${JSON.stringify(result.stopReason)}`);
  return decoded as unknown as QueuedResult;
}
