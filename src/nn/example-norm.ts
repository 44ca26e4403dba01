/**
 * @file What Layer Norm, Group Norm and RMSNorm share: a normalization whose statistics are each
 * example's own, over its units or a group of them (the `groupNorm*` kernels), with learnable
 * γ (and β where centered). No batch statistics, so inference is the training forward and there
 * is no running state; a batch of one is as good as any. Each norm is a small file on this.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { type CheckpointTensor, type ForwardPass, type Layer, matrixTensor, type Parameter } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';

export interface ExampleNormShape {
  /** Consecutive groups of units, each normalized alone (1: all units together). */
  groups: number;
  /** Subtract the mean (Layer, Group Norm); RMSNorm does not, and has no β. */
  centered: boolean;
  eps: number;
  /** Learn γ (and β where centered); false: y = x̂, no parameters (default true). */
  affine?: boolean;
}

export class ExampleNorm implements Layer {
  readonly gamma: Matrix | null; // [1, n] learnable scale, starts at 1 (null without affine)
  readonly beta: Matrix | null; // [1, n] learnable shift, starts at 0 (centered affine norms only)
  readonly gammaGrad: Matrix | null;
  readonly betaGrad: Matrix | null;
  readonly groups: number;
  readonly centered: boolean;
  readonly eps: number;
  private readonly parameterList: Parameter[];
  private output: RowBuffer | null = null; // [m, n] y
  private xhat: RowBuffer | null = null; // [m, n] normalized input
  private invStd: RowBuffer | null = null; // [m, groups] 1/√(σ² + eps) per example and group
  private inputGradient: RowBuffer | null = null; // [m, n] ∂L/∂x

  /** @param name the checkpoint prefix, e.g. `ln.{i}` */
  constructor(
    private readonly kernels: Kernels,
    readonly name: string,
    readonly features: number,
    shape: ExampleNormShape,
  ) {
    if (!Number.isInteger(shape.groups) || shape.groups < 1 || features % shape.groups !== 0) {
      throw new RangeError(`--norm-groups ${shape.groups} does not divide the layer width ${features}: Group Norm needs groups of equal size`);
    }
    this.groups = shape.groups;
    this.centered = shape.centered;
    this.eps = shape.eps;
    const affine = shape.affine ?? true;
    this.gamma = affine ? kernels.matrix(1, features) : null;
    this.gamma?.data.fill(1);
    this.gammaGrad = affine ? kernels.matrix(1, features) : null;
    this.beta = affine && shape.centered ? kernels.matrix(1, features) : null;
    this.betaGrad = affine && shape.centered ? kernels.matrix(1, features) : null;
    this.parameterList = [];
    if (this.gamma && this.gammaGrad) this.parameterList.push({ name: `${name}.gamma`, value: this.gamma, grad: this.gammaGrad, updatedInBackward: false });
    if (this.beta && this.betaGrad) this.parameterList.push({ name: `${name}.beta`, value: this.beta, grad: this.betaGrad, updatedInBackward: false });
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
    this.invStd = new RowBuffer(this.kernels, maxRows, this.groups);
    this.inputGradient = needsInputGradient ? new RowBuffer(this.kernels, maxRows, this.features) : null;
  }

  /** y = γ·x̂ + β with each example's own statistics, the same in training and inference. */
  forward(x: Matrix, _pass?: ForwardPass): Matrix {
    const m = x.rows,
      y = allocated(this.output).rows(m);
    this.kernels.groupNormForward(
      x,
      this.groups,
      this.centered,
      this.eps,
      this.gamma,
      this.beta,
      allocated(this.invStd).rows(m),
      allocated(this.xhat).rows(m),
      y,
    );
    return y;
  }

  /** dx through each example's μ and σ²; dγ += Σ dy·x̂; dβ += Σ dy. Needs a forward of the same batch. */
  backward(x: Matrix, dy: Matrix): Matrix | null {
    const m = x.rows,
      dx = allocated(this.inputGradient).rows(m);
    this.kernels.groupNormBackward(
      dy,
      allocated(this.xhat).rows(m),
      allocated(this.invStd).rows(m),
      this.groups,
      this.centered,
      this.gamma,
      dx,
      this.gammaGrad,
      this.betaGrad,
    );
    return dx;
  }

  parameters(): readonly Parameter[] {
    return this.parameterList;
  }

  /** Nothing learned without gradients: no running statistics. */
  state(): readonly CheckpointTensor[] {
    return [];
  }

  /** {name}.gamma [features], and {name}.beta where centered; nothing without affine. */
  checkpointTensors(): readonly CheckpointTensor[] {
    return this.parameterList.map(({ name, value }) => matrixTensor(name, value, [this.features]));
  }

  /** The latest forward's x̂ [m, n] and output [m, n] buffers (for experiments that look inside). */
  buffersFor(rows: number): { xhat: Matrix; output: Matrix } {
    return { xhat: allocated(this.xhat).rows(rows), output: allocated(this.output).rows(rows) };
  }

  /** ∂L/∂x [m, n] of the latest backward of m rows. */
  inputGradientFor(rows: number): Matrix {
    return allocated(this.inputGradient).rows(rows);
  }
}
