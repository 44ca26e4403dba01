/**
 * @file The benchmark's workload in TensorFlow.js 4.22, on its `cpu` (plain JavaScript) and `wasm`
 * (SIMD) backends: the same network, initial weights, batches, loss and SGD step as bnlab, written in
 * tf ops with autodiff (`optimizer.minimize`). BatchNorm is tf.moments + tf.batchNorm, so its gradient
 * flows through the batch mean and variance as in bnlab, and the moving averages are updated every
 * step. Batches are made into tensors before timing: tfjs's data pipeline is not measured.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Matrix } from '../../src/core/matrix.js';
import { pixelValue, type Split } from '../../src/data/mnist.js';
import {
  BATCH_SIZE,
  BN_DECAY,
  BN_EPS,
  benchBatcher,
  benchInitialWeights,
  LEARNING_RATE,
  PREMADE_BATCHES,
  type RunResult,
  stopwatch,
  type TrainingSession,
  usesBatchNorm,
  type Variant,
} from '../workload.js';

export type TfjsBackend = 'cpu' | 'wasm';

/** Distinct batches cycled through: enough to vary the data, few enough to stay small (100 × 60 × 784 floats = 19 MB). */
const CLASSES = 10;

let wasmPathsSet = false;

/** Selects a tfjs backend; the wasm one loads its .wasm files from the installed package (no network). */
async function useBackend(backend: TfjsBackend): Promise<void> {
  if (backend === 'wasm' && !wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const distDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(`${pathToFileURL(distDir).pathname}/`);
    wasmPathsSet = true;
  }
  // Without tfjs-node, the cpu backend's first op prints an "install tfjs-node" banner: silence it.
  const warn = console.warn;
  console.warn = () => {};
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
    await tf.ready();
    tf.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
}

interface TfjsNetwork {
  /** One SGD step on (x [60,784], oneHot [60,10]); returns the loss when asked (reading it waits for the result). */
  step(x: tf.Tensor2D, oneHot: tf.Tensor2D, readLoss: boolean): number;
  dispose(): void;
}

function buildTfjsNetwork(initialWeights: readonly Matrix[], batchNorm: boolean): TfjsNetwork {
  const hiddenCount = initialWeights.length - 1;
  const weights = initialWeights.map((w, i) => tf.variable(tf.tensor2d(w.data as Float32Array, [w.rows, w.cols]), true, `w${i}`));
  // Biases: hidden layers only without BN (as in bnlab and the article), the output layer always.
  const biases = initialWeights.map((w, i) => (i === hiddenCount || !batchNorm ? tf.variable(tf.zeros([w.cols]), true, `b${i}`) : null));
  const widths = initialWeights.slice(0, hiddenCount).map((w) => w.cols);
  const gammas = batchNorm ? widths.map((n, i) => tf.variable(tf.ones([n]), true, `gamma${i}`)) : [];
  const betas = batchNorm ? widths.map((n, i) => tf.variable(tf.zeros([n]), true, `beta${i}`)) : [];
  const movingMeans = batchNorm ? widths.map((n, i) => tf.variable(tf.zeros([n]), false, `movingMean${i}`)) : [];
  const movingVariances = batchNorm ? widths.map((n, i) => tf.variable(tf.ones([n]), false, `movingVariance${i}`)) : [];
  const trainable = [...weights, ...biases.filter((b): b is tf.Variable => b !== null), ...gammas, ...betas];
  const optimizer = tf.train.sgd(LEARNING_RATE);

  const step = (x: tf.Tensor2D, oneHot: tf.Tensor2D, readLoss: boolean): number => {
    const batchStats: Array<{ mean: tf.Tensor; variance: tf.Tensor }> = [];
    const cost = optimizer.minimize(
      () => {
        let h: tf.Tensor2D = x;
        for (let l = 0; l < hiddenCount; l++) {
          let z: tf.Tensor2D = tf.matMul(h, weights[l]!);
          if (batchNorm) {
            const { mean, variance } = tf.moments(z, 0); // biased variance, as bnlab and TensorFlow
            batchStats.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
            z = tf.batchNorm2d(z, mean as tf.Tensor1D, variance as tf.Tensor1D, betas[l]! as tf.Tensor1D, gammas[l]! as tf.Tensor1D, BN_EPS);
          } else {
            z = tf.add(z, biases[l]!);
          }
          h = tf.relu(z);
        }
        const logits = tf.add(tf.matMul(h, weights[hiddenCount]!), biases[hiddenCount]!) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar; // mean over the batch
      },
      readLoss,
      trainable,
    );
    if (batchNorm) {
      tf.tidy(() => {
        batchStats.forEach(({ mean, variance }, l) => {
          movingMeans[l]!.assign(tf.add(tf.mul(movingMeans[l]!, BN_DECAY), tf.mul(mean, 1 - BN_DECAY)));
          movingVariances[l]!.assign(tf.add(tf.mul(movingVariances[l]!, BN_DECAY), tf.mul(variance, 1 - BN_DECAY)));
        });
      });
      for (const { mean, variance } of batchStats) tf.dispose([mean, variance]);
    }
    if (!cost) return NaN;
    const loss = cost.dataSync()[0]!;
    cost.dispose();
    return loss;
  };
  const dispose = (): void => {
    optimizer.dispose();
    tf.dispose([...trainable, ...movingMeans, ...movingVariances]);
  };
  return { step, dispose };
}

