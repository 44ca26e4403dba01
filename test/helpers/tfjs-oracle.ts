/**
 * @file TensorFlow.js (cpu backend, float32) as an independent oracle: its own
 * `tf.layers.batchNormalization` in training mode with gradients from its autodiff, and one SGD
 * step of the article's network written in tf ops. Only plain arrays cross this boundary, so the
 * tests compare bnlab against numbers that bnlab's code had no part in.
 */
import * as tf from '@tensorflow/tfjs';

let ready: Promise<void> | null = null;

/** Selects the cpu backend once, without the "install tfjs-node" banner its first tensor prints. */
export function initTfjs(): Promise<void> {
  ready ??= (async () => {
    await tf.setBackend('cpu');
    const warn = console.warn;
    console.warn = () => {}; // the banner is a console.warn on the backend's first write
    try {
      tf.tensor1d([0]).dispose();
    } finally {
      console.warn = warn;
    }
  })();
  return ready;
}

/** A row-major [rows, cols] array, as bnlab's Matrix holds it. */
export interface Table {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

export interface BatchNormOracleInput {
  x: Table; // [m, n]
  gamma: ArrayLike<number>; // [n]
  beta: ArrayLike<number>; // [n]
  /** ∂L/∂y for L = Σ upstream⊙y. */
  upstream: Table; // [m, n]
  momentum: number;
  epsilon: number;
}

export interface BatchNormOracleOutput {
  y: Float32Array; // [m, n] training-mode output
  dx: Float32Array; // [m, n]
  dGamma: Float32Array; // [n]
  dBeta: Float32Array; // [n]
  /** After one training-mode call from TensorFlow's initial 0 and 1. */
  movingMean: Float32Array; // [n]
  movingVariance: Float32Array; // [n]
}

/** The variable behind a Layers weight (`read()` is typed as a plain Tensor). */
function variableOf(weight: tf.LayerVariable): tf.Variable {
  const value = weight.read();
  if (!(value instanceof tf.Variable)) throw new Error(`layer weight ${weight.name} is not backed by a tf.Variable`);
  return value;
}

/** Frees a layer's variables (`layer.dispose()` refuses layers applied to concrete tensors only). */
function disposeWeights(layer: tf.layers.Layer): void {
  for (const weight of layer.weights) weight.dispose();
}

/**
 * `tf.layers.batchNormalization` called with `training: true`: its output, the moving statistics
 * after that one call, and the gradients of L = Σ upstream⊙y from tf's autodiff (which goes
 * through the batch mean and variance: `tf.moments` and FusedBatchNorm both have gradients).
 */
export async function tfjsBatchNormTraining(input: BatchNormOracleInput): Promise<BatchNormOracleOutput> {
  await initTfjs();
  const { rows: m, cols: n } = input.x;
  const layer = tf.layers.batchNormalization({ axis: -1, momentum: input.momentum, epsilon: input.epsilon });
  layer.build([m, n]);
  layer.setWeights([tf.tensor1d(Array.from(input.gamma)), tf.tensor1d(Array.from(input.beta)), tf.zeros([n]), tf.ones([n])]);
  const [gamma, beta] = layer.trainableWeights.map(variableOf) as [tf.Variable, tf.Variable];
  const x = tf.variable(tf.tensor2d(Array.from(input.x.data), [m, n]));
  const upstream = tf.tensor2d(Array.from(input.upstream.data), [m, n]);
  const apply = (): tf.Tensor => {
    const y = layer.apply(x, { training: true });
    if (!(y instanceof tf.Tensor)) throw new Error('batchNormalization.apply returned no tensor');
    return y;
  };
  try {
    const y = apply();
    const [, , movingMean, movingVariance] = layer.getWeights();
    const output = {
      y: y.dataSync() as Float32Array,
      movingMean: movingMean!.dataSync() as Float32Array,
      movingVariance: movingVariance!.dataSync() as Float32Array,
    };
    y.dispose();
    // A second training-mode call for the gradients; it moves the moving statistics again, which we have read already.
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(apply(), upstream)), [x, gamma, beta]);
    const result = {
      ...output,
      dx: grads[x.name]!.dataSync() as Float32Array,
      dGamma: grads[gamma.name]!.dataSync() as Float32Array,
      dBeta: grads[beta.name]!.dataSync() as Float32Array,
    };
    value.dispose();
    for (const grad of Object.values(grads)) grad.dispose();
    return result;
  } finally {
    x.dispose();
    upstream.dispose();
    disposeWeights(layer);
  }
}

export interface NetworkStepInput {
  /** [in, out] weights of every linear layer, first to last (bnlab's layout and tf's matMul layout). */
  weights: Table[];
  activation: 'relu' | 'sigmoid';
  /** BatchNorm after every hidden linear layer (no hidden bias), or plain x·W + b hidden layers. */
  batchNorm: { momentum: number; epsilon: number } | null;
  x: Table; // [m, inputSize]
  labels: ArrayLike<number>; // [m]
  learningRate: number;
}

