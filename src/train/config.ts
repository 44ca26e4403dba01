/**
 * @file One typed, validated training configuration with its defaults in one place. The CLI,
 * the grid runner and a web page all build a TrainConfig through `resolveTrainConfig`, so a
 * wrong value is caught once, with a message that names the flag.
 */
import type { ActivationKind } from '../core/kernels.js';
import { networkMemory } from '../nn/network-memory.js';
import { RENORM_FRACTIONS, renormSchedule } from '../nn/renorm-schedule.js';
import {
  ACTIVATIONS,
  BATCH_NORM_DEFAULTS,
  BATCH_VARIANT_NORMS,
  ESTIMATORS,
  type Estimator,
  EXAMPLE_NORMS,
  makeSpec,
  type NetworkSpec,
  NORM_KINDS,
  NORM_PLACEMENTS,
  type NormKind,
  type NormPlacement,
  WEIGHT_NORM_DEFAULTS,
  WEIGHT_NORM_INITS,
  type WeightNormOptions,
} from '../nn/spec.js';

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
  /** BatchNorm after every hidden linear layer: `norm === 'bn'`, kept for the records and flags that say --bn/--no-bn. */
  batchNorm: boolean;
  /** The normalization after every hidden linear layer (before its activation). */
  norm: NormKind;
  /** Group Norm's groups of units per hidden layer (they must divide every width); read by gn only. */
  normGroups: number;
  /** Batch Renormalization's final limits on r and d (brn; the paper's 3 and 5); 1 and 0 make it BN. */
  renormRmax: number;
  renormDmax: number;
  /** Batch Renormalization's warm-up with r = 1 and d = 0, as a fraction of the run (brn). */
  renormWarmup: number;
  /** Ghost BN's virtual batch, in rows (ghost; it must divide the batch size). */
  ghostBatch: number;
  /** Where a norm layer sits: before the activation (`pre`, the article's) or after it (`post`); read by the norms with a layer (not none, wn). */
  normPlacement: NormPlacement;
  /** Learnable γ and β in the norm layers (false: --no-affine); read by bn, brn, ghost, ln, gn, rms. */
  normAffine: boolean;
  /** Weight Norm's initialization: the paper's data-dependent one, or none (g = ‖v‖, b = 0). */
  wnInit: WeightNormOptions['init'];
  /** Weight Norm with the paper's mean-only batch normalization. */
  wnMeanOnly: boolean;
  /** BatchNorm's eps, also Batch Renormalization's and Ghost BN's. */
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
  norm: 'bn',
  normGroups: 32, // Wu & He's default G = 32: groups of 4 units in the article's 128-wide layers
  renormRmax: 3,
  renormDmax: 5,
  renormWarmup: RENORM_FRACTIONS.warmup,
  ghostBatch: 20, // three virtual batches in the article's batch of 60
  normPlacement: 'pre',
  normAffine: true,
  wnInit: WEIGHT_NORM_DEFAULTS.init,
  wnMeanOnly: WEIGHT_NORM_DEFAULTS.meanOnly,
  bnEps: BATCH_NORM_DEFAULTS.eps,
  bnMomentum: BATCH_NORM_DEFAULTS.momentum,
  bnEstimator: BATCH_NORM_DEFAULTS.estimator,
  bnAverageBatches: 100,
  evalBatchSize: 1000,
  stopOnDivergence: false,
});

/** A setting with a wrong value; `setting` names it as the user typed it (e.g. "--lr"). */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
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
  norm: '--norm',
  normGroups: '--norm-groups',
  renormRmax: '--renorm-rmax',
  renormDmax: '--renorm-dmax',
  renormWarmup: '--renorm-warmup',
  ghostBatch: '--ghost-batch',
  normPlacement: '--norm-placement',
  normAffine: '--no-affine',
  wnInit: '--wn-init',
  wnMeanOnly: '--wn-mean-only',
  bnEps: '--bn-eps',
  bnMomentum: '--bn-momentum',
  bnEstimator: '--bn-estimator',
  bnAverageBatches: '--bn-average-batches',
  evalBatchSize: '--eval-batch-size',
  stopOnDivergence: '--stop-on-divergence',
};

