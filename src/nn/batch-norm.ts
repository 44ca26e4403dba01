/**
 * @file BatchNorm for [batch, features] data (Ioffe & Szegedy 2015, Algorithms 1 and 2).
 * Training mode normalizes with the batch's own mean and biased variance and updates both
 * population estimates; inference mode normalizes with the statistics the forward pass names
 * (the network's, from its spec). Forward keeps exactly what backward needs (xhat, invStd).
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import type { CheckpointTensor, ForwardPass, Layer, Parameter } from './layer.js';
import { matrixTensor } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';
import type { BatchNormOptions, InferenceStatistics } from './spec.js';

/** What a layer's own settings are; which statistics inference uses is the network's (InferenceStatistics). */
export type BatchNormSettings = Pick<BatchNormOptions, 'eps' | 'momentum' | 'scale' | 'center'>;

/** The statistics of one batch, per feature. */
export interface BatchStatistics {
  mean: Matrix; // [1, n] batch mean μ_B
  variance: Matrix; // [1, n] biased batch variance σ²_B
  invStd: Matrix; // [1, n] 1/√(σ²_B + eps)
}

export interface PopulationStatistics {
  mean: Float64Array;
  variance: Float64Array;
}

export class BatchNorm implements Layer {
  readonly settings: Readonly<BatchNormSettings>;
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
  /** The latest training batch's statistics (what backward needs, and what a page shows). */
  readonly trainingBatch: BatchStatistics;
  /** An inference batch's own statistics (the `batch` estimator), apart, so that they never overwrite the training batch's. */
  private readonly inferenceBatch: BatchStatistics;
  private readonly foldedScale: Matrix; // [1, n] γ/√(var+eps) at inference
  private readonly foldedShift: Matrix; // [1, n] β − mean·scale at inference
  private readonly parameterList: Parameter[] = [];
  protected output: RowBuffer | null = null; // [m, n] y
  protected xhat: RowBuffer | null = null; // [m, n] normalized input
  protected inputGradient: RowBuffer | null = null; // [m, n] ∂L/∂x

  /** @param name the checkpoint prefix, `bn.{i}` */
  constructor(
    protected readonly kernels: Kernels,
    readonly name: string,
    readonly features: number,
    settings: BatchNormSettings,
  ) {
    this.settings = Object.freeze({ eps: settings.eps, momentum: settings.momentum, scale: settings.scale, center: settings.center });
    this.gamma = settings.scale ? kernels.matrix(1, features) : null;
    this.gamma?.data.fill(1);
    this.beta = settings.center ? kernels.matrix(1, features) : null;
    this.gammaGrad = settings.scale ? kernels.matrix(1, features) : null;
    this.betaGrad = settings.center ? kernels.matrix(1, features) : null;
    if (this.gamma && this.gammaGrad) this.parameterList.push({ name: `${name}.gamma`, value: this.gamma, grad: this.gammaGrad, updatedInBackward: false });
    if (this.beta && this.betaGrad) this.parameterList.push({ name: `${name}.beta`, value: this.beta, grad: this.betaGrad, updatedInBackward: false });
    this.movingMean = kernels.matrix(1, features);
    this.movingVariance = kernels.matrix(1, features);
    this.movingVariance.data.fill(1);
    this.batchMeanSum = new Float64Array(features);
    this.batchVarianceSum = new Float64Array(features);
    this.unbiasedVarianceSum = new Float64Array(features);
    this.trainingBatch = this.batchStatistics();
    this.inferenceBatch = this.batchStatistics();
    this.foldedScale = kernels.matrix(1, features);
    this.foldedShift = kernels.matrix(1, features);
  }

  get inputWidth(): number {
    return this.features;
  }

  get outputWidth(): number {
    return this.features;
  }

  allocate(maxRows: number, needsInputGradient: boolean): void {
    this.output = new RowBuffer(this.kernels, maxRows, this.features);
    this.xhat = new RowBuffer(this.kernels, maxRows, this.features);
    this.inputGradient = needsInputGradient ? new RowBuffer(this.kernels, maxRows, this.features) : null;
  }

