/**
 * @file What a network is, as data: the spec its layers are built from and the BatchNorm settings,
 * with their defaults in one place. The defaults are those of the article's TensorFlow code.
 */
import type { ActivationKind } from '../core/kernels.js';

/** How BatchNorm estimates population statistics for inference. */
export type Estimator = 'ema' | 'average' | 'batch';
export const ESTIMATORS: readonly Estimator[] = ['ema', 'average', 'batch'];
export const ACTIVATIONS: readonly ActivationKind[] = ['relu', 'sigmoid', 'tanh', 'identity'];

/** Whether a call normalizes with the batch's own statistics (and updates the population estimates) or with the population estimates. */
export type Mode = 'train' | 'infer';

/** Which statistics a network's normalizations use at inference: a setting of the network (its spec's `batchNorm`), never of a layer. */
export interface InferenceStatistics {
  estimator: Estimator;
  /** With `average`: E[σ²_B] times m/(m−1). */
  unbiased: boolean;
}

export interface BatchNormOptions {
  /** Added to the variance before the square root. TensorFlow's default 1e-3 (PyTorch: 1e-5). */
  eps: number;
  /** Decay of the moving average: new = momentum·old + (1 − momentum)·batch. TensorFlow's 0.99 (PyTorch's momentum is 1 − ours). */
  momentum: number;
  /** Which population statistics inference uses. */
  estimator: Estimator;
  /** With `average`: multiply E[σ²_B] by m/(m−1), the paper's unbiased estimate. */
  unbiased: boolean;
  /** Learn a per-feature scale gamma (false: gamma = 1). */
  scale: boolean;
  /** Learn a per-feature shift beta (false: beta = 0). */
  center: boolean;
}

export const BATCH_NORM_DEFAULTS: Readonly<BatchNormOptions> = Object.freeze({
  eps: 1e-3,
  momentum: 0.99,
  estimator: 'ema',
  unbiased: true,
  scale: true,
  center: true,
});

export interface NetworkSpec {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  /** The hidden layers' activation; the output layer has none (logits). */
  activation: ActivationKind;
  /** BatchNorm after every hidden linear layer, or null for none. */
  batchNorm: BatchNormOptions | null;
  /** A bias in the hidden linear layers. The article drops it under BN, where BN(Wu + b) = BN(Wu). */
  hiddenBias: boolean;
}

/** The article's network: 784-128-128-128-10. */
export const ARTICLE_LAYOUT = Object.freeze({ inputSize: 784, hiddenSizes: [128, 128, 128], outputSize: 10 });

/** A spec with defaults filled in: hiddenBias follows the article (none under BN). */
export function makeSpec(options: {
  inputSize?: number;
  hiddenSizes?: number[];
  outputSize?: number;
  activation?: ActivationKind;
  batchNorm?: boolean | Partial<BatchNormOptions>;
  hiddenBias?: boolean;
}): NetworkSpec {
  const batchNorm = options.batchNorm === undefined || options.batchNorm === false
    ? null
    : { ...BATCH_NORM_DEFAULTS, ...(options.batchNorm === true ? {} : options.batchNorm) };
  const spec: NetworkSpec = {
    inputSize: options.inputSize ?? ARTICLE_LAYOUT.inputSize,
    hiddenSizes: [...(options.hiddenSizes ?? ARTICLE_LAYOUT.hiddenSizes)],
    outputSize: options.outputSize ?? ARTICLE_LAYOUT.outputSize,
    activation: options.activation ?? 'relu',
    batchNorm,
    hiddenBias: options.hiddenBias ?? batchNorm === null,
  };
  validateSpec(spec);
  return spec;
}

export function validateSpec(spec: NetworkSpec): void {
  const sizes = [spec.inputSize, ...spec.hiddenSizes, spec.outputSize];
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`layer sizes must be whole numbers of at least 1, got ${sizes.join('-')}`);
  }
  if (!ACTIVATIONS.includes(spec.activation)) throw new RangeError(`unknown activation "${spec.activation}"; use one of ${ACTIVATIONS.join(', ')}`);
  const bn = spec.batchNorm;
  if (bn) {
    if (!(bn.eps > 0)) throw new RangeError(`BatchNorm eps must be positive, got ${bn.eps}`);
    if (!(bn.momentum >= 0 && bn.momentum < 1)) throw new RangeError(`BatchNorm momentum must be in [0, 1), got ${bn.momentum}`);
    if (!ESTIMATORS.includes(bn.estimator)) throw new RangeError(`unknown BatchNorm estimator "${bn.estimator}"; use one of ${ESTIMATORS.join(', ')}`);
  }
}

/** [inputs, outputs] of every linear layer, first to last. */
export function layerShapes(spec: NetworkSpec): Array<[number, number]> {
  const sizes = [spec.inputSize, ...spec.hiddenSizes, spec.outputSize];
  return sizes.slice(1).map((outputs, i) => [sizes[i]!, outputs]);
}
