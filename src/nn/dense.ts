/**
 * @file Dense (fully connected) layer: y = x·W (+ b), weights stored [in, out] as in the
 * article's TensorFlow code. Forward and backward side by side; backward accumulates.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';

export class Dense {
  readonly weights: Matrix; // [in, out]
  readonly weightGrad: Matrix; // [in, out]
  readonly bias: Matrix | null; // [1, out]
  readonly biasGrad: Matrix | null; // [1, out]

  constructor(private readonly kernels: Kernels, readonly inputs: number, readonly outputs: number, useBias: boolean) {
    this.weights = kernels.matrix(inputs, outputs);
    this.weightGrad = kernels.matrix(inputs, outputs);
    this.bias = useBias ? kernels.matrix(1, outputs) : null;
    this.biasGrad = useBias ? kernels.matrix(1, outputs) : null;
  }

  /** y[m,out] = x[m,in]·W + b. `xIsSparse`: x is mostly zeros (raw pixels), a backend may skip them. */
  forward(x: Matrix, y: Matrix, xIsSparse = false): void {
    this.kernels.matmul(x, this.weights, y, xIsSparse);
    if (this.bias) this.kernels.addRowVector(y, this.bias);
  }

  /**
   * dx = dy·Wᵀ unless dx is null (the first layer needs none); db += Σ_rows dy; then dW += xᵀ·dy,
   * or, given `learningRate`, the SGD update W −= lr·xᵀ·dy straight into the weights (weightGrad
   * untouched): one pass over W instead of three (zero the gradient, accumulate it, apply it).
   * dx is computed first because it needs W before the update.
   */
  backward(x: Matrix, dy: Matrix, dx: Matrix | null, xIsSparse = false, learningRate?: number): void {
    if (dx) this.kernels.matmulTransposeB(dy, this.weights, dx);
    if (this.biasGrad) this.kernels.addColumnSums(dy, this.biasGrad);
    if (learningRate === undefined) this.kernels.matmulTransposeAAdd(x, dy, this.weightGrad, xIsSparse);
    else this.kernels.matmulTransposeAAdd(x, dy, this.weights, xIsSparse, -learningRate);
  }
}
