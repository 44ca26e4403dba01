/**
 * @file BatchNorm for [batch, features] data (Ioffe & Szegedy 2015, Algorithms 1 and 2).
 * Training mode normalizes with the batch's own mean and biased variance and updates both
 * population estimates; inference mode normalizes with the estimate the layer's estimator
 * names. Forward keeps exactly what backward needs (xhat, invStd) in a per-batch-size cache.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import type { BatchNormOptions, Estimator, Mode } from './spec.js';

/** What one training-mode forward leaves for backward, sized for one batch size m. */
export interface BatchNormCache {
  mean: Matrix; // [1, n] batch mean μ_B
  variance: Matrix; // [1, n] biased batch variance σ²_B
  invStd: Matrix; // [1, n] 1/√(σ²_B + eps)
  xhat: Matrix; // [m, n] normalized input
}

export interface PopulationStatistics {
  mean: Float64Array;
  variance: Float64Array;
}

export class BatchNorm {
  readonly options: BatchNormOptions;
  readonly gamma: Matrix | null; // [1, n] learnable scale, starts at 1
  readonly beta: Matrix | null; // [1, n] learnable shift, starts at 0
  readonly gammaGrad: Matrix | null;
  readonly betaGrad: Matrix | null;
  /** `ema` estimates: moving averages of μ_B and σ²_B, starting at 0 and 1 as in TensorFlow. */
  readonly movingMean: Matrix; // [1, n]
  readonly movingVariance: Matrix; // [1, n]
  /** `average` estimates (Algorithm 2): running sums of μ_B, σ²_B and m/(m−1)·σ²_B over training batches. */
  readonly batchMeanSum: Float64Array; // [n]
  readonly batchVarianceSum: Float64Array; // [n]
  readonly unbiasedVarianceSum: Float64Array; // [n]
  averagedBatches = 0;
  private readonly foldedScale: Matrix; // [1, n] γ/√(var+eps) at inference
  private readonly foldedShift: Matrix; // [1, n] β − mean·scale at inference

  constructor(private readonly kernels: Kernels, readonly features: number, options: BatchNormOptions) {
    this.options = { ...options };
    this.gamma = options.scale ? kernels.matrix(1, features) : null;
    this.gamma?.data.fill(1);
    this.beta = options.center ? kernels.matrix(1, features) : null;
    this.gammaGrad = options.scale ? kernels.matrix(1, features) : null;
    this.betaGrad = options.center ? kernels.matrix(1, features) : null;
    this.movingMean = kernels.matrix(1, features);
    this.movingVariance = kernels.matrix(1, features);
    this.movingVariance.data.fill(1);
    this.batchMeanSum = new Float64Array(features);
    this.batchVarianceSum = new Float64Array(features);
    this.unbiasedVarianceSum = new Float64Array(features);
    this.foldedScale = kernels.matrix(1, features);
    this.foldedShift = kernels.matrix(1, features);
  }

  createCache(batchSize: number): BatchNormCache {
    const n = this.features;
    return {
      mean: this.kernels.matrix(1, n),
      variance: this.kernels.matrix(1, n),
      invStd: this.kernels.matrix(1, n),
      xhat: this.kernels.matrix(batchSize, n),
    };
  }

  /**
   * y[m,n] = BN(x[m,n]). In `train` mode: batch statistics, and the population estimates
   * take this batch in. In `infer` mode: the estimator's statistics; nothing is updated.
   */
  forward(x: Matrix, y: Matrix, mode: Mode, cache: BatchNormCache): void {
    const { eps, estimator } = this.options;
    if (mode === 'train') {
      assertTrainableBatch(x.rows);
      this.kernels.batchNormForwardTrain(x, eps, this.gamma, this.beta, cache.mean, cache.variance, cache.invStd, cache.xhat, y);
      this.updatePopulationStatistics(cache.mean, cache.variance, x.rows);
    } else if (estimator === 'batch') {
      // The failure mode the article warns about: a test batch normalized by its own statistics.
      this.kernels.batchNormForwardTrain(x, eps, this.gamma, this.beta, cache.mean, cache.variance, cache.invStd, cache.xhat, y);
    } else {
      this.foldPopulationStatistics(this.populationStatistics(estimator));
      this.kernels.scaleShiftColumns(x, this.foldedScale, this.foldedShift, y);
    }
  }

  /** dx = ∂L/∂x through μ_B and σ²_B; dγ += Σ dy·x̂; dβ += Σ dy. Needs the cache of a training-mode forward. */
  backward(dy: Matrix, dx: Matrix, cache: BatchNormCache): void {
    this.kernels.batchNormBackward(dy, cache.xhat, cache.invStd, this.gamma, dx, this.gammaGrad, this.betaGrad);
  }

  /**
   * The population mean and variance an estimator gives. `ema`: the moving averages.
   * `average`: E[μ_B] and E[σ²_B], times m/(m−1) when `unbiased` (before any batch: 0 and 1).
   * `batch` has no population statistics; it returns the moving averages for inspection.
   */
  populationStatistics(estimator: Estimator = this.options.estimator): PopulationStatistics {
    const n = this.features;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    if (estimator === 'average' && this.averagedBatches > 0) {
      const sums = this.options.unbiased ? this.unbiasedVarianceSum : this.batchVarianceSum;
      for (let j = 0; j < n; j++) {
        mean[j] = this.batchMeanSum[j]! / this.averagedBatches;
        variance[j] = sums[j]! / this.averagedBatches;
      }
    } else if (estimator === 'average') {
      variance.fill(1);
    } else {
      mean.set(this.movingMean.data);
      variance.set(this.movingVariance.data);
    }
    return { mean, variance };
  }

  /** Forgets the `average` sums, e.g. before recomputing them over N batches with frozen weights. */
  resetAverage(): void {
    this.batchMeanSum.fill(0);
    this.batchVarianceSum.fill(0);
    this.unbiasedVarianceSum.fill(0);
    this.averagedBatches = 0;
  }

  private updatePopulationStatistics(mean: Matrix, variance: Matrix, m: number): void {
    const decay = this.options.momentum;
    const movingMean = this.movingMean.data, movingVariance = this.movingVariance.data;
    const bessel = m / (m - 1);
    for (let j = 0; j < this.features; j++) {
      const mu = mean.data[j]!, sigma2 = variance.data[j]!;
      // TensorFlow's rule for 2-D inputs: the moving variance follows the biased σ²_B.
      movingMean[j] = decay * movingMean[j]! + (1 - decay) * mu;
      movingVariance[j] = decay * movingVariance[j]! + (1 - decay) * sigma2;
      this.batchMeanSum[j] += mu;
      this.batchVarianceSum[j] += sigma2;
      this.unbiasedVarianceSum[j] += bessel * sigma2;
    }
    this.averagedBatches++;
  }

  private foldPopulationStatistics({ mean, variance }: PopulationStatistics): void {
    const eps = this.options.eps;
    for (let j = 0; j < this.features; j++) {
      const scale = (this.gamma ? this.gamma.data[j]! : 1) / Math.sqrt(variance[j]! + eps);
      this.foldedScale.data[j] = scale;
      this.foldedShift.data[j] = (this.beta ? this.beta.data[j]! : 0) - mean[j]! * scale;
    }
  }
}

/** Training-mode BatchNorm needs at least two examples: one example has no variance. */
export function assertTrainableBatch(batchSize: number): void {
  if (batchSize < 2) {
    throw new RangeError(
      `BatchNorm in training mode needs a batch of at least 2 examples (got ${batchSize}): a single example has no variance. Use a batch size of 2 or more.`,
    );
  }
}