export interface NetworkStepOutput {
  /** The mean softmax cross-entropy of the batch, before the update. */
  loss: number;
  /** Gradients and updated values under bnlab's parameter names (dense.{i}.weight/bias, bn.{i}.gamma/beta). */
  gradients: Map<string, Float32Array>;
  updated: Map<string, Float32Array>;
  /** bn.{i}.movingMean / bn.{i}.movingVariance after the step's one training-mode forward. */
  movingStatistics: Map<string, Float32Array>;
}

/**
 * One plain-SGD step of the article's MLP in tf ops: hidden = act(BN_train(x·W)) or act(x·W + b),
 * logits = x·W + b, loss = mean over the batch of −Σ onehot·logSoftmax(logits); every trainable
 * variable then takes v −= lr·∂loss/∂v. Biases, beta start at 0 and gamma at 1, as in bnlab.
 */
export async function tfjsNetworkStep(input: NetworkStepInput): Promise<NetworkStepOutput> {
  await initTfjs();
  const hiddenCount = input.weights.length - 1;
  const named = new Map<string, tf.Variable>();
  const weights = input.weights.map((w, i) => {
    const variable = tf.variable(tf.tensor2d(Array.from(w.data), [w.rows, w.cols]));
    named.set(`dense.${i}.weight`, variable);
    return variable;
  });
  const biases = input.weights.map((w, i) => {
    if (i < hiddenCount && input.batchNorm) return null; // BN(xW + b) = BN(xW): the article drops b
    const variable = tf.variable(tf.zeros([w.cols]));
    named.set(`dense.${i}.bias`, variable);
    return variable;
  });
  const bn = input.batchNorm;
  const norms = bn
    ? input.weights.slice(0, hiddenCount).map((w, i) => {
        const layer = tf.layers.batchNormalization({ axis: -1, momentum: bn.momentum, epsilon: bn.epsilon });
        layer.build([input.x.rows, w.cols]);
        const [gamma, beta] = layer.trainableWeights.map(variableOf) as [tf.Variable, tf.Variable];
        named.set(`bn.${i}.gamma`, gamma);
        named.set(`bn.${i}.beta`, beta);
        return layer;
      })
    : [];
  const x = tf.tensor2d(Array.from(input.x.data), [input.x.rows, input.x.cols]);
  const oneHot = tf.oneHot(tf.tensor1d(Array.from(input.labels), 'int32'), input.weights[hiddenCount]!.cols);
  const act = (z: tf.Tensor): tf.Tensor => (input.activation === 'relu' ? tf.relu(z) : tf.sigmoid(z));

  const loss = (): tf.Scalar => {
    let h: tf.Tensor = x;
    for (let i = 0; i < hiddenCount; i++) {
      let z = tf.matMul(h as tf.Tensor2D, weights[i]!);
      if (biases[i]) z = tf.add(z, biases[i]!);
      const norm = norms[i];
      if (norm) {
        const normalized = norm.apply(z, { training: true });
        if (!(normalized instanceof tf.Tensor)) throw new Error('batchNormalization.apply returned no tensor');
        z = normalized;
      }
      h = act(z);
    }
    const logits = tf.add(tf.matMul(h as tf.Tensor2D, weights[hiddenCount]!), biases[hiddenCount]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))).asScalar();
  };

  try {
    const variables = [...named.values()];
    const { value, grads } = tf.variableGrads(loss, variables);
    const gradients = new Map<string, Float32Array>();
    for (const [name, variable] of named) {
      const grad = grads[variable.name]!;
      gradients.set(name, grad.dataSync() as Float32Array);
      variable.assign(tf.tidy(() => tf.sub(variable, tf.mul(grad, input.learningRate))));
    }
    const updated = new Map([...named].map(([name, variable]) => [name, variable.dataSync() as Float32Array]));
    const movingStatistics = new Map<string, Float32Array>();
    norms.forEach((layer, i) => {
      const [, , movingMean, movingVariance] = layer.getWeights();
      movingStatistics.set(`bn.${i}.movingMean`, movingMean!.dataSync() as Float32Array);
      movingStatistics.set(`bn.${i}.movingVariance`, movingVariance!.dataSync() as Float32Array);
    });
    const lossValue = value.dataSync()[0]!;
    value.dispose();
    for (const grad of Object.values(grads)) grad.dispose();
    return { loss: lossValue, gradients, updated, movingStatistics };
  } finally {
    x.dispose();
    oneHot.dispose();
    for (const variable of [...weights, ...biases]) variable?.dispose();
    for (const layer of norms) disposeWeights(layer);
  }
}
