/**
 * @file From a spec to the sequence of layers, in the article's order: every hidden layer is
 * act([BN](x·W (+ b))), the output layer x·W + b (logits). A new kind of layer is its own file
 * and a line here; checkpoint names (`dense.{i}`, `bn.{i}`) are given here, once.
 */
import type { Kernels } from '../core/kernels.js';
import { Activation } from './activation.js';
import { BatchNorm } from './batch-norm.js';
import { Dense } from './dense.js';
import type { Layer } from './layer.js';
import { layerShapes, type NetworkSpec } from './spec.js';

/** The layers of one hidden layer of the article's network, by role (for experiments that look inside). */
export interface HiddenBlock {
  dense: Dense;
  norm: BatchNorm | null;
  activation: Activation;
}

export interface NetworkLayers {
  /** Input to logits. */
  layers: Layer[];
  hidden: HiddenBlock[];
  /** Every linear layer, first to last (the output layer last). */
  dense: Dense[];
}

export function buildLayers(kernels: Kernels, spec: NetworkSpec): NetworkLayers {
  const shapes = layerShapes(spec);
  const hidden = spec.hiddenSizes.map((width, l): HiddenBlock => ({
    dense: new Dense(kernels, `dense.${l}`, shapes[l]![0], width, spec.hiddenBias),
    norm: spec.batchNorm ? new BatchNorm(kernels, `bn.${l}`, width, spec.batchNorm) : null,
    activation: new Activation(kernels, spec.activation, width),
  }));
  const [inputs, outputs] = shapes[shapes.length - 1]!;
  const output = new Dense(kernels, `dense.${shapes.length - 1}`, inputs, outputs, true);
  const layers = hidden.flatMap(({ dense, norm, activation }): Layer[] => (norm ? [dense, norm, activation] : [dense, activation]));
  return { layers: [...layers, output], hidden, dense: [...hidden.map((block) => block.dense), output] };
}
