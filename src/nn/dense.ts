/**
 * @file Dense (fully connected) layer: y = x·W (+ b), weights stored [in, out] as in the
 * article's TensorFlow code. Forward and backward side by side; backward accumulates, or applies
 * SGD to W inside its gradient kernel during a training step.
 */
import type { InputRows, Kernels, SparseRows, ZeroSkipping } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { type CheckpointTensor, type ForwardPass, type Layer, matrixTensor, type Parameter } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';

export class Dense implements Layer {
  readonly weights: Matrix; // [in, out]
  readonly weightGrad: Matrix; // [in, out]
  readonly bias: Matrix | null; // [1, out]
  readonly biasGrad: Matrix | null; // [1, out]
  /**
   * What the products do with the zeros of x: skip them (true: raw pixels, the first layer), skip
   * them where a count shows it pays ('measure': a ReLU's outputs), or multiply them. Set by the network.
   */
  inputZeros: ZeroSkipping = false;
  /** 'measure' where ∂L/∂y may be all zeros (the layer feeds a ReLU that may die): dY·Wᵀ and xᵀ·dY are then not multiplied out. Set by the network. */
  outputGradientZeros: ZeroSkipping = false;
  /**
   * x is the output of a ReLU whose backward alone reads dx: dY·Wᵀ is then summed only where x > 0
   * (the rest would be zeroed by that backward), with the same bits. Set by the network.
   */
  inputFromRelu = false;
  private readonly parameterList: Parameter[];
  protected output: RowBuffer | null = null; // [m, out] x·W (+ b)
  protected inputGradient: RowBuffer | null = null; // [m, in] ∂L/∂x
  /** The nonzeros of the float input of the latest training forward (inputZeros true), which backward's xᵀ·dY reads again. */
  private packedInput: SparseRows | null = null;
  /** The input they were packed from, or null when the latest forward packed nothing. */
  private packedFrom: Matrix | null = null;

  /** @param name the checkpoint prefix, `dense.{i}` */
  constructor(
    protected readonly kernels: Kernels,
    readonly name: string,
    readonly inputs: number,
    readonly outputs: number,
    useBias: boolean,
  ) {
    this.weights = kernels.matrix(inputs, outputs);
    this.weightGrad = kernels.matrix(inputs, outputs);
    this.bias = useBias ? kernels.matrix(1, outputs) : null;
    this.biasGrad = useBias ? kernels.matrix(1, outputs) : null;
    this.parameterList = [{ name: `${name}.weight`, value: this.weights, grad: this.weightGrad, updatedInBackward: true }];
    if (this.bias && this.biasGrad) this.parameterList.push({ name: `${name}.bias`, value: this.bias, grad: this.biasGrad, updatedInBackward: false });
  }

  get inputWidth(): number {
    return this.inputs;
  }

  get outputWidth(): number {
    return this.outputs;
  }

  allocate(maxRows: number, needsInputGradient: boolean): void {
    this.output = new RowBuffer(this.kernels, maxRows, this.outputs);
    this.inputGradient = needsInputGradient ? new RowBuffer(this.kernels, maxRows, this.inputs) : null;
  }

  /** y[m,out] = x[m,in]·W + b; x may be given as its nonzeros (a first layer's input: SparseRows). */
  forward(x: InputRows, pass?: ForwardPass): Matrix {
    const y = allocated(this.output).rows(x.rows);
    this.multiplyInput(x, pass, y);
    if (this.bias) this.kernels.addRowVector(y, this.bias);
    return y;
  }

  /**
   * dx = dy·Wᵀ (none for a first layer); db += Σ_rows dy; then dW += xᵀ·dy, or, given
   * `learningRate`, the SGD update W −= lr·xᵀ·dy straight into the weights (weightGrad
   * untouched): one pass over W instead of three (zero the gradient, accumulate it, apply it).
   * dx is computed first because it needs W before the update.
   */
  backward(x: InputRows, dy: Matrix, learningRate?: number): Matrix | null {
    const dx = this.inputGradient?.rows(x.rows) ?? null;
    if (dx) this.multiplyGradient(x, dy, dx);
    if (this.biasGrad) this.kernels.addColumnSums(dy, this.biasGrad);
    if (learningRate === undefined) this.addInputProduct(x, dy, this.weightGrad, 1);
    else this.addInputProduct(x, dy, this.weights, -learningRate);
    return dx;
  }

  /**
   * out = x·W. Float rows whose zeros are skipped (inputZeros true) are packed once in a training
   * forward, and backward's xᵀ·dY reads the same nonzeros: the same bits as each product finding
   * them itself. Rows given as their nonzeros are read as they are.
   */
  protected multiplyInput(x: InputRows, pass: ForwardPass | undefined, out: Matrix): void {
    this.packedFrom = null;
    if (!(x instanceof Matrix)) {
      this.kernels.matmulSparseRows(x, this.weights, out);
    } else if (this.inputZeros === true && pass?.mode === 'train') {
      this.kernels.matmulSparseRows(this.pack(x), this.weights, out);
      this.packedFrom = x;
    } else {
      this.kernels.matmul(x, this.weights, out, this.inputZeros);
    }
  }

  /** dx = dy·Wᵀ, only where x > 0 when x is a ReLU's output (inputFromRelu; +0 elsewhere). */
  protected multiplyGradient(x: InputRows, dy: Matrix, dx: Matrix): void {
    this.kernels.matmulTransposeB(dy, this.weights, dx, this.outputGradientZeros, this.inputFromRelu && x instanceof Matrix ? x : undefined);
  }

  /** target += scale·xᵀ·dy, from the nonzeros the forward packed where it did (x: the latest forward's input, unchanged). */
  protected addInputProduct(x: InputRows, dy: Matrix, target: Matrix, scale: number): void {
    const packed = x instanceof Matrix ? (x === this.packedFrom ? this.packedInput : null) : x;
    if (packed) this.kernels.matmulTransposeAAddSparseRows(packed, dy, target, scale, this.outputGradientZeros);
    else this.kernels.matmulTransposeAAdd(x as Matrix, dy, target, this.inputZeros, scale, this.outputGradientZeros);
  }

  /** x's nonzeros, in room made for the largest training batch so far. */
  private pack(x: Matrix): SparseRows {
    if (!this.packedInput || this.packedInput.maxRows < x.rows) this.packedInput = this.kernels.sparseRows(x.rows, this.inputs);
    this.kernels.packRows(x, this.packedInput);
    return this.packedInput;
  }

  parameters(): readonly Parameter[] {
    return this.parameterList;
  }

  state(): readonly CheckpointTensor[] {
    return [];
  }

  /** dense.{i}.weight [in, out], dense.{i}.bias [out] where the layer has one. */
  checkpointTensors(): readonly CheckpointTensor[] {
    const tensors = [matrixTensor(`${this.name}.weight`, this.weights, [this.inputs, this.outputs])];
    if (this.bias) tensors.push(matrixTensor(`${this.name}.bias`, this.bias, [this.outputs]));
    return tensors;
  }

  /** The output buffer of the latest forward of m rows (for experiments that look inside). */
  outputFor(rows: number): Matrix {
    return allocated(this.output).rows(rows);
  }

  /** ∂L/∂x [m, in] of the latest backward of m rows. */
  inputGradientFor(rows: number): Matrix {
    return allocated(this.inputGradient).rows(rows);
  }
}
