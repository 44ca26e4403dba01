/**
 * @file One sequence of training batches drawn once for several networks (issue 15, item 2).
 * Networks whose runs have the same batch seed, batch size and shuffling see the same batches
 * (compare's networks; every run of a sweep with the same seed): when one thread trains them
 * side by side, step by step, the batch of each step is drawn and converted to floats once, into
 * one input matrix in their common backend, and every network trains on it. Each network gets
 * exactly the batches (and so the numbers) it gets training alone.
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import type { BatcherOptions } from './batcher.js';
import { BatchFeeder } from './batch-feeder.js';
import type { Split } from './mnist.js';

export class SharedBatches {
  /** [batchSize, width] the floats of the latest batch drawn; nobody but `batch` writes it. */
  readonly x: Matrix;
  /** [batchSize] its labels. */
  readonly labels: Uint8Array;
  private readonly feeder: BatchFeeder;
  /** Batches drawn so far: batch s (1-based) is the one training step s runs on. */
  private drawn = 0;

  constructor(readonly kernels: Kernels, readonly split: Split, readonly batchSize: number, readonly options: Readonly<BatcherOptions>) {
    kernels.reserveMemory(batchSize * split.width * 5 + 4096); // x (floats) and the pixel bytes, allocated before any network holds a view
    this.feeder = new BatchFeeder(kernels, split, batchSize, options);
    this.x = kernels.matrix(batchSize, split.width);
    this.labels = new Uint8Array(batchSize);
  }

  /** The bytes batches are drawn into: free between steps once `x` holds the floats (scratch for Algorithm 2's recompute). */
  get pixels(): BatchFeeder['pixels'] {
    return this.feeder.pixels;
  }

  /** True when a run of these settings draws exactly this sequence (the same split, batch size, shuffling and seed). */
  serves(kernels: Kernels, split: Split, batchSize: number, options: BatcherOptions): boolean {
    return kernels === this.kernels && split === this.split && batchSize === this.batchSize
      && options.shuffle === this.options.shuffle && options.seed === this.options.seed;
  }

  /**
   * Makes `x` and `labels` hold the batch of training step `step` (1-based): the next one is drawn
   * (by the first network to reach that step), the current one is kept (for the others).
   * Networks sharing a sequence advance together: any other step is an error.
   */
  batch(step: number): void {
    if (step === this.drawn + 1) {
      this.feeder.next(this.x, this.labels);
      this.drawn = step;
    } else if (step !== this.drawn) {
      throw new RangeError(`shared batches hold batch ${this.drawn}; step ${step} asks for another (networks sharing batches must advance together)`);
    }
  }
}
