/**
 * @file Building the article's networks from a config: one network, or several (without and
 * with BN, or any norms) from the same initial weight matrices (the article's `initial_weights` list).
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { Rng } from '../core/rng.js';
import { MNIST_CLASSES, MNIST_IMAGE_SIDE } from '../data/mnist.js';
import { drawInitialWeights, MLP } from '../nn/mlp.js';
import { layerShapes, type NormKind } from '../nn/spec.js';
import { CheckpointError, describeNetwork, type ExpectedLayout } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { largestBatch, specFromConfig } from './config.js';
import { deriveSeed } from './seeds.js';

/** Inputs of the article's network: one per pixel of a 28 × 28 image. */
export const MNIST_INPUTS = MNIST_IMAGE_SIDE * MNIST_IMAGE_SIDE;

/** Refuses (CheckpointError) a network that cannot read MNIST: 784 inputs (28 × 28 pixels), 10 outputs (digits). */
export function assertMnistNetwork(spec: ExpectedLayout, source: string): void {
  if (spec.inputSize !== MNIST_INPUTS || spec.outputSize !== MNIST_CLASSES) {
    throw new CheckpointError(
      `${source} holds a ${describeNetwork(spec)} network, but MNIST needs ${MNIST_INPUTS} inputs (28 × 28 pixels) and ${MNIST_CLASSES} outputs (the digits): give a checkpoint of an MNIST network (bnlab train --save).`,
    );
  }
}

/** The initial weights a config's seed gives: N(0, initStd²) for every linear layer. */
export function initialWeightsFor(config: TrainConfig, inputSize = MNIST_INPUTS, outputSize = MNIST_CLASSES): Matrix[] {
  const spec = specFromConfig(config, inputSize, outputSize);
  return drawInitialWeights(spec, config.initStd, new Rng(deriveSeed(config.seed, 'weights')));
}

/**
 * A network for `config` with the norm `norm` (true/false: BN or none), from `initialWeights`
 * (default: drawn from the seed), sized for the config's batches.
 */
export function buildNetwork(
  kernels: Kernels,
  config: TrainConfig,
  norm: NormKind | boolean,
  initialWeights: Matrix[] = initialWeightsFor(config),
  inputSize = MNIST_INPUTS,
  outputSize = MNIST_CLASSES,
): MLP {
  const spec = specFromConfig(config, inputSize, outputSize, norm);
  const expected = layerShapes(spec);
  initialWeights.forEach((weights, i) => {
    const shape = expected[i];
    if (!shape || weights.rows !== shape[0] || weights.cols !== shape[1]) {
      throw new RangeError(
        `the initial weights are for a ${describeWeights(initialWeights)} network, but the settings ask for ${[inputSize, ...config.hiddenSizes, outputSize].join('-')}`,
      );
    }
  });
  return new MLP(kernels, spec, initialWeights, { maxBatchSize: largestBatch(config) });
}

function describeWeights(weights: Matrix[]): string {
  return [weights[0]?.rows ?? 0, ...weights.map((w) => w.cols)].join('-');
}