/** The first PREMADE_BATCHES batches bnlab draws with the benchmark's seed, as tensors. */
function preBatch(train: Split): Array<{ x: tf.Tensor2D; oneHot: tf.Tensor2D }> {
  const batcher = benchBatcher(train);
  const pixels = new Uint8Array(BATCH_SIZE * train.width); // [60, 784] bytes
  const images = new Float32Array(BATCH_SIZE * train.width); // [60, 784] the same pixels as bnlab's floats
  const labels = new Uint8Array(BATCH_SIZE); // [60]
  const batches: Array<{ x: tf.Tensor2D; oneHot: tf.Tensor2D }> = [];
  for (let i = 0; i < PREMADE_BATCHES; i++) {
    batcher.next(pixels, labels);
    for (let p = 0; p < pixels.length; p++) images[p] = pixelValue(pixels[p]!);
    batches.push({
      x: tf.tensor2d(images, [BATCH_SIZE, train.width]),
      oneHot: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D),
    });
  }
  return batches;
}

export interface TfjsSession extends TrainingSession {
  version: string;
}

/**
 * The workload's network on a tfjs backend, trained stretch by stretch. One tfjs backend is
 * active per process: close a session before opening one on the other backend.
 */
export async function openTfjsSession(backend: TfjsBackend, train: Split, variant: Variant): Promise<TfjsSession> {
  await useBackend(backend);
  const batches = preBatch(train);
  const net = buildTfjsNetwork(benchInitialWeights(), usesBatchNorm(variant));
  let next = 0;
  let tensorsAfterFirstRun: number | null = null;
  const run = (steps: number): RunResult => {
    let lastLoss = NaN;
    const elapsed = stopwatch();
    for (let i = 0; i < steps; i++) {
      const batch = batches[next]!;
      next = (next + 1) % batches.length;
      const loss = net.step(batch.x, batch.oneHot, i === steps - 1); // reading the loss waits for it: only once per stretch
      if (i === steps - 1) lastLoss = loss;
    }
    const result = { ...elapsed(), steps, lastLoss };
    const tensors = tf.memory().numTensors;
    tensorsAfterFirstRun ??= tensors;
    if (tensors !== tensorsAfterFirstRun) {
      throw new Error(`the TensorFlow.js step leaks tensors (${tensorsAfterFirstRun} after the first run, ${tensors} now): its timing would be skewed`);
    }
    return result;
  };
  return {
    version: tf.version.tfjs,
    run: (steps) => Promise.resolve(run(steps)),
    close: () => {
      net.dispose();
      for (const { x, oneHot } of batches) tf.dispose([x, oneHot]);
      return Promise.resolve();
    },
  };
}
