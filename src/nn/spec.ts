/**
 * @file What a network is, as data: the spec its layers are built from, which normalization
 * follows every hidden linear layer (none, BatchNorm, Batch Renormalization, Ghost BN, Layer
 * Norm, Group Norm, RMSNorm) and its
 * settings, with their defaults in one place. BatchNorm's defaults are those of the article's
 * TensorFlow code; the per-example norms' are PyTorch's.
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

/** The normalization of every hidden layer (after its linear layer; wn: of the linear layer's weights). */
export type NormKind = 'none' | 'bn' | 'brn' | 'ghost' | 'ln' | 'gn' | 'rms' | 'wn';
export const NORM_KINDS: readonly NormKind[] = ['none', 'bn', 'brn', 'ghost', 'ln', 'gn', 'rms', 'wn'];

/**
 * Where a norm layer sits in a hidden layer: `pre` act(norm(x·W)), the article's (and the BN
 * paper's) place, or `post` norm(act(x·W + b)), after the activation. Weight Norm is no layer of
 * its own (it reparametrizes W), so it has no placement: always `pre`, as is a network without a norm.
 */
export type NormPlacement = 'pre' | 'post';
export const NORM_PLACEMENTS: readonly NormPlacement[] = ['pre', 'post'];
/** The norms with a learnable per-unit γ (and β where they centre) that `affine: false` removes. */
export const AFFINE_NORMS: readonly NormKind[] = ['bn', 'brn', 'ghost', 'ln', 'gn', 'rms'];

/**
 * Weight Normalization (Salimans & Kingma 2016): every hidden linear layer's weights are
 * w = g·v/‖v‖ per output unit (a column of the [in, out] matrix), g learnable, v starting as the
 * drawn weights and g as ‖v‖ (so w starts equal to them), and the bias kept.
 */
export interface WeightNormOptions {
  /**
   * `data`: the paper's data-dependent initialization (§3) on the first training batch, g = 1/σ[t]
   * and b = −μ[t]/σ[t] with t = v·x/‖v‖, so each unit's pre-activation has mean 0 and variance 1
   * on that batch (b = 0 with `meanOnly`, which removes the mean anyway); `none`: g = ‖v‖, b = 0.
   */
  init: 'data' | 'none';
  /** The paper's mean-only batch normalization (§2.2): subtract each unit's minibatch mean of w·x (a moving mean at inference), no division by σ. */
  meanOnly: boolean;
  /** Decay of the moving mean (mean-only): new = momentum·old + (1 − momentum)·batch, as BN's. */
  momentum: number;
}

export const WEIGHT_NORM_INITS: ReadonlyArray<WeightNormOptions['init']> = ['data', 'none'];
export const WEIGHT_NORM_DEFAULTS: Readonly<WeightNormOptions> = Object.freeze({ init: 'data', meanOnly: false, momentum: 0.99 });
/** BN's successors that keep its batch statistics and moving averages (Batch Renormalization, Ghost BN). */
export const BATCH_VARIANT_NORMS: readonly NormKind[] = ['brn', 'ghost'];
/** The norms whose statistics are each example's own (no batch statistics, no running state). */
export const EXAMPLE_NORMS: readonly NormKind[] = ['ln', 'gn', 'rms'];

/** Layer Norm, Group Norm and RMSNorm: statistics per example, over its units (or a group of them). */
export interface ExampleNormOptions {
  /** Added to the variance (the mean square for RMSNorm) before the square root: PyTorch's 1e-5. */
  eps: number;
  /** Group Norm's groups of units (they must divide every hidden width); 1 for Layer Norm and RMSNorm. */
  groups: number;
  /** Learn γ (and β where centered); false: y = x̂. Absent in files written before it existed: true. */
  affine: boolean;
}

export const EXAMPLE_NORM_DEFAULTS: Readonly<ExampleNormOptions> = Object.freeze({ eps: 1e-5, groups: 1, affine: true });

/**
 * Batch Renormalization (Ioffe 2017): BN's statistics and moving averages, with the correction
 * r = clip(σ_B/σ, 1/rmax, rmax), d = clip((μ_B − μ)/σ, −dmax, dmax). The limits follow the
 * paper's schedule, in training steps of this network: 1 and 0 until `warmupSteps`, then linear
 * to `rmax` at `rmaxSteps` and to `dmax` at `dmaxSteps`, constant after.
 */
export interface BatchRenormOptions {
  eps: number;
  momentum: number;
  rmax: number;
  dmax: number;
  warmupSteps: number;
  rmaxSteps: number;
  dmaxSteps: number;
  /** Learn γ and β (false: y = x̂'). */
  affine: boolean;
}

/** Ghost BN (Hoffer et al. 2017): BN's statistics per virtual batch of `virtualBatch` consecutive rows. */
export interface GhostBatchOptions {
  eps: number;
  momentum: number;
  virtualBatch: number;
  /** Learn γ and β (false: y = x̂). */
  affine: boolean;
}

