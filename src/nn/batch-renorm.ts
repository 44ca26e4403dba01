/**
 * @file Batch Renormalization (Ioffe 2017, Algorithm 1) for [batch, features] data: BatchNorm
 * whose training output is corrected toward the moving statistics, x̂' = r·x̂ + d with
 * x̂ = (x − μ_B)/σ_B, r = clip(σ_B/σ, 1/rmax, rmax), d = clip((μ_B − μ)/σ, −dmax, dmax), and
 * y = γ·x̂' + β. r and d are treated as constants (no gradient flows through them). μ and σ are
 * BN's moving averages (μ, and σ = √(moving σ² + eps): BN's state, updated as BN's, where the
 * paper averages σ_B itself), taken before this batch updates them; inference is BN's on them.
 * With r = 1 and d = 0 everywhere (the warm-up, or rmax = 1 and dmax = 0) every step runs BN's
 * own kernels and nothing else, so the numbers are BN's to the bit.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { assertTrainableBatch, BatchNorm } from './batch-norm.js';
import type { CheckpointTensor, ForwardPass } from './layer.js';
import { renormLimits } from './renorm-schedule.js';
import { allocated } from './row-buffer.js';
import type { BatchRenormOptions } from './spec.js';

export class BatchRenorm extends BatchNorm {
  readonly renorm: Readonly<BatchRenormOptions>;
  /** Training-mode forwards so far: where the schedule is (checkpointed, so a resumed run continues it). */
  steps = 0;
  /** The latest training forward's correction per feature, [1, n]. */
  readonly r: Matrix;
  readonly d: Matrix;
  /** γ·r and γ·d + β: the correction folded into the output's scale and shift. */
  private readonly correctedScale: Matrix;
  private readonly correctedShift: Matrix;
  /** Σdy·x̂ and Σdy of the latest backward, per feature. */
  private readonly sumDyXhat: Matrix;
  private readonly sumDy: Matrix;
  /** Whether the latest training forward corrected anything (some r ≠ 1 or d ≠ 0). */
  private corrected = false;

  /** @param name the checkpoint prefix, `brn.{i}` */
  constructor(kernels: Kernels, name: string, features: number, renorm: BatchRenormOptions) {
    super(kernels, name, features, { eps: renorm.eps, momentum: renorm.momentum, scale: renorm.affine, center: renorm.affine });
    this.renorm = Object.freeze({ ...renorm });
    this.r = kernels.matrix(1, features);
    this.d = kernels.matrix(1, features);
    this.r.data.fill(1);
    this.correctedScale = kernels.matrix(1, features);
    this.correctedShift = kernels.matrix(1, features);
    this.sumDyXhat = kernels.matrix(1, features);
    this.sumDy = kernels.matrix(1, features);
  }

  /** Training: BN's forward, then the correction where the limits allow one. Inference: BN's, on the moving averages. */
  override forward(x: Matrix, pass: ForwardPass): Matrix {
    if (pass.mode !== 'train') return super.forward(x, pass);
    assertTrainableBatch(x.rows);
    const y = allocated(this.output).rows(x.rows),
      xhat = allocated(this.xhat).rows(x.rows);
    const { mean, variance, invStd } = this.trainingBatch;
    this.kernels.batchNormForwardTrain(x, this.settings.eps, this.gamma, this.beta, mean, variance, invStd, xhat, y);
    this.corrected = this.correction(mean, variance);
    this.updatePopulationStatistics(mean, variance, x.rows);
    this.steps++;
    if (this.corrected) this.kernels.scaleShiftColumns(xhat, this.correctedScale, this.correctedShift, y);
    return y;
  }

  /**
   * With r and d constant, y = γ·(r·x̂ + d) + β gives ∂L/∂x̂ = γ·r·dy: exactly BN's backward with
   * γ·r in γ's place (x̂ the uncorrected one, through μ_B and σ_B as in BN). dγ = Σdy·x̂' =
   * r·Σdy·x̂ + d·Σdy; dβ = Σdy.
   */
  override backward(x: Matrix, dy: Matrix): Matrix | null {
    if (!this.corrected) return super.backward(x, dy);
    const dx = allocated(this.inputGradient).rows(x.rows);
    this.sumDyXhat.data.fill(0);
    this.sumDy.data.fill(0);
    this.kernels.batchNormBackward(dy, allocated(this.xhat).rows(x.rows), this.trainingBatch.invStd, this.correctedScale, dx, this.sumDyXhat, this.sumDy);
    const r = this.r.data,
      d = this.d.data,
      sumDyXhat = this.sumDyXhat.data,
      sumDy = this.sumDy.data;
    const dGamma = this.gammaGrad?.data,
      dBeta = this.betaGrad?.data;
    if (dGamma && dBeta) {
      for (let j = 0; j < this.features; j++) {
        dGamma[j] += r[j]! * sumDyXhat[j]! + d[j]! * sumDy[j]!;
        dBeta[j] += sumDy[j]!;
      }
    }
    return dx;
  }

  /** BN's state, and the schedule's step count. */
  override state(): readonly CheckpointTensor[] {
    return [
      ...super.state(),
      {
        name: `${this.name}.steps`,
        dtype: 'I64',
        shape: [],
        read: () => [this.steps],
        write: (read) => {
          const count = (read as BigInt64Array)[0]!;
          if (count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER))
            throw new RangeError(`Batch Renormalization ${this.name} took ${count} steps, which is not a count`);
          this.steps = Number(count);
        },
      },
    ];
  }

  /**
   * r and d for this batch from the moving averages before it, in float64; the folded scale and
   * shift. False (nothing computed) when the limits are 1 and 0, or every r is 1 and every d 0.
   */
  private correction(mean: Matrix, variance: Matrix): boolean {
    const { rmax, dmax } = renormLimits(this.renorm, this.steps);
    if (rmax === 1 && dmax === 0) return false;
    // Without affine (no γ, β): γ = 1 and β = 0.
    const eps = this.settings.eps,
      gamma = this.gamma?.data,
      beta = this.beta?.data;
    const movingMean = this.movingMean.data,
      movingVariance = this.movingVariance.data;
    const R = this.r.data,
      D = this.d.data,
      scale = this.correctedScale.data,
      shift = this.correctedShift.data;
    let any = false;
    for (let j = 0; j < this.features; j++) {
      const sigma = Math.sqrt(movingVariance[j]! + eps);
      const r = clip(Math.sqrt(variance.data[j]! + eps) / sigma, 1 / rmax, rmax);
      const d = clip((mean.data[j]! - movingMean[j]!) / sigma, -dmax, dmax);
      R[j] = r;
      D[j] = d;
      scale[j] = (gamma ? gamma[j]! : 1) * R[j]!;
      shift[j] = (gamma ? gamma[j]! : 1) * D[j]! + (beta ? beta[j]! : 0);
      if (r !== 1 || d !== 0) any = true;
    }
    return any;
  }
}

function clip(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
