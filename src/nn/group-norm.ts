/**
 * @file Group Norm (Wu & He 2018) for [batch, features] data: each example's units in `groups`
 * consecutive groups, each normalized by its own mean and biased variance, then y = γ·x̂ + β per
 * unit. One group is Layer Norm; as many groups as units normalizes each unit alone (instance-norm-like).
 */
import type { Kernels } from '../core/kernels.js';
import { ExampleNorm } from './example-norm.js';

export class GroupNorm extends ExampleNorm {
  /** @param name the checkpoint prefix, `gn.{i}` */
  constructor(kernels: Kernels, name: string, features: number, groups: number, eps: number, affine = true) {
    super(kernels, name, features, { groups, centered: true, eps, affine });
  }
}