/** The norms' own settings (flags --norm-groups … --wn-mean-only), in the order `bnlab train --help` lists them. */
export const NORM_SETTINGS = [
  'normGroups',
  'renormRmax',
  'renormDmax',
  'renormWarmup',
  'ghostBatch',
  'normPlacement',
  'normAffine',
  'wnInit',
  'wnMeanOnly',
] as const satisfies ReadonlyArray<keyof TrainConfig>;

export function flagName(key: keyof TrainConfig): string {
  return FLAG_NAMES[key];
}

function fail(key: keyof TrainConfig, message: string): never {
  throw new ConfigError(FLAG_NAMES[key], message);
}

/**
 * Defaults overlaid with `overrides`, every value checked. Throws ConfigError. `norm` and
 * `batchNorm` overlap: batchNorm true is 'bn', false 'none', and a batchNorm given decides between
 * those two; a norm of brn, ghost, ln, gn, rms or wn stands (batchNorm false) and refuses batchNorm true.
 */
export function resolveTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const config: TrainConfig = { ...TRAIN_DEFAULTS, hiddenSizes: [...TRAIN_DEFAULTS.hiddenSizes] };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof TrainConfig, unknown]>) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (typeof config.batchNorm !== 'boolean') fail('batchNorm', `must be true or false, got ${String(config.batchNorm)}`);
  if (!NORM_KINDS.includes(config.norm)) fail('norm', `must be one of ${NORM_KINDS.join(', ')}, got "${String(config.norm)}"`);
  if (EXAMPLE_NORMS.includes(config.norm) || BATCH_VARIANT_NORMS.includes(config.norm) || config.norm === 'wn') {
    if (overrides.batchNorm === true) fail('norm', `${config.norm} contradicts --bn: give one of them`);
  } else if (overrides.norm === undefined || overrides.batchNorm !== undefined) {
    // batchNorm alone, or over a norm of none or bn (a config copied, then switched on or off: compare's pair, the page).
    config.norm = config.batchNorm ? 'bn' : 'none';
  }
  config.batchNorm = config.norm === 'bn';
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
  wholeAtLeast('normGroups', 1);
  wholeAtLeast('ghostBatch', 2);
  if (typeof config.renormRmax !== 'number' || !(config.renormRmax >= 1) || !Number.isFinite(config.renormRmax))
    fail('renormRmax', `must be a number of at least 1 (r is clipped to [1/rmax, rmax]), got ${String(config.renormRmax)}`);
  if (typeof config.renormDmax !== 'number' || !(config.renormDmax >= 0) || !Number.isFinite(config.renormDmax))
    fail('renormDmax', `must be a number of at least 0 (d is clipped to [−dmax, dmax]), got ${String(config.renormDmax)}`);
  if (typeof config.renormWarmup !== 'number' || !(config.renormWarmup >= 0 && config.renormWarmup <= 1))
    fail('renormWarmup', `must be a fraction of the run from 0 to 1, got ${String(config.renormWarmup)}`);
  if (!NORM_PLACEMENTS.includes(config.normPlacement))
    fail('normPlacement', `must be one of ${NORM_PLACEMENTS.join(', ')}, got "${String(config.normPlacement)}"`);
  if (typeof config.normAffine !== 'boolean') fail('normAffine', `must be true or false, got ${String(config.normAffine)}`);
  if (!WEIGHT_NORM_INITS.includes(config.wnInit)) fail('wnInit', `must be one of ${WEIGHT_NORM_INITS.join(', ')}, got "${String(config.wnInit)}"`);
  if (typeof config.wnMeanOnly !== 'boolean') fail('wnMeanOnly', `must be true or false, got ${String(config.wnMeanOnly)}`);
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) fail('seed', `must be a whole number of at least 0, got ${config.seed}`);
  positive('learningRate');
  positive('initStd');
  positive('bnEps');
  if (!(config.bnMomentum >= 0 && config.bnMomentum < 1))
    fail('bnMomentum', `must be in [0, 1) (a decay: new = momentum·old + (1 − momentum)·batch), got ${config.bnMomentum}`);
  if (!ACTIVATIONS.includes(config.activation)) fail('activation', `must be one of ${ACTIVATIONS.join(', ')}, got "${config.activation}"`);
  if (!ESTIMATORS.includes(config.bnEstimator)) fail('bnEstimator', `must be one of ${ESTIMATORS.join(', ')}, got "${config.bnEstimator}"`);
  if (!Array.isArray(config.hiddenSizes) || config.hiddenSizes.some((size) => !Number.isInteger(size) || size < 1)) {
    fail('hiddenSizes', `must be a comma-separated list of layer widths such as 128,128,128, got ${String(config.hiddenSizes)}`);
  }
  const misfit = config.norm === 'gn' ? config.hiddenSizes.find((width) => width % config.normGroups !== 0) : undefined;
  if (misfit !== undefined)
    fail(
      'normGroups',
      `${config.normGroups} does not divide the hidden layer width ${misfit}: Group Norm needs groups of equal size (choose a divisor of every --hidden width)`,
    );
  if (config.norm === 'ghost' && config.batchSize % config.ghostBatch !== 0) {
    fail(
      'ghostBatch',
      `${config.ghostBatch} does not divide the batch size ${config.batchSize}: Ghost BN needs virtual batches of equal size (choose a divisor of --batch-size)`,
    );
  }
  if ((BATCH_VARIANT_NORMS.includes(config.norm) || config.norm === 'wn') && config.bnEstimator !== 'ema') {
    fail('bnEstimator', `${config.bnEstimator} applies to bn only: ${config.norm} infers with its moving averages (ema)`);
  }
  if ((config.batchNorm || config.norm === 'brn') && config.batchSize < 2) {
    fail('batchSize', `must be at least 2 in training mode with BatchNorm: a single example has no variance (got ${config.batchSize})`);
  }
  for (const [key, max] of Object.entries(COUNT_LIMITS) as Array<[keyof typeof COUNT_LIMITS, number]>) {
    if ((config[key] as number) > max) fail(key, `must be at most ${max.toLocaleString('en-US')}, got ${(config[key] as number).toLocaleString('en-US')}`);
  }
  if (config.hiddenSizes.length > MAX_HIDDEN_LAYERS) fail('hiddenSizes', `may list at most ${MAX_HIDDEN_LAYERS} layers, got ${config.hiddenSizes.length}`);
  checkMemory(config);
  return config;
}

