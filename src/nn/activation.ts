/**
 * @file Element-wise activations: ReLU, sigmoid, tanh and identity. Backward is written through
 * the forward output y (ReLU: y > 0; sigmoid: y(1 − y); tanh: 1 − y²), so only y is kept.
 */
import type { ActivationKind, Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';

export class Activation {
  constructor(private readonly kernels: Kernels, readonly kind: ActivationKind) {}

  /** y = f(x); y may be x. */
  forward(x: Matrix, y: Matrix): void {
    this.kernels.activationForward(this.kind, x, y);
  }

  /** dx = dy ⊙ f'(x), from the forward output y; dx may be dy. */
  backward(y: Matrix, dy: Matrix, dx: Matrix): void {
    this.kernels.activationBackward(this.kind, y, dy, dx);
  }
}
