/**
 * @file Noise after a normalization, for experiments (Santurkar et al. 2018's "noisy BN"): in a
 * training-mode forward every unit j of the layer's output is scaled and shifted, y′ = s_j·y + m_j,
 * with s_j ~ U(scaleLow, scaleHigh) and m_j ~ U(−shiftRange, shiftRange) drawn afresh at every
 * forward, so the next layer's input distribution moves at every step on purpose. At inference
 * the noise is replaced by its mean (s̄ = (scaleLow + scaleHigh)/2, m̄ = 0). In place on the
 * normalization's output; no parameters, no state, nothing in a checkpoint.
 *
 * A network takes such layers through `NetworkOptions.afterNorm` (mlp.ts), which puts one right
 * after each hidden layer's normalization with `insertAfterNorms` below.
 */
import type { Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';
import type { CheckpointTensor, ForwardPass, Layer, Parameter } from './layer.js';

export interface ActivationNoiseOptions {
  /** m_j ~ U(−shiftRange, shiftRange) */
  shiftRange: number;
  /** s_j ~ U(scaleLow, scaleHigh) */
  scaleLow: number;
  scaleHigh: number;
}

export class ActivationNoise implements Layer {
  /** The current sample: per unit, scale and shift. */
  readonly scale: Float32Array;
  readonly shift: Float32Array;
  /** False: a training-mode forward keeps the current sample (an experiment repeating one step's forward). */
  resampling = true;

  constructor(
    readonly features: number,
    private readonly rng: Rng,
    readonly options: Readonly<ActivationNoiseOptions>,
  ) {
    if (!(options.shiftRange >= 0) || !(options.scaleLow > 0) || !(options.scaleHigh >= options.scaleLow)) {
      throw new RangeError(`activation noise needs shiftRange ≥ 0 and 0 < scaleLow ≤ scaleHigh, got ${JSON.stringify(options)}`);
    }
    this.scale = new Float32Array(features).fill(1);
    this.shift = new Float32Array(features);
  }

  get inputWidth(): number {
    return this.features;
  }

  get outputWidth(): number {
    return this.features;
  }

  allocate(): void {
    // In place: nothing to allocate.
  }

  /** Draws a new scale and shift for every unit. */
  resample(): void {
    const { shiftRange, scaleLow, scaleHigh } = this.options;
    for (let j = 0; j < this.features; j++) {
      this.scale[j] = scaleLow + (scaleHigh - scaleLow) * this.rng.uniform();
      this.shift[j] = shiftRange * (2 * this.rng.uniform() - 1);
    }
  }

  /** y′ = s·y + m per unit, in place (training); s̄·y at inference. */
  forward(x: Matrix, pass: ForwardPass): Matrix {
    const n = this.features,
      data = x.data;
    if (pass.mode !== 'train') {
      const mean = (this.options.scaleLow + this.options.scaleHigh) / 2;
      if (mean !== 1) for (let k = 0; k < x.rows * n; k++) data[k] = data[k]! * mean;
      return x;
    }
    if (this.resampling) this.resample();
    for (let i = 0; i < x.rows; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) data[row + j] = data[row + j]! * this.scale[j]! + this.shift[j]!;
    }
    return x;
  }

  /** ∂L/∂y = s·∂L/∂y′, in place. */
  backward(_x: Matrix, dy: Matrix): Matrix {
    const n = this.features,
      data = dy.data;
    for (let i = 0; i < dy.rows; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) data[row + j] = data[row + j]! * this.scale[j]!;
    }
    return dy;
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

/**
 * The layer sequence with `make(l, width)`'s layer (if any) right after hidden layer l's
 * normalization; hidden layers without a normalization are left as they are.
 */
export function insertAfterNorms(
  built: { layers: readonly Layer[]; hidden: ReadonlyArray<{ norm: Layer | null }> },
  make: (hiddenLayer: number, width: number) => Layer | null,
): Layer[] {
  const layers = [...built.layers];
  built.hidden.forEach(({ norm }, l) => {
    if (!norm) return;
    const extra = make(l, norm.outputWidth);
    if (extra) layers.splice(layers.indexOf(norm) + 1, 0, extra);
  });
  return layers;
}
