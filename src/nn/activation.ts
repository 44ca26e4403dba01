/**
 * @file Element-wise activations as a layer: ReLU, sigmoid, tanh and identity. Backward is
 * written through the forward output y (ReLU: y > 0; sigmoid: y(1 − y); tanh: 1 − y²), so only y
 * is kept, and it multiplies dy in place: no buffer for the input gradient.
 */
import type { ActivationKind, Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import type { CheckpointTensor, ForwardPass, Layer, Parameter } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';

export class Activation implements Layer {
  private output: RowBuffer | null = null; // [m, n] f(x)
  /**
   * A ReLU whose upstream gradient arrives already +0 wherever y ≤ 0 (the linear layer above sums
   * dY·Wᵀ only where y > 0: Dense.inputFromRelu): its backward would change no bit, so it is not
   * run. Set by the network.
   */
  gradientArrivesMasked = false;

  constructor(
    private readonly kernels: Kernels,
    readonly kind: ActivationKind,
    readonly features: number,
  ) {}

  get inputWidth(): number {
    return this.features;
  }

  get outputWidth(): number {
    return this.features;
  }

  allocate(maxRows: number): void {
    this.output = new RowBuffer(this.kernels, maxRows, this.features);
  }

  /** y = f(x). */
  forward(x: Matrix, _pass?: ForwardPass): Matrix {
    const y = allocated(this.output).rows(x.rows);
    this.kernels.activationForward(this.kind, x, y);
    return y;
  }

  /** dy ⊙ f'(x), from the forward output y, into dy itself (returned). */
  backward(x: Matrix, dy: Matrix): Matrix {
    if (!(this.gradientArrivesMasked && this.kind === 'relu')) this.kernels.activationBackward(this.kind, allocated(this.output).rows(x.rows), dy, dy);
    return dy;
  }

  /** f(x) [m, n] of the latest forward of m rows. */
  outputFor(rows: number): Matrix {
    return allocated(this.output).rows(rows);
  }

  parameters(): readonly Parameter[] {
    return [];
  }

  state(): readonly CheckpointTensor[] {
    return [];
  }

  checkpointTensors(): readonly CheckpointTensor[] {
    return [];
  }
}
