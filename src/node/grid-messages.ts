/**
 * @file What the grid's main thread and its worker threads say to each other, and MNIST shared
 * between them: the main thread copies the pixel bytes once into SharedArrayBuffers, and every
 * worker trains on views of the same memory (one ~55 MB copy for the whole pool, not one each).
 * Splits whose pixels share a buffer (train and validation: two parts of one file) share one.
 */
import type { BackendChoice } from '../core/backend.js';
import type { MnistData, Split } from '../data/mnist.js';
import type { RunSpec } from '../lab/grid.js';
import type { TrainResult } from '../train/trainer.js';

export interface SharedSplit {
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

export type MainToWorker = { type: 'run'; spec: RunSpec } | { type: 'stop' };

export type WorkerToMain =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: string; step: number; stepsPerSecond: number }
  | { type: 'finished'; id: string; result: TrainResult; backend: string; durationMs: number }
  | { type: 'interrupted'; id: string; step: number }
  | { type: 'failed'; id: string | null; message: string };

/** Copies MNIST into shared memory (once, in the main thread). */
export function shareMnist(data: MnistData): SharedMnist {
  const splits = [data.train, data.validation, data.test];
  // One shared buffer per buffer the pixels come from, covering every split's bytes in it.
  const ranges = new Map<ArrayBufferLike, { start: number; end: number; shared?: SharedArrayBuffer }>();
  for (const { pixels } of splits) {
    const range = ranges.get(pixels.buffer);
    const start = pixels.byteOffset, end = pixels.byteOffset + pixels.byteLength;
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
