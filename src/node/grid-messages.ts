/**
 * @file What the grid's main thread and its worker threads say to each other, and MNIST shared
 * between them: the main thread decodes the files once into SharedArrayBuffers, and every
 * worker trains on views of the same memory (one ~220 MB copy for the whole pool, not one each).
 */
import type { BackendChoice } from '../core/backend.js';
import type { MnistData, Split } from '../data/mnist.js';
import type { RunSpec } from '../lab/grid.js';
import type { TrainResult } from '../train/trainer.js';

export interface SharedSplit {
  /** [count, width] float32 pixels in [0, 1]. */
  images: SharedArrayBuffer;
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

export type MainToWorker = { type: 'run'; spec: RunSpec } | { type: 'stop' };

export type WorkerToMain =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: string; step: number; stepsPerSecond: number }
  | { type: 'finished'; id: string; result: TrainResult; backend: string; durationMs: number }
  | { type: 'interrupted'; id: string; step: number }
  | { type: 'failed'; id: string | null; message: string };

function shareSplit(split: Split): SharedSplit {
  const images = new SharedArrayBuffer(split.images.byteLength);
  new Float32Array(images).set(split.images);
  const labels = new SharedArrayBuffer(split.labels.byteLength);
  new Uint8Array(labels).set(split.labels);
  return { images, labels, count: split.count, width: split.width };
}

/** Copies MNIST into shared memory (once, in the main thread). */
export function shareMnist(data: MnistData): SharedMnist {
  return { train: shareSplit(data.train), validation: shareSplit(data.validation), test: shareSplit(data.test), source: data.source };
}

function splitView(shared: SharedSplit): Split {
  return { images: new Float32Array(shared.images), labels: new Uint8Array(shared.labels), count: shared.count, width: shared.width };
}

/** MnistData whose arrays are views of the shared memory (no copy; nobody writes to it). */
export function mnistFromShared(shared: SharedMnist): MnistData {
  return { train: splitView(shared.train), validation: splitView(shared.validation), test: splitView(shared.test), source: shared.source };
}