export interface NetworkSpec {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  /** The hidden layers' activation; the output layer has none (logits). */
  activation: ActivationKind;
  /** BatchNorm's settings: an object exactly when `norm` is 'bn'. */
  batchNorm: BatchNormOptions | null;
  /** A bias in the hidden linear layers. The article drops it under BN, where BN(Wu + b) = BN(Wu). */
  hiddenBias: boolean;
  /** The normalization after every hidden linear layer. */
  norm: NormKind;
  /** The settings of Layer, Group or RMS Norm: an object exactly when `norm` is 'ln', 'gn' or 'rms'. */
  exampleNorm: ExampleNormOptions | null;
  /** Batch Renormalization's settings: an object exactly when `norm` is 'brn'. */
  renorm: BatchRenormOptions | null;
  /** Ghost BN's settings: an object exactly when `norm` is 'ghost'. */
  ghost: GhostBatchOptions | null;
  /** Where the norm layer sits: before the activation (`pre`, the article's) or after it (`post`). */
  placement: NormPlacement;
  /** Weight Norm's settings: an object exactly when `norm` is 'wn'. */
  weightNorm: WeightNormOptions | null;
}

/** The article's network: 784-128-128-128-10. */
export const ARTICLE_LAYOUT = Object.freeze({ inputSize: 784, hiddenSizes: [128, 128, 128], outputSize: 10 });

