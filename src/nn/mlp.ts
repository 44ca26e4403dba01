/**
 * @file The article's network as code: hidden = act([BN](x·W (+ b))), output = x·W + b (logits).
 * A network owns its parameters and, per batch size it has seen, one workspace of activation and
 * gradient buffers, so a training step after the first allocates nothing.
 */
import type { Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';
import { Activation } from './activation.js';
import { BatchNorm, type BatchNormCache } from './batch-norm.js';
import { Dense } from './dense.js';
import type { ExampleSource } from './example-source.js';
import { countCorrect, type Labels } from './softmax-cross-entropy.js';
import type { Sgd } from './sgd.js';
import { layerShapes, validateSpec, type Mode, type NetworkSpec } from './spec.js';

/** A learnable tensor and its gradient buffer, named as in checkpoints. */
export interface Parameter {
  name: string;
  value: Matrix;
  grad: Matrix;
}

/** The buffers of one hidden layer for one batch size m (h = the layer's width). */
export interface HiddenBuffers {
  linear: Matrix; // [m, h] x·W (+ b)
  preActivation: Matrix; // [m, h] BN(linear), or linear itself without BN: the activation's input
  activation: Matrix; // [m, h] f(preActivation): the next layer's input
  dActivation: Matrix; // [m, h] ∂L/∂activation, then ∂L/∂preActivation in place
  dLinear: Matrix; // [m, h] ∂L/∂linear (dActivation itself without BN)
  bnCache: BatchNormCache | null;
}

interface Workspace {
  input: Matrix; // [m, inputSize]
  hidden: HiddenBuffers[];
  logits: Matrix; // [m, outputSize]
  dLogits: Matrix; // [m, outputSize]
}

export interface Evaluation {
  accuracy: number;
  loss: number;
  correct: number;
  count: number;
}

export class MLP {
  readonly spec: NetworkSpec;
  readonly dense: Dense[]; // hidden layers, then the output layer
  readonly norms: Array<BatchNorm | null>; // one per hidden layer
  readonly activation: Activation;
  /** The input is mostly zeros (raw MNIST pixels): the first layer's kernels may skip them. */
  sparseInput = false;
  private readonly workspaces = new Map<number, Workspace>();
  private lastWorkspace: Workspace | null = null;
  private lastMode: Mode | null = null;
  private vectorParameterList: Parameter[] | null = null;

  /**
   * @param initialWeights one [in, out] matrix per linear layer (see `drawInitialWeights`);
   *   biases start at 0, gamma at 1, beta at 0. Two networks built from the same matrices start
   *   from the same weights, whatever their BatchNorm settings.
   */
  constructor(readonly kernels: Kernels, spec: NetworkSpec, initialWeights: readonly Matrix[]) {
    validateSpec(spec);
    this.spec = structuredClone(spec);
    const shapes = layerShapes(spec);
    if (initialWeights.length !== shapes.length) {
      throw new RangeError(`the network has ${shapes.length} linear layers but ${initialWeights.length} initial weight matrices were given`);
    }
    this.dense = shapes.map(([inputs, outputs], i) => {
      const isOutput = i === shapes.length - 1;
      const layer = new Dense(kernels, inputs, outputs, isOutput || spec.hiddenBias);
      const weights = initialWeights[i]!;
      if (weights.rows !== inputs || weights.cols !== outputs) {
        throw new RangeError(`initial weights ${i} are ${weights.rows}x${weights.cols}, the layer needs ${inputs}x${outputs}`);
      }
      layer.weights.data.set(weights.data);
      return layer;
    });
    this.norms = spec.hiddenSizes.map((width) => (spec.batchNorm ? new BatchNorm(kernels, width, spec.batchNorm) : null));
    this.activation = new Activation(kernels, spec.activation);
  }

  /** Learnable parameters with their gradients: dense.{i}.weight/bias, bn.{i}.gamma/beta. */
  parameters(): Parameter[] {
    const list: Parameter[] = [];
    this.dense.forEach((layer, i) => {
      list.push({ name: `dense.${i}.weight`, value: layer.weights, grad: layer.weightGrad });
      if (layer.bias && layer.biasGrad) list.push({ name: `dense.${i}.bias`, value: layer.bias, grad: layer.biasGrad });
    });
    this.norms.forEach((norm, i) => {
      if (norm?.gamma && norm.gammaGrad) list.push({ name: `bn.${i}.gamma`, value: norm.gamma, grad: norm.gammaGrad });
      if (norm?.beta && norm.betaGrad) list.push({ name: `bn.${i}.beta`, value: norm.beta, grad: norm.betaGrad });
    });
    return list;
  }

  zeroGrad(): void {
    for (const { grad } of this.parameters()) grad.data.fill(0);
  }

  /** An input matrix of `batchSize` rows in the backend's memory: fill it, then call forward. */
  inputFor(batchSize: number): Matrix {
    return this.workspace(batchSize).input;
  }

  /** Buffers of the hidden layers from the latest forward (for experiments that look inside). */
  hiddenBuffers(batchSize: number): readonly HiddenBuffers[] {
    return this.workspace(batchSize).hidden;
  }

  /**
   * Logits [m, outputSize] for x [m, inputSize]. `train`: BatchNorm uses batch statistics and
   * updates its estimates; `infer`: population statistics. The result is a workspace buffer,
   * valid until the next forward with the same batch size.
   */
  forward(x: Matrix, mode: Mode): Matrix {
    if (x.cols !== this.spec.inputSize) throw new RangeError(`the network takes ${this.spec.inputSize} inputs per example, got ${x.cols}`);
    const ws = this.workspace(x.rows);
    let input = x;
    for (let l = 0; l < this.spec.hiddenSizes.length; l++) {
      const buffers = ws.hidden[l]!;
      this.dense[l]!.forward(input, buffers.linear, l === 0 && this.sparseInput);
      const norm = this.norms[l];
      if (norm) norm.forward(buffers.linear, buffers.preActivation, mode, buffers.bnCache!);
      this.activation.forward(buffers.preActivation, buffers.activation);
      input = buffers.activation;
    }
    this.dense[this.dense.length - 1]!.forward(input, ws.logits, this.spec.hiddenSizes.length === 0 && this.sparseInput);
    this.lastWorkspace = ws;
    this.lastMode = mode;
    return ws.logits;
  }

  /** Adds ∂L/∂(every parameter) into the gradients, given ∂L/∂logits of the latest forward (which must be a training-mode one). */
  backward(x: Matrix, dLogits: Matrix): void {
    this.backpropagate(x, dLogits, undefined);
  }

  /**
   * backward, where `weightLearningRate` (if given) applies each weight matrix's SGD update
   * inside its gradient kernel instead of adding to weightGrad; biases, γ and β get gradients.
   */
  private backpropagate(x: Matrix, dLogits: Matrix, weightLearningRate: number | undefined): void {
    const ws = this.lastWorkspace;
    if (!ws || ws.logits.rows !== x.rows) throw new Error('backward needs a forward pass on the same batch first');
    if (this.lastMode !== 'train' && this.norms.some((norm) => norm !== null)) {
      throw new Error('backward through BatchNorm needs a training-mode forward (batch statistics)');
    }
    const hiddenCount = this.spec.hiddenSizes.length;
    let upstream = dLogits;
    for (let l = hiddenCount; l >= 0; l--) {
      const layerInput = l === 0 ? x : ws.hidden[l - 1]!.activation;
      const dInput = l === 0 ? null : ws.hidden[l - 1]!.dActivation;
      this.dense[l]!.backward(layerInput, upstream, dInput, l === 0 && this.sparseInput, weightLearningRate);
      if (l === 0) break;
      const below = ws.hidden[l - 1]!;
      this.activation.backward(below.activation, below.dActivation, below.dActivation);
      const norm = this.norms[l - 1];
      if (norm) norm.backward(below.dActivation, below.dLinear, below.bnCache!);
      upstream = below.dLinear;
    }
  }

  /** Mean softmax cross-entropy of the latest logits against labels; writes ∂loss/∂logits into the workspace. */
  lossAndGradient(labels: Labels): { loss: number; dLogits: Matrix } {
    const ws = this.lastWorkspace;
    if (!ws) throw new Error('lossAndGradient needs a forward pass first');
    return { loss: this.kernels.softmaxCrossEntropy(ws.logits, labels, ws.dLogits), dLogits: ws.dLogits };
  }

  /**
   * One SGD step on a batch: forward (training mode), loss, backward, update. Returns the batch's
   * mean loss. The weight matrices (99.7% of the parameters) are updated inside their gradient
   * kernels as backward reaches them (the same numbers as gradient-then-update, see
   * `Kernels.matmulTransposeAAdd`); the small vectors (biases, γ, β) take the optimizer's usual path.
   * weightGrad is therefore not filled by trainStep: call computeGradients for gradients.
   */
  trainStep(x: Matrix, labels: Labels, optimizer: Sgd): number {
    const vectors = this.vectorParameters();
    for (const { grad } of vectors) grad.data.fill(0);
    this.forward(x, 'train');
    const { loss, dLogits } = this.lossAndGradient(labels);
    this.backpropagate(x, dLogits, optimizer.learningRate);
    optimizer.step(vectors);
    return loss;
  }

  /**
   * Forward in training mode, the loss, and every parameter's gradient in its buffer (zeroed
   * first): what trainStep computes, without the update, for experiments that read gradients.
   * Returns the batch's mean loss and the logits (a workspace buffer, as forward's).
   */
  computeGradients(x: Matrix, labels: Labels): { loss: number; logits: Matrix } {
    this.zeroGrad();
    const logits = this.forward(x, 'train');
    const { loss, dLogits } = this.lossAndGradient(labels);
    this.backward(x, dLogits);
    return { loss, logits };
  }

  /** The parameters other than weight matrices (biases, γ, β), made once: trainStep allocates nothing. */
  private vectorParameters(): Parameter[] {
    this.vectorParameterList ??= this.parameters().filter(({ name }) => !name.endsWith('.weight'));
    return this.vectorParameterList;
  }

  /**
   * Accuracy and mean loss over every example of `source`, in inference mode, `batchSize` rows at
   * a time (which matters only for the `batch` estimator).
   */
  evaluate(source: ExampleSource, batchSize = 1000): Evaluation {
    const { count, labels } = source;
    if (labels.length !== count) throw new RangeError(`an example source of ${count} examples has ${labels.length} labels`);
    let correct = 0, lossSum = 0;
    for (let start = 0; start < count; start += batchSize) {
      const rows = Math.min(batchSize, count - start);
      const x = this.inputFor(rows);
      source.copyRows(start, rows, x, this.kernels);
      const logits = this.forward(x, 'infer');
      const batchLabels = Array.prototype.slice.call(labels, start, start + rows) as number[];
      lossSum += this.kernels.softmaxCrossEntropy(logits, batchLabels, null) * rows;
      correct += countCorrect(logits, batchLabels);
    }
    return { accuracy: count ? correct / count : NaN, loss: count ? lossSum / count : NaN, correct, count };
  }

  private workspace(batchSize: number): Workspace {
    let ws = this.workspaces.get(batchSize);
    if (ws) return ws;
    const k = this.kernels, m = batchSize;
    const hidden = this.spec.hiddenSizes.map((h, l): HiddenBuffers => {
      const norm = this.norms[l];
      const linear = k.matrix(m, h);
      const dActivation = k.matrix(m, h);
      return {
        linear,
        preActivation: norm ? k.matrix(m, h) : linear,
        activation: k.matrix(m, h),
        dActivation,
        dLinear: norm ? k.matrix(m, h) : dActivation,
        bnCache: norm ? norm.createCache(m) : null,
      };
    });
    ws = {
      input: k.matrix(m, this.spec.inputSize),
      hidden,
      logits: k.matrix(m, this.spec.outputSize),
      dLogits: k.matrix(m, this.spec.outputSize),
    };
    this.workspaces.set(batchSize, ws);
    return ws;
  }
}

/**
 * The initial weight matrices of the article: every linear layer's [in, out] weights drawn
 * from N(0, initStd²), layer by layer in row-major order from one generator.
 */
export function drawInitialWeights(spec: NetworkSpec, initStd: number, rng: Rng): Matrix[] {
  if (!(initStd > 0) || !Number.isFinite(initStd)) throw new RangeError(`the initial weight std must be a positive number, got ${initStd}`);
  return layerShapes(spec).map(([inputs, outputs]) => {
    const weights = new Matrix(inputs, outputs, new Float32Array(inputs * outputs));
    rng.fillNormal(weights.data, initStd);
    return weights;
  });
}
