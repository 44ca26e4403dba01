/**
 * @file One sequence of training batches drawn once for several networks (issue 15, item 2).
 * Networks whose runs have the same batch seed, batch size and shuffling see the same batches
 * (compare's networks; every run of a sweep with the same seed): when one thread trains them
 * side by side, step by step, the batch of each step is drawn and converted to floats once, into
 * input matrices in their common backend, and every network trains on it. Each network gets
 * exactly the batches (and so the numbers) it gets training alone. Batches are drawn `ahead` at a
 * time (a window of steps), so that each network can run the window's steps in a row: a network
 * whose weights stay in the caches for several steps does not lose to the others what the shared
 * draw gains (one step each in turn did, by measurement: bench/shared-batches.ts).
 */
import { type Kernels, type SparseRows, sparseRowsBytes } from '../core/kernels.js';
import { BatchFeeder } from './batch-feeder.js';
import type { BatcherOptions } from './batcher.js';
import type { Split } from './mnist.js';

export interface SharedBatch {
  /** [batchSize, width] the batch's pixels as their nonzeros; nobody but `batch` writes them. */
  x: SparseRows;
  /** [batchSize] its labels. */
  labels: Uint8Array;
}

export class SharedBatches {
  /** The window: batch `first + i` (1-based: batch s is the one training step s runs on) in slot i. */
  private readonly window: SharedBatch[];
  private readonly feeder: BatchFeeder;
  /** The step of the window's first batch; the window holds steps first .. first + ahead − 1 (none drawn yet: first 1 − ahead). */
  private first: number;

  /** @param ahead batches drawn at a time: the steps each network may run in a row before the next window. */
  constructor(
    readonly kernels: Kernels,
    readonly split: Split,
    readonly batchSize: number,
    readonly options: Readonly<BatcherOptions>,
    readonly ahead = 1,
  ) {
    if (!Number.isInteger(ahead) || ahead < 1) throw new RangeError(`batches are drawn at least one at a time, got ${ahead}`);
    // The batches (and the split's bytes, placed once per backend by the feeder) allocated before any network holds a view.
    kernels.reserveMemory(sparseRowsBytes(batchSize, split.width) * ahead + 4096);
    this.feeder = new BatchFeeder(kernels, split, batchSize, options);
    this.window = Array.from({ length: ahead }, () => ({ x: kernels.sparseRows(batchSize, split.width), labels: new Uint8Array(batchSize) }));
    this.first = 1 - ahead;
  }

  /** True when a run of these settings draws exactly this sequence (the same split, batch size, shuffling and seed). */
  serves(kernels: Kernels, split: Split, batchSize: number, options: BatcherOptions): boolean {
    return (
      kernels === this.kernels &&
      split === this.split &&
      batchSize === this.batchSize &&
      options.shuffle === this.options.shuffle &&
      options.seed === this.options.seed
    );
  }

  /**
   * The batch of training step `step` (1-based). The first network to ask for a step past the
   * window draws the next window (the next `ahead` batches of the sequence); the others find it
   * drawn. Networks sharing a sequence advance together, a window at a time: a step before the
   * window, or beyond the next one, is an error.
   */
  batch(step: number): SharedBatch {
    const { ahead } = this;
    if (step === this.first + ahead) {
      for (const slot of this.window) this.feeder.next(slot.x, slot.labels);
      this.first = step;
    }
    const slot = step - this.first;
    if (!(slot >= 0 && slot < ahead)) {
      throw new RangeError(
        `shared batches hold batches ${this.first} to ${this.first + ahead - 1}; step ${step} asks for another (networks sharing batches must advance together)`,
      );
    }
    return this.window[slot]!;
  }
}