/**
 * Upper bounds on the counts a user can pass, so that no run starts that cannot end: a week of
 * steps at 2,000 steps/s is about 10⁹; Algorithm 2's recompute over 10⁴ batches takes seconds.
 */
const COUNT_LIMITS = {
  steps: 1_000_000_000,
  validateEvery: 1_000_000_000,
  bnAverageBatches: 10_000,
  normGroups: 1_000_000,
  ghostBatch: 1_000_000,
  batchSize: 1_000_000,
  evalBatchSize: 1_000_000,
} as const satisfies Partial<Record<keyof TrainConfig, number>>;
const MAX_HIDDEN_LAYERS = 64;

/**
 * The most memory one network's estimate may come to: 1 GiB. Wasm memory's growth by doubling
 * beyond it takes it up to 2 GiB of wasm32's 4.
 */
export const MAX_NETWORK_BYTES = 1024 ** 3;
const MNIST_INPUTS = 784;
const MNIST_OUTPUTS = 10;
/** Rows an evaluation batch can have at most: the largest MNIST split (the training file's 60,000). */
export const LARGEST_SPLIT = 60_000;

/** The largest batch a run of `config` puts through its network (training or evaluating): what the network is sized for. */
export function largestBatch(config: TrainConfig): number {
  return Math.max(config.batchSize, Math.min(config.evalBatchSize, LARGEST_SPLIT));
}

