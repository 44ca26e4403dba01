/**
 * @file Mini-batches the way TensorFlow 1.x `mnist.train.next_batch(n)` draws them
 * (tensorflow/contrib/learn/python/learn/datasets/mnist.py, DataSet.next_batch): the order is
 * shuffled once before the first batch; a batch that runs past the end of an epoch takes the rest
 * of this epoch, reshuffles, and fills up from the start of the next. Shuffling uses the project's
 * seeded Rng on an index permutation, so a seed gives the same batches on every machine.
 * A batch is the example indices of its rows (`nextIndices`: the backend gathers and converts
 * those rows of the split in its own memory, see batch-feeder.ts) or their raw pixel bytes (`next`).
 */
import { Rng } from '../core/rng.js';
import type { Split } from './mnist.js';

export interface BatcherOptions {
  /** Shuffle before the first epoch and between epochs (TensorFlow's default); false = file order. */
  shuffle: boolean;
  seed: number;
}

export class Batcher {
  private readonly split: Split;
  private readonly batchSize: number;
  private readonly rng: Rng | null;
  /** [count] the order of this epoch: position p in the epoch is example order[p]. */
  private readonly order: Uint32Array;
  /** [count] one byte view [width] per example, made at the first next() so that it copies rows with memcpy-speed `set` and allocates nothing. */
  private rows: Uint8Array[] | null = null;
  /** [batchSize] the example indices of next()'s batch. */
  private indices: Uint32Array | null = null;
  /** Next position in `order` to take. */
  private position = 0;
  private completedEpochs = 0;

  constructor(split: Split, batchSize: number, options: BatcherOptions) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`the batch size must be a whole number ≥ 1, got ${batchSize}`);
    if (split.count < 1) throw new RangeError('cannot draw batches from an empty split');
    if (split.pixels.length !== split.count * split.width || split.labels.length !== split.count) {
      throw new RangeError(
        `a split of ${split.count} × ${split.width} needs ${split.count * split.width} pixels and ${split.count} labels, got ${split.pixels.length} and ${split.labels.length}`,
      );
    }
    this.split = split;
    this.batchSize = batchSize;
    this.order = new Uint32Array(split.count);
    for (let i = 0; i < split.count; i++) this.order[i] = i;
    this.rng = options.shuffle ? new Rng(options.seed) : null;
    this.rng?.shuffle(this.order); // TensorFlow shuffles before the first epoch too
  }

  /** Epochs completed; like TensorFlow's `epochs_completed` it counts up when a batch crosses the end. */
  get epoch(): number {
    return this.completedEpochs;
  }

  /**
   * Fills `indices` [batchSize] with the examples of the next batch (rows of the split, in batch
   * order) and `labels` [batchSize] with their labels, in place. Allocates nothing.
   */
  nextIndices(indices: Uint32Array, labels: Uint8Array): void {
    const { batchSize, order } = this;
    const { count } = this.split;
    if (indices.length !== batchSize || labels.length !== batchSize) {
      throw new RangeError(`nextIndices() needs ${batchSize} indices and ${batchSize} labels, got ${indices.length} and ${labels.length}`);
    }
    const sourceLabels = this.split.labels; // [count]
    let position = this.position;
    for (let row = 0; row < batchSize; row++) {
      if (position === count) {
        // The epoch is used up: the rest of the batch comes from a freshly shuffled next epoch.
        this.completedEpochs++;
        this.rng?.shuffle(order);
        position = 0;
      }
      const example = order[position++]!;
      indices[row] = example;
      labels[row] = sourceLabels[example]!;
    }
    this.position = position;
  }

  /**
   * Fills `pixels` [batchSize, width] (bytes) and `labels` [batchSize] with the next batch, in
   * place: the batch of `nextIndices`, its rows copied out of the split.
   */
  next(pixels: Uint8Array, labels: Uint8Array): void {
    const { batchSize } = this;
    const { width, pixels: source } = this.split;
    if (pixels.length !== batchSize * width || labels.length !== batchSize) {
      throw new RangeError(`next() needs pixels of ${batchSize} × ${width} and ${batchSize} labels, got ${pixels.length} and ${labels.length}`);
    }
    this.rows ??= Array.from({ length: this.split.count }, (_, i) => source.subarray(i * width, (i + 1) * width));
    this.indices ??= new Uint32Array(batchSize);
    const { rows, indices } = this;
    this.nextIndices(indices, labels);
    for (let row = 0; row < batchSize; row++) pixels.set(rows[indices[row]!]!, row * width);
  }
}
