/**
 * @file Layer Norm (Ba, Kiros & Hinton 2016): each example normalized over all the layer's units,
 * x̂ = (x − μ)/√(σ² + eps) with μ and σ² (biased) of that example, then y = γ·x̂ + β per unit.
 */
import type { Kernels } from '../core/kernels.js';
import { ExampleNorm } from './example-norm.js';

export class LayerNorm extends ExampleNorm {
  /** @param name the checkpoint prefix, `ln.{i}` */
  constructor(kernels: Kernels, name: string, features: number, eps: number, affine = true) {
    super(kernels, name, features, { groups: 1, centered: true, eps, affine });
  }
}
