/**
 * @file Weight Normalization (Salimans & Kingma 2016) of a hidden linear layer: w = g·v/‖v‖ per
 * output unit (a column of the [in, out] matrix), y = x·w + b. Computed as the paper suggests, as
 * y = s·(x·v) + b with s = g/‖v‖ per unit (t = x·v is [batch, out], w is never formed), and back:
 * with dt = s·dy, ∇g = Σ_i dy·t/‖v‖ (= Σ ∇w∘v/‖v‖, since ∇w = xᵀ·dy), ∇v = xᵀ·dt − (g·∇g/‖v‖²)·v
 * (= g/‖v‖·∇w − g·∇g/‖v‖²·v) and dx = dt·vᵀ. The layer is a Dense whose `weights` are v (so the
 * network's initial weights are v's, and g starts at ‖v‖: w starts equal to them).
 *
 * Options (the paper's §2.2 and §3):
 * - mean-only batch normalization: y = s·(t − μ_B[t]) + b in training (its gradient through the
 *   batch mean, as BN's), and y = s·t − μ + b at inference with μ a moving mean of the
 *   pre-activation's batch mean s·μ_B[t] (decay `momentum`, as BN's);
 * - data-dependent initialization: the first training forward sets g = 1/σ[u], b = −μ[u]/σ[u]
 *   (b = 0 with mean-only, which removes the mean) for u = t/‖v‖ over that batch (σ biased, no
 *   eps; a unit whose σ is 0 keeps its g and b), so every unit's pre-activation has mean 0 and
 *   variance 1 on it; then the step goes on with those values. A network restored from a
 *   checkpoint counts as initialized.
 *
 * A training step updates v inside backward (updatedInBackward, as Dense's W): v ← v + lr·c·v,
 * then v ← v − lr·xᵀ·dt in the gradient kernel; g and b take the optimizer's path.
 */
