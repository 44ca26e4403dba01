/**
 * @file One typed, validated training configuration with its defaults in one place. The CLI,
 * the grid runner and a web page all build a TrainConfig through `resolveTrainConfig`, so a
 * wrong value is caught once, with a message that names the flag.
 */
import type { ActivationKind } from '../core/kernels.js';
import { ACTIVATIONS, BATCH_NORM_DEFAULTS, ESTIMATORS, makeSpec, type Estimator, type NetworkSpec } from '../nn/spec.js';

export interface TrainConfig {
  /** Training steps (mini-batches). */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Validate every this many steps (and at step 0 and at the end). */
  validateEvery: number;
  /** One seed for everything: initial weights and batch order. */
  seed: number;
  /** Reshuffle the training set every epoch (TensorFlow's next_batch); false takes file order. */
  shuffle: boolean;
  initStd: number;
  activation: ActivationKind;
  hiddenSizes: number[];
  batchNorm: boolean;
  bnEps: number;
  bnMomentum: number;
  bnEstimator: Estimator;
  /**
   * With the `average` estimator: before every evaluation, recompute E[μ_B] and E[σ²_B] over this
   * many training batches with the weights frozen (the paper's Algorithm 2); 0 averages over every
   * training batch seen instead (early batches of a still-changing network included).
   */
  bnAverageBatches: number;
  /** Rows per inference batch when evaluating (matters only for the `batch` estimator). */
  evalBatchSize: number;
  /** Stop at the first NaN or infinite loss instead of finishing the run. */
  stopOnDivergence: boolean;
}

/** The article's model 1 as the default, with its short run of 3,000 steps. */
export const TRAIN_DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  steps: 3000,
  batchSize: 60,
  learningRate: 0.01,
  validateEvery: 500,
  seed: 1,
  shuffle: true,
  initStd: 0.05,
  activation: 'relu',
  hiddenSizes: [128, 128, 128],
  batchNorm: true,
  bnEps: BATCH_NORM_DEFAULTS.eps,
  bnMomentum: BATCH_NORM_DEFAULTS.momentum,
  bnEstimator: BATCH_NORM_DEFAULTS.estimator,
  bnAverageBatches: 100,
  evalBatchSize: 1000,
  stopOnDivergence: false,
});

/** A setting with a wrong value; `setting` names it as the user typed it (e.g. "--lr"). */
export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting} ${message}`);
    this.name = 'ConfigError';
  }
}

/** Flag names used in error messages, so that every layer speaks the user's language. */
const FLAG_NAMES: Record<keyof TrainConfig, string> = {
  steps: '--steps',
  batchSize: '--batch-size',
  learningRate: '--lr',
  validateEvery: '--validate-every',
  seed: '--seed',
  shuffle: '--no-shuffle',
  initStd: '--init-std',
  activation: '--act',
  hiddenSizes: '--hidden',
  batchNorm: '--bn',
  bnEps: '--bn-eps',
  bnMomentum: '--bn-momentum',
  bnEstimator: '--bn-estimator',
  bnAverageBatches: '--bn-average-batches',
  evalBatchSize: '--eval-batch-size',
  stopOnDivergence: '--stop-on-divergence',
};

export function flagName(key: keyof TrainConfig): string {
  return FLAG_NAMES[key];
}

/** Defaults overlaid with `overrides`, every value checked. Throws ConfigError. */
export function resolveTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const config: TrainConfig = { ...TRAIN_DEFAULTS, hiddenSizes: [...TRAIN_DEFAULTS.hiddenSizes] };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof TrainConfig, unknown]>) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const fail = (key: keyof TrainConfig, message: string): never => {
    throw new ConfigError(FLAG_NAMES[key], message);
  };
  const wholeAtLeast = (key: keyof TrainConfig, min: number): void => {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(key, `must be a whole number of at least ${min}, got ${String(value)}`);
  };
  const positive = (key: keyof TrainConfig): void => {
    const value = config[key];
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) fail(key, `must be a positive number, got ${String(value)}`);
  };
  wholeAtLeast('steps', 0);
  wholeAtLeast('batchSize', 1);
  wholeAtLeast('validateEvery', 1);
  wholeAtLeast('evalBatchSize', 1);
  wholeAtLeast('bnAverageBatches', 0);
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) fail('seed', `must be a whole number of at least 0, got ${config.seed}`);
  positive('learningRate');
  positive('initStd');
  positive('bnEps');
  if (!(config.bnMomentum >= 0 && config.bnMomentum < 1)) fail('bnMomentum', `must be in [0, 1) (a decay: new = momentum·old + (1 − momentum)·batch), got ${config.bnMomentum}`);
  if (!ACTIVATIONS.includes(config.activation)) fail('activation', `must be one of ${ACTIVATIONS.join(', ')}, got "${config.activation}"`);
  if (!ESTIMATORS.includes(config.bnEstimator)) fail('bnEstimator', `must be one of ${ESTIMATORS.join(', ')}, got "${config.bnEstimator}"`);
  if (!Array.isArray(config.hiddenSizes) || config.hiddenSizes.some((size) => !Number.isInteger(size) || size < 1)) {
    fail('hiddenSizes', `must be a comma-separated list of layer widths such as 128,128,128, got ${String(config.hiddenSizes)}`);
  }
  if (config.batchNorm && config.batchSize < 2) {
    fail('batchSize', `must be at least 2 in training mode with BatchNorm: a single example has no variance (got ${config.batchSize})`);
  }
  return config;
}

/** The network a config describes, for inputs of `inputSize` and `outputSize` classes. */
export function specFromConfig(config: TrainConfig, inputSize: number, outputSize: number, batchNorm = config.batchNorm): NetworkSpec {
  return makeSpec({
    inputSize,
    outputSize,
    hiddenSizes: config.hiddenSizes,
    activation: config.activation,
    batchNorm: batchNorm ? { eps: config.bnEps, momentum: config.bnMomentum, estimator: config.bnEstimator } : false,
  });
}
