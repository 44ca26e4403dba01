/**
 * @file Plain stochastic gradient descent, the article's GradientDescentOptimizer: p −= lr·∂L/∂p.
 */
import type { Kernels } from '../core/kernels.js';
import type { Parameter } from './layer.js';

export class Sgd {
  constructor(
    private readonly kernels: Kernels,
    public learningRate: number,
  ) {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new RangeError(`the learning rate must be a positive number, got ${learningRate}`);
  }

  step(parameters: readonly Parameter[]): void {
    for (const { value, grad } of parameters) this.kernels.sgdStep(value, grad, this.learningRate);
  }
}