  /**
   * y[m,n] = BN(x[m,n]). Training: batch statistics, and the population estimates take this
   * batch in. Inference: the pass's statistics (`batch`: the batch's own); nothing is updated.
   */
  forward(x: Matrix, pass: ForwardPass): Matrix {
    const { eps } = this.settings;
    const y = allocated(this.output).rows(x.rows),
      xhat = allocated(this.xhat).rows(x.rows);
    if (pass.mode === 'train') {
      assertTrainableBatch(x.rows);
      const { mean, variance, invStd } = this.trainingBatch;
      this.kernels.batchNormForwardTrain(x, eps, this.gamma, this.beta, mean, variance, invStd, xhat, y);
      this.updatePopulationStatistics(mean, variance, x.rows);
    } else if (pass.statistics.estimator === 'batch') {
      // The failure mode the article warns about: a test batch normalized by its own statistics.
      const { mean, variance, invStd } = this.inferenceBatch;
      this.kernels.batchNormForwardTrain(x, eps, this.gamma, this.beta, mean, variance, invStd, xhat, y);
    } else {
      this.foldPopulationStatistics(this.populationStatistics(pass.statistics));
      this.kernels.scaleShiftColumns(x, this.foldedScale, this.foldedShift, y);
    }
    return y;
  }

  /** dx = ∂L/∂x through μ_B and σ²_B; dγ += Σ dy·x̂; dβ += Σ dy. Needs a training-mode forward of the same batch. */
  backward(x: Matrix, dy: Matrix): Matrix | null {
    const dx = allocated(this.inputGradient).rows(x.rows);
    this.kernels.batchNormBackward(dy, allocated(this.xhat).rows(x.rows), this.trainingBatch.invStd, this.gamma, dx, this.gammaGrad, this.betaGrad);
    return dx;
  }

  parameters(): readonly Parameter[] {
    return this.parameterList;
  }

  /** The population estimates: moving averages (`ema`), the sums and their count (`average`). */
  state(): readonly CheckpointTensor[] {
    const features = [this.features];
    const float64 = (suffix: string, values: Float64Array): CheckpointTensor => ({
      name: `${this.name}.${suffix}`,
      dtype: 'F64',
      shape: features,
      read: () => values,
      write: (read) => values.set(read as Float64Array),
    });
    return [
      matrixTensor(`${this.name}.moving_mean`, this.movingMean, features),
      matrixTensor(`${this.name}.moving_variance`, this.movingVariance, features),
      float64('batch_mean_sum', this.batchMeanSum),
      float64('batch_variance_sum', this.batchVarianceSum),
      float64('unbiased_variance_sum', this.unbiasedVarianceSum),
      {
        name: `${this.name}.averaged_batches`,
        dtype: 'I64',
        shape: [],
        read: () => [this.averagedBatches],
        write: (read) => {
          const count = (read as BigInt64Array)[0]!;
          if (count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER))
            throw new RangeError(`BatchNorm ${this.name} averaged ${count} batches, which is not a count`);
          this.averagedBatches = Number(count);
        },
      },
    ];
  }

  /** bn.{i}.gamma / beta [features] where learned, then the state. */
  checkpointTensors(): readonly CheckpointTensor[] {
    return [...this.parameterList.map(({ name, value }) => matrixTensor(name, value, [this.features])), ...this.state()];
  }

  /**
   * The population mean and variance the statistics give. `ema`: the moving averages.
   * `average`: E[μ_B] and E[σ²_B], times m/(m−1) when `unbiased` (before any batch: 0 and 1).
   * `batch` has no population statistics; it returns the moving averages for inspection.
   */
  populationStatistics({ estimator, unbiased }: InferenceStatistics): PopulationStatistics {
    const n = this.features;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    if (estimator === 'average' && this.averagedBatches > 0) {
      const sums = unbiased ? this.unbiasedVarianceSum : this.batchVarianceSum;
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

  /** The latest forward's x̂ [m, n] and output [m, n] buffers (for experiments that look inside). */
  buffersFor(rows: number): { xhat: Matrix; output: Matrix } {
    return { xhat: allocated(this.xhat).rows(rows), output: allocated(this.output).rows(rows) };
  }

  /** ∂L/∂x [m, n] of the latest backward of m rows. */
  inputGradientFor(rows: number): Matrix {
    return allocated(this.inputGradient).rows(rows);
  }

  private batchStatistics(): BatchStatistics {
    const n = this.features;
    return { mean: this.kernels.matrix(1, n), variance: this.kernels.matrix(1, n), invStd: this.kernels.matrix(1, n) };
  }

  protected updatePopulationStatistics(mean: Matrix, variance: Matrix, m: number): void {
    const decay = this.settings.momentum;
    const movingMean = this.movingMean.data,
      movingVariance = this.movingVariance.data;
    const bessel = m / (m - 1);
    for (let j = 0; j < this.features; j++) {
      const mu = mean.data[j]!,
        sigma2 = variance.data[j]!;
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
    const eps = this.settings.eps;
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
