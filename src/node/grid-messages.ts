/**
 * @file What the training pool's main thread and its worker threads say to each other (a job
 * is one network to train: a grid run, or one of `compare`'s two networks), and MNIST shared
 * between them: the main thread copies the pixel bytes once into SharedArrayBuffers, and every
 * worker trains on views of the same memory (one ~55 MB copy for the whole pool, not one each).
 * Splits whose pixels share a buffer (train and validation: two parts of one file) share one.
 */
import type { BackendChoice } from '../core/backend.js';
import { Matrix } from '../core/matrix.js';
import { MNIST_CLASSES, type MnistData, type Split } from '../data/mnist.js';
import { layerShapes, type NormKind } from '../nn/spec.js';
import { specFromConfig, type TrainConfig } from '../train/config.js';
import { MNIST_INPUTS } from '../train/networks.js';
import type { CurvePoint, TrainResult } from '../train/trainer.js';

interface SharedSplit {
  /** Holds the [count, width] uint8 pixels at byte `pixelOffset`; other splits may share it. */
  pixels: SharedArrayBuffer;
  pixelOffset: number;
  /** [count] uint8 digits. */
  labels: SharedArrayBuffer;
  count: number;
  width: number;
}

export interface SharedMnist {
  train: SharedSplit;
  validation: SharedSplit;
  test: SharedSplit;
  source: string;
}

export interface GridWorkerData {
  data: SharedMnist;
  backend: BackendChoice;
}

/** One network to train: all a worker needs to build it and run train(). */
export interface TrainJob {
  /** Names the job in every message about it (a grid run id such as `c3-bn-s1`, or a compare network). */
  id: string;
  config: TrainConfig;
  batchNorm: boolean;
  /** The network's norm, when `batchNorm` does not say it (compare --norms); see `jobNorm`. */
  norm?: NormKind;
  /**
   * The linear layers' initial weights, one row-major [in, out] array per layer, shaped by
   * `config` (see `weightsOfJob`); absent, they are drawn from `config.seed` (`initialWeightsFor`).
   */
  initialWeights?: Float32Array[];
}

/**
 * 'run': one job. 'runGroup': jobs that draw the same batches (`sameBatches`), trained side by
 * side in one backend on batches drawn once for all; each is reported under its own id as for 'run'.
 */
export type MainToWorker = { type: 'run'; job: TrainJob } | { type: 'runGroup'; jobs: TrainJob[] } | { type: 'stop' };

/** A run as its worker ends it, normally or stopped. */
export interface RunOutcome {
  result: TrainResult;
  /** The kernel backend the worker trained on (e.g. `wasm relaxed-simd`). */
  backend: string;
  /** Wall time in the worker, kernels and network set-up included. */
  durationMs: number;
}

export type WorkerToMain =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: string; step: number; stepsPerSecond: number }
  | { type: 'validation'; id: string; point: CurvePoint }
  | { type: 'diverged'; id: string; step: number; loss: number }
  | ({ type: 'finished'; id: string } & RunOutcome)
  /** Stopped by a 'stop' message: the run ended early, with the result of the steps it ran. */
  | ({ type: 'interrupted'; id: string } & RunOutcome)
  | { type: 'failed'; id: string | null; message: string };

/** True when the two jobs' runs draw the same sequence of training batches (seed, batch size, shuffling). */
export function sameBatches(a: TrainJob, b: TrainJob): boolean {
  return a.config.seed === b.config.seed && a.config.batchSize === b.config.batchSize && a.config.shuffle === b.config.shuffle;
}

/** The job's part of a message: only what the worker needs (a grid RunSpec carries more). */
export function jobMessage(job: TrainJob): TrainJob {
  const { id, config, batchNorm, norm, initialWeights } = job;
  return { id, config, batchNorm, ...(norm === undefined ? {} : { norm }), ...(initialWeights === undefined ? {} : { initialWeights }) };
}

/**
 * The norm of a job's network: its `norm`; else BN where `batchNorm` says so; else the config's
 * norm unless that is BN (compare's network without BN, from a config with BN).
 */
export function jobNorm(job: TrainJob): NormKind {
  if (job.norm !== undefined) return job.norm;
  if (job.batchNorm) return 'bn';
  return job.config.norm === 'bn' ? 'none' : job.config.norm;
}

/** Initial weights as a job carries them: plain float32 copies (the matrices may be views of a backend's memory). */
export function jobWeights(weights: readonly Matrix[]): Float32Array[] {
  return weights.map((matrix) => new Float32Array(matrix.data));
}

/** A job's initial weights as matrices shaped by its config, or undefined when it has none. */
export function weightsOfJob(job: TrainJob): Matrix[] | undefined {
  if (job.initialWeights === undefined) return undefined;
  const shapes = layerShapes(specFromConfig(job.config, MNIST_INPUTS, MNIST_CLASSES, jobNorm(job)));
  if (shapes.length !== job.initialWeights.length) {
    throw new RangeError(`job ${job.id} has ${job.initialWeights.length} initial weight arrays for a network of ${shapes.length} linear layers`);
  }
  return shapes.map(([rows, cols], i) => new Matrix(rows, cols, job.initialWeights![i]!));
}

/** Copies MNIST into shared memory (once, in the main thread). */
export function shareMnist(data: MnistData): SharedMnist {
  const splits = [data.train, data.validation, data.test];
  // One shared buffer per buffer the pixels come from, covering every split's bytes in it.
  const ranges = new Map<ArrayBufferLike, { start: number; end: number; shared?: SharedArrayBuffer }>();
  for (const { pixels } of splits) {
    const range = ranges.get(pixels.buffer);
    const start = pixels.byteOffset,
      end = pixels.byteOffset + pixels.byteLength;
    if (range) {
      range.start = Math.min(range.start, start);
      range.end = Math.max(range.end, end);
    } else {
      ranges.set(pixels.buffer, { start, end });
    }
  }
  for (const [buffer, range] of ranges) {
    range.shared = new SharedArrayBuffer(range.end - range.start);
    new Uint8Array(range.shared).set(new Uint8Array(buffer, range.start, range.end - range.start));
  }
  const share = (split: Split): SharedSplit => {
    const range = ranges.get(split.pixels.buffer)!;
    const labels = new SharedArrayBuffer(split.labels.byteLength);
    new Uint8Array(labels).set(split.labels);
    return { pixels: range.shared!, pixelOffset: split.pixels.byteOffset - range.start, labels, count: split.count, width: split.width };
  };
  return { train: share(data.train), validation: share(data.validation), test: share(data.test), source: data.source };
}

function splitView(shared: SharedSplit): Split {
  return {
    pixels: new Uint8Array(shared.pixels, shared.pixelOffset, shared.count * shared.width),
    labels: new Uint8Array(shared.labels),
    count: shared.count,
    width: shared.width,
  };
}

/** MnistData whose arrays are views of the shared memory (no copy; nobody writes to it). */
export function mnistFromShared(shared: SharedMnist): MnistData {
  return { train: splitView(shared.train), validation: splitView(shared.validation), test: splitView(shared.test), source: shared.source };
}
