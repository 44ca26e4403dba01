/**
 * @file The network: a sequence of layers built from its spec (build-layers.ts; the article's
 * hidden = act([norm](x·W (+ b))), output = x·W + b), run forward and backward in order. It owns
 * which statistics its normalizations use at inference (its spec says, one method changes it),
 * and its memory: reserved from the spec and its largest batch when it is built, so a training
 * step allocates nothing and running it never grows memory under an array a caller holds.
 */
import type { InputRows, Kernels, SparseRows } from '../core/kernels.js';
import { type FloatArray, Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';
import { insertAfterNorms } from './activation-noise.js';
import { BatchNorm } from './batch-norm.js';
import { buildLayers, type HiddenBlock, type NormLayer } from './build-layers.js';
import type { Dense } from './dense.js';
import type { ExampleSource } from './example-source.js';
import { type CheckpointTensor, type ForwardPass, type Layer, type Parameter, TRAINING_PASS } from './layer.js';
import { networkMemory } from './network-memory.js';
import { RowBuffer } from './row-buffer.js';
import type { Sgd } from './sgd.js';
import { countCorrect, type Labels } from './softmax-cross-entropy.js';
import { BATCH_NORM_DEFAULTS, type InferenceStatistics, layerShapes, type Mode, type NetworkSpec, validateSpec } from './spec.js';

/** The largest batch a network runs unless told otherwise: the evaluation batch of the article's code (and bnlab's default). */
export const DEFAULT_MAX_BATCH_SIZE = 1000;

export interface NetworkOptions {
  /** The largest batch it will run, training or evaluating (default 1000): its buffers and memory are sized for it. */
  maxBatchSize?: number;
  /**
   * Experiments only: a layer put right after each hidden layer's normalization (e.g. the noise of
   * nn/activation-noise.ts), or null for none; hidden layers without a norm get nothing.
   */
  afterNorm?(hiddenLayer: number, width: number): Layer | null;
}

/** The buffers of one hidden layer for a batch of m rows (h = the layer's width), from the latest forward and backward. */
export interface HiddenBuffers {
  linear: Matrix; // [m, h] x·W (+ b)
  preActivation: Matrix; // [m, h] norm(linear), or linear itself without a norm or with the norm after the activation: the activation's input
  activation: Matrix; // [m, h] f(preActivation): the next layer's input, or with the norm after the activation the norm's
  dLinear: Matrix; // [m, h] ∂L/∂linear (after a backward)
}

export interface Evaluation {
  accuracy: number;
  loss: number;
  correct: number;
  count: number;
}

export class MLP {
  /** Input to logits. */
  readonly layers: readonly Layer[];
  /** Every linear layer, the output layer last. */
  readonly dense: readonly Dense[];
  /** The BatchNorm of each hidden layer, or null (also for the other norms: see `normLayers`). */
  readonly norms: ReadonlyArray<BatchNorm | null>;
  /** The normalization of each hidden layer, of any kind, or null. */
  readonly normLayers: ReadonlyArray<NormLayer | null>;
  readonly maxBatchSize: number;
  private currentSpec: Readonly<NetworkSpec>;
  private inferencePass: ForwardPass;
  private readonly hidden: readonly HiddenBlock[];
  private readonly parameterList: readonly Parameter[];
  /** The parameters a training step updates through the optimizer (biases, γ, β), listed once: trainStep allocates nothing. */
  private readonly optimizerParameters: readonly Parameter[];
  private readonly input: RowBuffer; // [m, inputSize]
  /** Inputs kept as their nonzeros, by batch size, made on first use (`sparseInputFor`). */
  private readonly sparseInputs = new Map<number, SparseRows>();
  /** The first layer: a Dense, the one layer that takes an input given as SparseRows. */
  private readonly first: Dense;
  private readonly dLogits: RowBuffer; // [m, outputSize]
  /** Each layer's input in the latest forward, for backward (layer 0's, x, backward is given). */
  private readonly layerInputs: Matrix[];
  private logits: Matrix | null = null;
  private lastMode: Mode | null = null;
  private skippingActivationZeros = false;
  /** Linear layers and ReLUs alone, alternating (no norm, no layer in between): the networks whose hidden layers can die for good. */
  private readonly plainRelu: boolean;

  /**
   * @param initialWeights one [in, out] matrix per linear layer (see `drawInitialWeights`);
   *   biases start at 0, gamma at 1, beta at 0. Two networks built from the same matrices start
   *   from the same weights, whatever their BatchNorm settings.
   */
  constructor(
    readonly kernels: Kernels,
    spec: NetworkSpec,
    initialWeights: readonly Matrix[],
    options: NetworkOptions = {},
  ) {
    validateSpec(spec);
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)
      throw new RangeError(`the largest batch must be a whole number of at least 1, got ${maxBatchSize}`);
    const shapes = layerShapes(spec);
    if (initialWeights.length !== shapes.length) {
      throw new RangeError(`the network has ${shapes.length} linear layers but ${initialWeights.length} initial weight matrices were given`);
    }
    shapes.forEach(([inputs, outputs], i) => {
      const weights = initialWeights[i]!;
      if (weights.rows !== inputs || weights.cols !== outputs) {
        throw new RangeError(`initial weights ${i} are ${weights.rows}x${weights.cols}, the layer needs ${inputs}x${outputs}`);
      }
    });
    this.maxBatchSize = maxBatchSize;
    this.currentSpec = frozenSpec(spec);
    this.inferencePass = inferencePassOf(this.currentSpec);
    const memory = networkMemory(spec);
    kernels.reserveMemory(memory.fixedBytes + maxBatchSize * memory.bytesPerRow);
    const built = buildLayers(kernels, spec);
    this.layers = options.afterNorm ? insertAfterNorms(built, options.afterNorm) : built.layers;
    this.hidden = built.hidden;
    this.dense = built.dense;
    if (this.layers[0] !== this.dense[0]) throw new Error('a network starts with a linear layer');
    this.first = this.dense[0]!;
    this.norms = built.hidden.map((block) => block.batchNorm);
    this.normLayers = built.hidden.map((block) => block.norm);
    this.dense.forEach((layer, i) => {
      layer.weights.data.set(initialWeights[i]!.data);
    });
    this.layers.forEach((layer, i) => {
      layer.allocate(maxBatchSize, i > 0);
    });
    this.input = new RowBuffer(kernels, maxBatchSize, spec.inputSize);
    this.dLogits = new RowBuffer(kernels, maxBatchSize, spec.outputSize);
    this.layerInputs = new Array<Matrix>(this.layers.length);
    this.parameterList = [...this.dense, ...this.normLayers.filter((norm) => norm !== null)].flatMap((layer) => layer.parameters());
    this.optimizerParameters = this.parameterList.filter((parameter) => !parameter.updatedInBackward);
    this.plainRelu = spec.norm === 'none' && spec.activation === 'relu' && this.layers.length === 2 * this.hidden.length + 1;
    this.skipActivationZeros = true;
  }

  /** The network as data (frozen): what a checkpoint saves, inference statistics included. */
  get spec(): Readonly<NetworkSpec> {
    return this.currentSpec;
  }

  /** Which statistics BatchNorm uses at inference (null without BN). */
  get inferenceStatistics(): InferenceStatistics | null {
    const bn = this.currentSpec.batchNorm;
    return bn && { estimator: bn.estimator, unbiased: bn.unbiased };
  }

  /**
   * The one way to change which statistics BatchNorm uses at inference: the spec (and so a
   * checkpoint saved after) follows. A network without BN has none to choose; nothing changes.
   */
  useInferenceStatistics(statistics: Partial<InferenceStatistics>): void {
    const bn = this.currentSpec.batchNorm;
    if (!bn) return;
    const spec = { ...this.currentSpec, hiddenSizes: [...this.currentSpec.hiddenSizes], batchNorm: { ...bn, ...statistics } };
    validateSpec(spec);
    this.currentSpec = frozenSpec(spec);
    this.inferencePass = inferencePassOf(this.currentSpec);
  }

  /** The input is mostly zeros (raw MNIST pixels): the first layer's kernels may skip them. */
  get sparseInput(): boolean {
    return this.first.inputZeros === true;
  }

  set sparseInput(sparse: boolean) {
    this.first.inputZeros = sparse;
  }

  /**
   * Whether the products after a ReLU skip its zeros where a count shows that pays, call by call:
   * x·W and xᵀ·dY of the next linear layer (30-54% zeros in a network that learns, up to 100% in
   * a dead one), and dY·Wᵀ of a layer whose gradient vanished (a dead ReLU's); and whether that
   * next layer's dY·Wᵀ sums only the outputs the ReLU passes back (where it is > 0), which leaves
   * the ReLU's backward nothing to do. The numbers are the same bit for bit either way (tested);
   * on by default, off only to compare.
   */
  get skipActivationZeros(): boolean {
    return this.skippingActivationZeros;
  }

  set skipActivationZeros(skip: boolean) {
    this.skippingActivationZeros = skip;
    const relu = this.currentSpec.activation === 'relu',
      post = this.currentSpec.placement === 'post';
    // Only ReLU gives exact zeros in practice: saturated sigmoids of the article's std-10 networks stay just above 0 (measured).
    const measure = skip && relu ? 'measure' : false;
    this.hidden.forEach(({ dense, norm, activation }, l) => {
      dense.outputGradientZeros = measure;
      // With the norm after the activation, the next layer's input is the norm's output: not sparse.
      const below = this.dense[l + 1]!;
      below.inputZeros = norm && post ? false : measure;
      below.inputFromRelu = skip && relu && !(norm && post);
      activation.gradientArrivesMasked = below.inputFromRelu;
    });
  }

  /** Learnable parameters with their gradients: dense.{i}.weight/bias, then the norms' gamma/beta (bn.{i}, ln.{i}, …). */
  parameters(): Parameter[] {
    return [...this.parameterList];
  }

  /** Every tensor a checkpoint holds, layer by layer (names as in the README). */
  checkpointTensors(): CheckpointTensor[] {
    return this.layers.flatMap((layer) => layer.checkpointTensors());
  }

  zeroGrad(): void {
    for (const { grad } of this.parameterList) grad.data.fill(0);
  }

  /** An input matrix of `batchSize` rows in the backend's memory: fill it, then call forward. */
  inputFor(batchSize: number): Matrix {
    this.assertFits(batchSize);
    return this.input.rows(batchSize);
  }

  /**
   * An empty input of `batchSize` rows kept as its nonzeros, in the backend's memory: fill it with
   * `kernels.gatherSparseRows` (a batch of MNIST pixels), then call forward or trainStep. The first
   * layer then reads the nonzeros instead of finding them in x·W and again in xᵀ·dY; the numbers
   * are those of the same rows given as floats with `sparseInput` on, bit for bit.
   */
  sparseInputFor(batchSize: number): SparseRows {
    this.assertFits(batchSize);
    let rows = this.sparseInputs.get(batchSize);
    if (!rows) {
      rows = this.kernels.sparseRows(batchSize, this.currentSpec.inputSize);
      this.sparseInputs.set(batchSize, rows);
    }
    return rows;
  }

  /** Buffers of the hidden layers from the latest forward (and backward) of `batchSize` rows, for experiments that look inside. */
  hiddenBuffers(batchSize: number): HiddenBuffers[] {
    this.assertFits(batchSize);
    const post = this.currentSpec.placement === 'post';
    return this.hidden.map(({ dense, norm, activation }, l) => {
      const linear = dense.outputFor(batchSize);
      const below = this.dense[l + 1]!;
      // The activation multiplies its upstream gradient in place: ∂L/∂linear is the buffer of whatever follows it.
      return {
        linear,
        preActivation: norm && !post ? norm.buffersFor(batchSize).output : linear,
        activation: activation.outputFor(batchSize),
        dLinear: norm ? norm.inputGradientFor(batchSize) : below.inputGradientFor(batchSize),
      };
    });
  }

  /**
   * Logits [m, outputSize] for x [m, inputSize] (floats, or their nonzeros). `train`: BatchNorm uses batch statistics and
   * updates its estimates; `infer`: the network's inference statistics, or for one call (a probe)
   * `statistics`, which changes nothing. The result is a buffer, valid until the next forward.
   */
  forward(x: InputRows, mode: Mode, statistics?: InferenceStatistics): Matrix {
    if (x.cols !== this.currentSpec.inputSize) throw new RangeError(`the network takes ${this.currentSpec.inputSize} inputs per example, got ${x.cols}`);
    this.assertFits(x.rows);
    const pass = mode === 'train' ? TRAINING_PASS : statistics ? { mode, statistics } : this.inferencePass;
    let output = this.first.forward(x, pass);
    for (let i = 1; i < this.layers.length; i++) {
      this.layerInputs[i] = output;
      output = this.layers[i]!.forward(output, pass);
    }
    this.logits = output;
    this.lastMode = mode;
    return output;
  }

  /** Adds ∂L/∂(every parameter) into the gradients, given ∂L/∂logits of the latest forward (which must be a training-mode one). */
  backward(x: InputRows, dLogits: Matrix): void {
    this.backpropagate(x, dLogits, undefined);
  }

  /**
   * backward, where `weightLearningRate` (if given) applies each weight matrix's SGD update
   * inside its gradient kernel instead of adding to weightGrad; biases, γ and β get gradients.
   */
  private backpropagate(x: InputRows, dLogits: Matrix, weightLearningRate: number | undefined): void {
    if (!this.logits || this.logits.rows !== x.rows) throw new Error('backward needs a forward pass on the same batch first');
    if (this.lastMode !== 'train' && this.normLayers.some((norm) => norm instanceof BatchNorm)) {
      throw new Error('backward through BatchNorm needs a training-mode forward (batch statistics)');
    }
    let upstream = dLogits;
    for (let i = this.layers.length - 1; i >= 1; i--) {
      const dInput = this.layers[i]!.backward(this.layerInputs[i]!, upstream, weightLearningRate);
      if (!dInput) return;
      upstream = dInput;
    }
    this.first.backward(x, upstream, weightLearningRate);
  }

  /** Mean softmax cross-entropy of the latest logits against labels; writes ∂loss/∂logits into a buffer of the network. */
  lossAndGradient(labels: Labels): { loss: number; dLogits: Matrix } {
    const logits = this.logits;
    if (!logits) throw new Error('lossAndGradient needs a forward pass first');
    const dLogits = this.dLogits.rows(logits.rows);
    return { loss: this.kernels.softmaxCrossEntropy(logits, labels, dLogits), dLogits };
  }

  /**
   * One SGD step on a batch: forward (training mode), loss, backward, update. Returns the batch's
   * mean loss. The weight matrices (99.7% of the parameters) are updated inside their gradient
   * kernels as backward reaches them (the same numbers as gradient-then-update, see
   * `Kernels.matmulTransposeAAdd`); the small vectors (biases, γ, β) take the optimizer's usual path.
   * weightGrad is therefore not filled by trainStep: call computeGradients for gradients.
   */
  trainStep(x: InputRows, labels: Labels, optimizer: Sgd): number {
    const vectors = this.optimizerParameters;
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
   * Returns the batch's mean loss and the logits (a buffer, as forward's).
   */
  computeGradients(x: InputRows, labels: Labels): { loss: number; logits: Matrix } {
    this.zeroGrad();
    const logits = this.forward(x, 'train');
    const { loss, dLogits } = this.lossAndGradient(labels);
    this.backward(x, dLogits);
    return { loss, logits };
  }

  /**
   * Accuracy and mean loss over every example of `source`, in inference mode, `batchSize` rows at
   * a time (which matters only for the `batch` estimator).
   */
  evaluate(source: ExampleSource, batchSize = DEFAULT_MAX_BATCH_SIZE): Evaluation {
    const { count, labels } = source;
    if (labels.length !== count) throw new RangeError(`an example source of ${count} examples has ${labels.length} labels`);
    return this.evaluateBatches(labels, batchSize, (start, rows) => this.inferRows(source, start, rows));
  }

  /**
   * True when the hidden layers are dead for good on `source`: the network is linear layers and
   * ReLUs alone (no norm), every hidden weight, bias and output is finite, and the last hidden
   * layer outputs exactly +0 on every unit for every example of `source`. A ReLU passes no gradient
   * back where its output is 0, so once that holds for every example a network trains on, no hidden
   * parameter changes again (each gets x·0 or 0·W added: ±0, which leaves it as it is), and on every
   * example it sees the logits are the output layer's on zeros. `trainStepOnDeadHidden` and
   * `evaluateOnDeadHidden` then compute what trainStep and evaluate compute, bit for bit, without
   * the hidden layers. Runs inference forwards of `batchSize` rows (their buffers are overwritten);
   * stops at the first batch with a live unit.
   */
  hiddenDeadOn(source: ExampleSource, batchSize = DEFAULT_MAX_BATCH_SIZE): boolean {
    if (!this.plainRelu || this.hidden.length === 0) return false;
    const finiteParameters = this.hidden.every(({ dense }) => dense.parameters().every(({ value }) => allFinite(value.data)));
    if (!finiteParameters) return false;
    const last = this.hidden[this.hidden.length - 1]!.activation;
    for (let start = 0; start < source.count; start += batchSize) {
      const rows = Math.min(batchSize, source.count - start);
      this.inferRows(source, start, rows);
      if (!allPositiveZeros(last.outputFor(rows).data)) return false;
      if (!this.hidden.every(({ activation }) => allFinite(activation.outputFor(rows).data))) return false;
    }
    return true;
  }

  /**
   * trainStep for a network whose hidden layers are dead for good on every example it trains on
   * (`hiddenDeadOn` its training examples): the output layer alone, on the zeros the last hidden
   * layer gives, takes the step; the hidden parameters' gradients stay +0, so their update leaves
   * them as trainStep would. Needs only the batch's labels. Returns the batch's mean loss.
   */
  trainStepOnDeadHidden(labels: Labels, optimizer: Sgd): number {
    const vectors = this.optimizerParameters;
    for (const { grad } of vectors) grad.data.fill(0);
    const output = this.layers[this.layers.length - 1]!;
    const h = this.deadHiddenOutput(labels.length);
    this.logits = output.forward(h, TRAINING_PASS);
    this.lastMode = 'train';
    const { loss, dLogits } = this.lossAndGradient(labels);
    output.backward(h, dLogits, optimizer.learningRate);
    optimizer.step(vectors);
    return loss;
  }

  /** evaluate for a network whose hidden layers are dead for good on the examples of `labels` (`hiddenDeadOn` them): the output layer on zeros. */
  evaluateOnDeadHidden(labels: Labels, batchSize = DEFAULT_MAX_BATCH_SIZE): Evaluation {
    const output = this.layers[this.layers.length - 1]!;
    return this.evaluateBatches(labels, batchSize, (_start, rows) => {
      const logits = output.forward(this.deadHiddenOutput(rows), this.inferencePass);
      this.logits = logits;
      this.lastMode = 'infer';
      return logits;
    });
  }

  /** Accuracy and mean loss over `labels`, `batchSize` rows at a time, from the logits `logitsOf` gives for each batch. */
  private evaluateBatches(labels: Labels, batchSize: number, logitsOf: (start: number, rows: number) => Matrix): Evaluation {
    const count = labels.length;
    let correct = 0,
      lossSum = 0;
    for (let start = 0; start < count; start += batchSize) {
      const rows = Math.min(batchSize, count - start);
      const logits = logitsOf(start, rows);
      const batchLabels = labelRange(labels, start, start + rows);
      lossSum += this.kernels.softmaxCrossEntropy(logits, batchLabels, null) * rows;
      correct += countCorrect(logits, batchLabels);
    }
    return { accuracy: count ? correct / count : NaN, loss: count ? lossSum / count : NaN, correct, count };
  }

  /**
   * The logits of an inference forward of `rows` examples of `source` from `start`: given as their
   * nonzeros where the first layer skips zeros and the source can pack them (the same numbers, bit
   * for bit, without finding the nonzeros in floats first), else as floats.
   */
  private inferRows(source: ExampleSource, start: number, rows: number): Matrix {
    if (this.sparseInput && source.packRows) {
      const x = this.sparseInputFor(rows);
      source.packRows(start, rows, x, this.kernels);
      return this.forward(x, 'infer');
    }
    const x = this.inputFor(rows);
    source.copyRows(start, rows, x, this.kernels);
    return this.forward(x, 'infer');
  }

  /** The last hidden layer's output buffer for `rows` rows, set to the +0s a dead layer outputs (what its forward would write), as the output layer's input. */
  private deadHiddenOutput(rows: number): Matrix {
    this.assertFits(rows);
    const h = this.hidden[this.hidden.length - 1]!.activation.outputFor(rows);
    h.data.fill(0);
    this.layerInputs[this.layers.length - 1] = h;
    return h;
  }

  private assertFits(rows: number): void {
    if (rows > this.maxBatchSize) {
      throw new RangeError(
        `a batch of ${rows} rows is larger than the ${this.maxBatchSize} this network's memory was sized for; build it with a larger maxBatchSize (in training: the larger of --batch-size and --eval-batch-size)`,
      );
    }
  }
}