import type { InputRows, Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { Dense } from './dense.js';
import { type CheckpointTensor, type ForwardPass, matrixTensor, type Parameter } from './layer.js';
import { allocated, RowBuffer } from './row-buffer.js';
import type { WeightNormOptions } from './spec.js';

export class WeightNormDense extends Dense {
  readonly options: Readonly<WeightNormOptions>;
  /** [1, out] the learnable scale g, and its gradient. */
  readonly g: Matrix;
  readonly gGrad: Matrix;
  /** [1, out] ‖v‖ per unit and s = g/‖v‖, from the latest forward. */
  readonly norms: Matrix;
  readonly scale: Matrix;
  /** [1, out] mean-only BN: the moving mean of the pre-activation's batch mean, for inference (starts at 0). */
  readonly movingMean: Matrix;
  /** Whether the data-dependent initialization has run (or is not asked for). */
  initialized: boolean;
  private readonly batchMean: Matrix; // [1, out] μ_B[t] of the latest training forward (mean-only)
  private readonly shift: Matrix; // [1, out] b − s·μ (mean-only), the forward's shift
  private readonly gStep: Matrix; // [1, out] this backward's ∇g
  private readonly coefficient: Matrix; // [1, out] g·∇g/‖v‖²
  private readonly wnParameters: Parameter[];
  private projection: RowBuffer | null = null; // [m, out] t = x·v
  private projectionGradient: RowBuffer | null = null; // [m, out] dt
  private lastForwardTrained = false;

  /** @param name the checkpoint prefix, `wn.{i}` */
  constructor(kernels: Kernels, name: string, inputs: number, outputs: number, options: WeightNormOptions) {
    super(kernels, name, inputs, outputs, true);
    this.options = Object.freeze({ ...options });
    this.initialized = options.init === 'none';
    this.g = kernels.matrix(1, outputs);
    this.gGrad = kernels.matrix(1, outputs);
    this.norms = kernels.matrix(1, outputs);
    this.scale = kernels.matrix(1, outputs);
    this.movingMean = kernels.matrix(1, outputs);
    this.batchMean = kernels.matrix(1, outputs);
    this.shift = kernels.matrix(1, outputs);
    this.gStep = kernels.matrix(1, outputs);
    this.coefficient = kernels.matrix(1, outputs);
    this.wnParameters = [
      { name: `${name}.v`, value: this.weights, grad: this.weightGrad, updatedInBackward: true },
      { name: `${name}.g`, value: this.g, grad: this.gGrad, updatedInBackward: false },
      { name: `${name}.bias`, value: this.bias!, grad: this.biasGrad!, updatedInBackward: false },
    ];
  }

  /** Buffers, and g = ‖v‖ for the v the network has set by now (so that w = v). */
  override allocate(maxRows: number, needsInputGradient: boolean): void {
    super.allocate(maxRows, needsInputGradient);
    this.projection = new RowBuffer(this.kernels, maxRows, this.outputs);
    this.projectionGradient = new RowBuffer(this.kernels, maxRows, this.outputs);
    this.resetScale();
  }

  /** g = ‖v‖ (w = v). */
  resetScale(): void {
    this.kernels.weightNormScale(this.weights, this.g, this.norms, this.scale);
    this.g.data.set(this.norms.data);
    this.scale.data.fill(1);
  }

  /** y = s·(x·v) + b (mean-only: s·(t − μ) + b); the first training forward initializes g and b from its batch first (with `data`). */
  override forward(x: InputRows, pass: ForwardPass): Matrix {
    const m = x.rows,
      y = allocated(this.output).rows(m),
      t = allocated(this.projection).rows(m);
    const train = pass.mode === 'train';
    this.multiplyInput(x, pass, t);
    this.kernels.weightNormScale(this.weights, this.g, this.norms, this.scale);
    if (train && !this.initialized) this.initializeFromBatch(t);
    this.lastForwardTrained = train;
    if (!this.options.meanOnly) {
      this.kernels.scaleShiftColumns(t, this.scale, this.bias!, y);
      return y;
    }
    const n = this.outputs,
      shift = this.shift.data,
      b = this.bias!.data,
      s = this.scale.data;
    if (train) {
      const mean = this.batchMean.data,
        moving = this.movingMean.data,
        decay = this.options.momentum;
      mean.fill(0);
      this.kernels.addColumnSums(t, this.batchMean);
      for (let j = 0; j < n; j++) {
        mean[j] = mean[j]! / m;
        shift[j] = b[j]! - s[j]! * mean[j]!;
        moving[j] = decay * moving[j]! + (1 - decay) * (s[j]! * mean[j]!);
      }
    } else {
      const moving = this.movingMean.data;
      for (let j = 0; j < n; j++) shift[j] = b[j]! - moving[j]!;
    }
    this.kernels.scaleShiftColumns(t, this.scale, this.shift, y);
    return y;
  }

  /**
   * dx = dt·vᵀ; ∇b += Σdy; ∇g += Σ dy·t/‖v‖; ∇v += xᵀ·dt − c·v, or with `learningRate` the SGD
   * step on v itself (v += lr·c·v, then v −= lr·xᵀ·dt in the gradient kernel).
   */
  override backward(x: InputRows, dy: Matrix, learningRate?: number): Matrix | null {
    if (this.options.meanOnly && !this.lastForwardTrained)
      throw new Error(`backward through ${this.name}'s mean-only batch normalization needs a training-mode forward (batch statistics)`);
    const m = x.rows,
      t = allocated(this.projection).rows(m),
      dt = allocated(this.projectionGradient).rows(m);
    this.kernels.weightNormBackward(dy, t, this.options.meanOnly ? this.batchMean : null, this.norms, this.scale, this.g, dt, this.gStep, this.coefficient);
    const gGrad = this.gGrad.data,
      gStep = this.gStep.data;
    for (let j = 0; j < this.outputs; j++) gGrad[j] += gStep[j]!;
    this.kernels.addColumnSums(dy, this.biasGrad!);
    const dx = this.inputGradient?.rows(m) ?? null;
    if (dx) this.multiplyGradient(x, dt, dx);
    if (learningRate === undefined) {
      this.addInputProduct(x, dt, this.weightGrad, 1);
      this.kernels.addScaledColumns(this.weights, this.coefficient, -1, this.weightGrad);
    } else {
      this.kernels.addScaledColumns(this.weights, this.coefficient, learningRate, this.weights);
      this.addInputProduct(x, dt, this.weights, -learningRate);
    }
    return dx;
  }

  override parameters(): readonly Parameter[] {
    return this.wnParameters;
  }

  /** The moving mean of mean-only batch normalization. */
  override state(): readonly CheckpointTensor[] {
    return this.options.meanOnly ? [matrixTensor(`${this.name}.moving_mean`, this.movingMean, [this.outputs])] : [];
  }

  /** wn.{i}.v [in, out], wn.{i}.g [out], wn.{i}.bias [out], wn.{i}.moving_mean [out] (mean-only). Restoring g marks the layer initialized. */
  override checkpointTensors(): readonly CheckpointTensor[] {
    const g = matrixTensor(`${this.name}.g`, this.g, [this.outputs]);
    return [
      matrixTensor(`${this.name}.v`, this.weights, [this.inputs, this.outputs]),
      {
        ...g,
        write: (values) => {
          g.write(values);
          this.initialized = true;
        },
      },
      matrixTensor(`${this.name}.bias`, this.bias!, [this.outputs]),
      ...this.state(),
    ];
  }

  /** The effective weights w = g·v/‖v‖ [in, out], as a new float64 array (for inspection and --init-from). */
  effectiveWeights(): Float64Array {
    this.kernels.weightNormScale(this.weights, this.g, this.norms, this.scale);
    const v = this.weights.data,
      s = this.scale.data,
      n = this.outputs,
      w = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) w[i] = s[i % n]! * v[i]!;
    return w;
  }

  /** The paper's §3 on t = x·v of the first training batch: g = 1/σ[u], b = −μ[u]/σ[u] (0 with mean-only), u = t/‖v‖. */
  private initializeFromBatch(t: Matrix): void {
    const m = t.rows,
      n = t.cols,
      T = t.data,
      norms = this.norms.data,
      g = this.g.data,
      b = this.bias!.data;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < m; i++) sum += T[i * n + j]!;
      const mean = sum / m;
      let squares = 0;
      for (let i = 0; i < m; i++) squares += (T[i * n + j]! - mean) ** 2;
      const norm = norms[j]!,
        sigma = Math.sqrt(squares / m) / norm,
        mu = mean / norm;
      if (!(sigma > 0) || !Number.isFinite(sigma)) continue;
      g[j] = 1 / sigma;
      b[j] = this.options.meanOnly ? 0 : -mu / sigma;
    }
    this.kernels.weightNormScale(this.weights, this.g, this.norms, this.scale);
    this.initialized = true;
  }
}
