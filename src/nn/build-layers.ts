/**
 * @file From a spec to the sequence of layers, in the article's order: every hidden layer is
 * act([norm](x·W (+ b))), or with `placement: 'post'` norm(act(x·W + b)), the output layer x·W + b
 * (logits); under Weight Norm the hidden linear layers are WeightNormDense (`wn.{i}`). A new kind of layer is its own file
 * and a line here; checkpoint names (`dense.{i}`, `bn.{i}`, `brn.{i}`, `ghost.{i}`, `ln.{i}`, `gn.{i}`,
 * `rms.{i}`) are
 * given here, once.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { Activation } from './activation.js';
import { BatchNorm } from './batch-norm.js';
import { BatchRenorm } from './batch-renorm.js';
import { Dense } from './dense.js';
import { GhostBatchNorm } from './ghost-batch-norm.js';
import { GroupNorm } from './group-norm.js';
import type { Layer } from './layer.js';
import { LayerNorm } from './layer-norm.js';
import { RmsNorm } from './rms-norm.js';
import { layerShapes, type NetworkSpec } from './spec.js';
import { WeightNormDense } from './weight-norm.js';

/** A normalization layer, with the buffers experiments look at. */
export interface NormLayer extends Layer {
  buffersFor(rows: number): { xhat: Matrix; output: Matrix };
  inputGradientFor(rows: number): Matrix;
}

/** The layers of one hidden layer of the article's network, by role (for experiments that look inside). */
export interface HiddenBlock {
  dense: Dense;
  /** Its normalization, of any kind, or null. */
  norm: NormLayer | null;
  /** The same layer when it is plain BatchNorm (what BN's views and claims read; not its successors), else null. */
  batchNorm: BatchNorm | null;
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
  const hidden = spec.hiddenSizes.map((width, l): HiddenBlock => {
    const norm = normLayer(kernels, spec, l, width);
    const inputs = shapes[l]![0];
    return {
      dense: spec.weightNorm
        ? new WeightNormDense(kernels, `wn.${l}`, inputs, width, spec.weightNorm)
        : new Dense(kernels, `dense.${l}`, inputs, width, spec.hiddenBias),
      norm,
      batchNorm: spec.norm === 'bn' ? (norm as BatchNorm) : null,
      activation: new Activation(kernels, spec.activation, width),
    };
  });
  const [inputs, outputs] = shapes[shapes.length - 1]!;
  const output = new Dense(kernels, `dense.${shapes.length - 1}`, inputs, outputs, true);
  const post = spec.placement === 'post';
  const layers = hidden.flatMap(({ dense, norm, activation }): Layer[] =>
    !norm ? [dense, activation] : post ? [dense, activation, norm] : [dense, norm, activation],
  );
  return { layers: [...layers, output], hidden, dense: [...hidden.map((block) => block.dense), output] };
}

/** The normalization of hidden layer `l` (of `width` units) the spec asks for, or null. */
function normLayer(kernels: Kernels, spec: NetworkSpec, l: number, width: number): NormLayer | null {
  const eps = spec.exampleNorm?.eps ?? 0,
    affine = spec.exampleNorm?.affine ?? true;
  switch (spec.norm) {
    case 'none':
      return null;
    case 'wn':
      return null; // no layer of its own: the hidden linear layers are WeightNormDense
    case 'bn':
      return new BatchNorm(kernels, `bn.${l}`, width, spec.batchNorm!);
    case 'brn':
      return new BatchRenorm(kernels, `brn.${l}`, width, spec.renorm!);
    case 'ghost':
      return new GhostBatchNorm(kernels, `ghost.${l}`, width, spec.ghost!);
    case 'ln':
      return new LayerNorm(kernels, `ln.${l}`, width, eps, affine);
    case 'gn':
      return new GroupNorm(kernels, `gn.${l}`, width, spec.exampleNorm!.groups, eps, affine);
    case 'rms':
      return new RmsNorm(kernels, `rms.${l}`, width, eps, affine);
    default:
      spec.norm satisfies never;
      throw new RangeError(`unknown normalization ${String(spec.norm)}`);
  }
}