/** labels[start, end): a view when they are a typed array (MNIST's bytes: no copy per batch), else a copy. */
function labelRange(labels: Labels, start: number, end: number): Labels {
  const typed = labels as Partial<Pick<Uint8Array, 'subarray'>>;
  return typed.subarray ? typed.subarray(start, end) : Array.prototype.slice.call(labels, start, end);
}

function allFinite(values: FloatArray): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/** Every value +0 (not −0, not NaN). */
function allPositiveZeros(values: FloatArray): boolean {
  for (let i = 0; i < values.length; i++) if (!Object.is(values[i], 0)) return false;
  return true;
}

/** A deep-frozen copy: the spec changes only through the network's own methods. */
function frozenSpec(spec: NetworkSpec): Readonly<NetworkSpec> {
  const copy = structuredClone(spec);
  Object.freeze(copy.hiddenSizes);
  if (copy.batchNorm) Object.freeze(copy.batchNorm);
  if (copy.exampleNorm) Object.freeze(copy.exampleNorm);
  if (copy.renorm) Object.freeze(copy.renorm);
  if (copy.ghost) Object.freeze(copy.ghost);
  if (copy.weightNorm) Object.freeze(copy.weightNorm);
  return Object.freeze(copy);
}

function inferencePassOf(spec: Readonly<NetworkSpec>): ForwardPass {
  const bn = spec.batchNorm ?? BATCH_NORM_DEFAULTS;
  return Object.freeze({ mode: 'infer', statistics: Object.freeze({ estimator: bn.estimator, unbiased: bn.unbiased }) });
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
