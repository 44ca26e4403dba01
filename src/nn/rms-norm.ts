/**
 * @file RMSNorm (Zhang & Sennrich 2019): each example divided by the root mean square of its
 * units, y = γ·x/√(mean(x²) + eps), without centering and without β.
 */
import type { Kernels } from '../core/kernels.js';
import { ExampleNorm } from './example-norm.js';

export class RmsNorm extends ExampleNorm {
  /** @param name the checkpoint prefix, `rms.{i}` */
  constructor(kernels: Kernels, name: string, features: number, eps: number, affine = true) {
    super(kernels, name, features, { groups: 1, centered: false, eps, affine });
  }
}
