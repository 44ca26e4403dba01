/**
 * @file Ghost Batch Normalization (Hoffer, Hubara & Soudry 2017) for [batch, features] data: in
 * training, the batch's rows in virtual batches of `virtualBatch` consecutive rows, each
 * normalized by its own mean and biased variance (BN's kernels on each), with one γ and β and one
 * set of moving averages, which every virtual batch updates in turn (as PyTorch-style ghost BN,
 * one BatchNorm module applied to each chunk, does). Inference is BN's, on the moving averages.
 * One virtual batch the size of the batch is BN to the bit.
 */
import type { Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { assertTrainableBatch, BatchNorm } from './batch-norm.js';
import type { ForwardPass } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';
import type { GhostBatchOptions } from './spec.js';

export class GhostBatchNorm extends BatchNorm {
  readonly virtualBatch: number;
  /** Each virtual batch's μ_B, σ²_B and 1/√(σ²_B + eps), one row per virtual batch. */
  private ghostMean: RowBuffer | null = null;
  private ghostVariance: RowBuffer | null = null;
  private ghostInvStd: RowBuffer | null = null;

  /** @param name the checkpoint prefix, `ghost.{i}` */
  constructor(kernels: Kernels, name: string, features: number, ghost: GhostBatchOptions) {
    super(kernels, name, features, { eps: ghost.eps, momentum: ghost.momentum, scale: ghost.affine, center: ghost.affine });
    this.virtualBatch = ghost.virtualBatch;
  }

  override allocate(maxRows: number, needsInputGradient: boolean): void {
    super.allocate(maxRows, needsInputGradient);
    const virtualBatches = Math.max(1, Math.floor(maxRows / this.virtualBatch));
    this.ghostMean = new RowBuffer(this.kernels, virtualBatches, this.features);
    this.ghostVariance = new RowBuffer(this.kernels, virtualBatches, this.features);
    this.ghostInvStd = new RowBuffer(this.kernels, virtualBatches, this.features);
  }

  /** Training: BN's forward on each virtual batch, which then updates the moving averages. Inference: BN's. */
  override forward(x: Matrix, pass: ForwardPass): Matrix {
    if (pass.mode !== 'train') return super.forward(x, pass);
    const m = x.rows,
      size = this.checkBatch(m),
      eps = this.settings.eps;
    assertTrainableBatch(size);
    const y = allocated(this.output).rows(m),
      xhat = allocated(this.xhat).rows(m);
    const means = allocated(this.ghostMean).rows(m / size),
      variances = allocated(this.ghostVariance).rows(m / size);
    const invStds = allocated(this.ghostInvStd).rows(m / size);
    for (let v = 0; v * size < m; v++) {
      const mean = rowsOf(means, v, 1),
        variance = rowsOf(variances, v, 1);
      this.kernels.batchNormForwardTrain(
        rowsOf(x, v * size, size),
        eps,
        this.gamma,
        this.beta,
        mean,
        variance,
        rowsOf(invStds, v, 1),
        rowsOf(xhat, v * size, size),
        rowsOf(y, v * size, size),
      );
      this.updatePopulationStatistics(mean, variance, size);
    }
    return y;
  }

  /** BN's backward on each virtual batch, through its own μ_B and σ²_B; dγ and dβ summed over them. */
  override backward(x: Matrix, dy: Matrix): Matrix | null {
    const m = x.rows,
      size = this.checkBatch(m);
    const dx = allocated(this.inputGradient).rows(m),
      xhat = allocated(this.xhat).rows(m);
    const invStds = allocated(this.ghostInvStd).rows(m / size);
    for (let v = 0; v * size < m; v++) {
      this.kernels.batchNormBackward(
        rowsOf(dy, v * size, size),
        rowsOf(xhat, v * size, size),
        rowsOf(invStds, v, 1),
        this.gamma,
        rowsOf(dx, v * size, size),
        this.gammaGrad,
        this.betaGrad,
      );
    }
    return dx;
  }

  private checkBatch(rows: number): number {
    if (rows % this.virtualBatch !== 0) {
      throw new RangeError(
        `--ghost-batch ${this.virtualBatch} does not divide the training batch of ${rows} rows: Ghost BN needs virtual batches of equal size`,
      );
    }
    return this.virtualBatch;
  }
}

/** Rows start..start+count of a matrix, on its memory: made per call and used at once, so never kept across a growth of that memory. */
function rowsOf(matrix: Matrix, start: number, count: number): Matrix {
  if (start === 0 && count === matrix.rows) return matrix;
  const cols = matrix.cols;
  return new Matrix(count, cols, matrix.data.subarray(start * cols, (start + count) * cols));
}