/** A spec with defaults filled in: hiddenBias follows the article (none under BN, nor under its successors). */
export function makeSpec(options: {
  inputSize?: number;
  hiddenSizes?: number[];
  outputSize?: number;
  activation?: ActivationKind;
  /** BatchNorm (true or its settings) or none (false); ignored when `norm` names another norm. */
  batchNorm?: boolean | Partial<BatchNormOptions>;
  hiddenBias?: boolean;
  /** The normalization; absent, `batchNorm` decides between 'bn' and 'none'. */
  norm?: NormKind;
  /** Settings of ln, gn and rms (groups: gn only). */
  exampleNorm?: Partial<ExampleNormOptions>;
  /** Batch Renormalization's settings (brn only): eps and momentum default to BN's, the limits to no correction. */
  renorm?: Partial<BatchRenormOptions>;
  /** Ghost BN's settings (ghost only); `virtualBatch` is required with ghost. */
  ghost?: Partial<GhostBatchOptions>;
  /** Where the norm layer sits (default `pre`). */
  placement?: NormPlacement;
  /** Weight Norm's settings (wn only). */
  weightNorm?: Partial<WeightNormOptions>;
}): NetworkSpec {
  const placement = options.placement ?? 'pre';
  const norm: NormKind = options.norm ?? (options.batchNorm === undefined || options.batchNorm === false ? 'none' : 'bn');
  const batchNorm = norm !== 'bn' ? null : { ...BATCH_NORM_DEFAULTS, ...(typeof options.batchNorm === 'object' ? options.batchNorm : {}) };
  const exampleNorm = EXAMPLE_NORMS.includes(norm) ? { ...EXAMPLE_NORM_DEFAULTS, ...options.exampleNorm, ...(norm === 'gn' ? {} : { groups: 1 }) } : null;
  const spec: NetworkSpec = {
    inputSize: options.inputSize ?? ARTICLE_LAYOUT.inputSize,
    hiddenSizes: [...(options.hiddenSizes ?? ARTICLE_LAYOUT.hiddenSizes)],
    outputSize: options.outputSize ?? ARTICLE_LAYOUT.outputSize,
    activation: options.activation ?? 'relu',
    batchNorm,
    // Only BN and its successors make a bias redundant (they subtract each unit's batch mean;
    // Batch Renormalization's d moves with it, clipped, where β can follow); LN and GN centre
    // over the units of an example, which a per-unit bias changes, and RMSNorm does not centre.
    // After the activation (post) BN no longer follows the linear layer: the bias moves the
    // activation's input, which the activation bends, so it is not redundant and stays.
    hiddenBias: options.hiddenBias ?? (placement === 'post' || (norm !== 'bn' && !BATCH_VARIANT_NORMS.includes(norm))),
    norm,
    exampleNorm,
    renorm:
      norm === 'brn'
        ? {
            eps: BATCH_NORM_DEFAULTS.eps,
            momentum: BATCH_NORM_DEFAULTS.momentum,
            rmax: 1,
            dmax: 0,
            warmupSteps: 0,
            rmaxSteps: 0,
            dmaxSteps: 0,
            affine: true,
            ...options.renorm,
          }
        : null,
    ghost: norm === 'ghost' ? { eps: BATCH_NORM_DEFAULTS.eps, momentum: BATCH_NORM_DEFAULTS.momentum, virtualBatch: 0, affine: true, ...options.ghost } : null,
    placement,
    weightNorm: norm === 'wn' ? { ...WEIGHT_NORM_DEFAULTS, ...options.weightNorm } : null,
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
  if (!NORM_KINDS.includes(spec.norm)) throw new RangeError(`unknown normalization "${spec.norm}"; use one of ${NORM_KINDS.join(', ')}`);
  if ((spec.batchNorm !== null) !== (spec.norm === 'bn'))
    throw new RangeError(`a spec with norm "${spec.norm}" ${spec.norm === 'bn' ? 'needs' : 'cannot have'} BatchNorm settings`);
  if ((spec.exampleNorm !== null) !== EXAMPLE_NORMS.includes(spec.norm))
    throw new RangeError(`a spec with norm "${spec.norm}" ${EXAMPLE_NORMS.includes(spec.norm) ? 'needs' : 'cannot have'} Layer/Group/RMS Norm settings`);
  const example = spec.exampleNorm;
  if (example) {
    if (!(example.eps > 0)) throw new RangeError(`the ${spec.norm} eps must be positive, got ${example.eps}`);
    if (!Number.isInteger(example.groups) || example.groups < 1)
      throw new RangeError(`--norm-groups must be a whole number of at least 1, got ${example.groups}`);
    if (spec.norm !== 'gn' && example.groups !== 1)
      throw new RangeError(`only Group Norm has groups (--norm-groups), but norm is "${spec.norm}" with ${example.groups}`);
    const misfit = spec.hiddenSizes.find((width) => width % example.groups !== 0);
    if (misfit !== undefined)
      throw new RangeError(`--norm-groups ${example.groups} does not divide the hidden layer width ${misfit}: Group Norm needs groups of equal size`);
  }
  if ((spec.renorm !== null) !== (spec.norm === 'brn'))
    throw new RangeError(`a spec with norm "${spec.norm}" ${spec.norm === 'brn' ? 'needs' : 'cannot have'} Batch Renormalization settings`);
  if ((spec.ghost !== null) !== (spec.norm === 'ghost'))
    throw new RangeError(`a spec with norm "${spec.norm}" ${spec.norm === 'ghost' ? 'needs' : 'cannot have'} Ghost BN settings`);
  const variant = spec.renorm ?? spec.ghost;
  if (variant) {
    if (!(variant.eps > 0)) throw new RangeError(`the ${spec.norm} eps must be positive, got ${variant.eps}`);
    if (!(variant.momentum >= 0 && variant.momentum < 1)) throw new RangeError(`the ${spec.norm} momentum must be in [0, 1), got ${variant.momentum}`);
  }
  const renorm = spec.renorm;
  if (renorm) {
    if (!(renorm.rmax >= 1) || !Number.isFinite(renorm.rmax)) throw new RangeError(`--renorm-rmax must be a number of at least 1, got ${renorm.rmax}`);
    if (!(renorm.dmax >= 0) || !Number.isFinite(renorm.dmax)) throw new RangeError(`--renorm-dmax must be a number of at least 0, got ${renorm.dmax}`);
    for (const key of ['warmupSteps', 'rmaxSteps', 'dmaxSteps'] as const) {
      if (!Number.isSafeInteger(renorm[key]) || renorm[key] < 0)
        throw new RangeError(`Batch Renormalization's ${key} must be a whole number of at least 0, got ${renorm[key]}`);
    }
  }
  const ghost = spec.ghost;
  if (ghost && (!Number.isInteger(ghost.virtualBatch) || ghost.virtualBatch < 2)) {
    throw new RangeError(`--ghost-batch must be a whole number of at least 2 (a virtual batch of one example has no variance), got ${ghost.virtualBatch}`);
  }
  if (!NORM_PLACEMENTS.includes(spec.placement))
    throw new RangeError(`unknown norm placement "${String(spec.placement)}"; use one of ${NORM_PLACEMENTS.join(', ')}`);
  if (spec.placement === 'post' && (spec.norm === 'none' || spec.norm === 'wn')) {
    throw new RangeError(
      `--norm-placement post needs a norm layer to place after the activation; ${spec.norm === 'wn' ? "Weight Norm reparametrizes the linear layer's weights, so it has no place of its own" : 'this network has no norm'} (use pre)`,
    );
  }
  if ((spec.weightNorm !== null) !== (spec.norm === 'wn'))
    throw new RangeError(`a spec with norm "${spec.norm}" ${spec.norm === 'wn' ? 'needs' : 'cannot have'} Weight Norm settings`);
  const wn = spec.weightNorm;
  if (wn) {
    if (!WEIGHT_NORM_INITS.includes(wn.init))
      throw new RangeError(`unknown Weight Norm initialization "${String(wn.init)}"; use one of ${WEIGHT_NORM_INITS.join(', ')}`);
    if (typeof wn.meanOnly !== 'boolean') throw new RangeError(`Weight Norm's meanOnly must be true or false, got ${String(wn.meanOnly)}`);
    if (!(wn.momentum >= 0 && wn.momentum < 1)) throw new RangeError(`the wn momentum must be in [0, 1), got ${wn.momentum}`);
    if (!spec.hiddenBias) throw new RangeError("Weight Norm keeps the hidden layers' bias (its initialization sets it)");
  }
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