/**
 * The bytes a network of `config` needs (nn/'s estimate, which the network reserves when built):
 * parameters and state, and buffers for its largest batch. Parts named by the flag that sizes
 * them, so a refusal can say which flag to lower.
 */
export function networkMemoryBytes(config: TrainConfig): { total: number; parts: Array<{ flag: keyof TrainConfig; bytes: number }> } {
  const { fixedBytes, bytesPerRow } = networkMemory(specFromConfig(config, MNIST_INPUTS, MNIST_OUTPUTS));
  const rows = largestBatch(config);
  const rowsFlag: keyof TrainConfig = config.batchSize >= rows ? 'batchSize' : 'evalBatchSize';
  const parts: Array<{ flag: keyof TrainConfig; bytes: number }> = [
    { flag: 'hiddenSizes', bytes: fixedBytes },
    { flag: rowsFlag, bytes: rows * bytesPerRow },
  ];
  return { total: parts.reduce((sum, part) => sum + part.bytes, 0), parts };
}

function checkMemory(config: TrainConfig): void {
  const { total, parts } = networkMemoryBytes(config);
  if (total <= MAX_NETWORK_BYTES) return;
  const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const limit = `more than the ${gib(MAX_NETWORK_BYTES)} one network may use`;
  // Layers too wide even for batches of one example: the widths are at fault, not the batch sizes.
  const smallest = networkMemoryBytes({ ...config, batchSize: 1, evalBatchSize: 1 }).total;
  if (smallest > MAX_NETWORK_BYTES) {
    fail(
      'hiddenSizes',
      `${config.hiddenSizes.join(',')} asks for layers that need about ${gib(smallest)} of memory even one example at a time, ${limit}: use narrower layers`,
    );
  }
  const largest = parts.filter((part) => part.flag !== 'hiddenSizes').reduce((a, b) => (b.bytes > a.bytes ? b : a));
  fail(
    largest.flag,
    `${String(config[largest.flag])} with --hidden ${config.hiddenSizes.join(',')} needs about ${gib(total)} of memory, ${limit}: lower ${FLAG_NAMES[largest.flag]}`,
  );
}

/**
 * The network a config describes, for inputs of `inputSize` and `outputSize` classes, with its
 * norm or another (`true`/`false`: BN or none, as `compare` pairs them).
 */
export function specFromConfig(config: TrainConfig, inputSize: number, outputSize: number, norm: NormKind | boolean = config.norm): NetworkSpec {
  const kind = normKindOf(norm);
  const affine = config.normAffine;
  return makeSpec({
    inputSize,
    outputSize,
    hiddenSizes: config.hiddenSizes,
    activation: config.activation,
    norm: kind,
    batchNorm: kind === 'bn' ? { eps: config.bnEps, momentum: config.bnMomentum, estimator: config.bnEstimator, scale: affine, center: affine } : false,
    exampleNorm: { groups: kind === 'gn' ? config.normGroups : 1, affine },
    renorm: {
      eps: config.bnEps,
      momentum: config.bnMomentum,
      rmax: config.renormRmax,
      dmax: config.renormDmax,
      ...renormSchedule(config.steps, config.renormWarmup),
      affine,
    },
    ghost: { eps: config.bnEps, momentum: config.bnMomentum, virtualBatch: config.ghostBatch, affine },
    // The norms without a layer of their own have no place: none and Weight Norm stay `pre`.
    placement: kind === 'none' || kind === 'wn' ? 'pre' : config.normPlacement,
    weightNorm: { init: config.wnInit, meanOnly: config.wnMeanOnly, momentum: config.bnMomentum },
  });
}

/** A norm given as a kind, or as BatchNorm on (true) or off (false). */
export function normKindOf(norm: NormKind | boolean): NormKind {
  return norm === true ? 'bn' : norm === false ? 'none' : norm;
}
