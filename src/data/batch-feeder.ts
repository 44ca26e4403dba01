/**
 * @file Training batches straight into a network's input: the Batcher picks the next batch's
 * examples, and one kernel call converts those rows of the split, kept in the backend's memory
 * (resident-pixels.ts), into the input: floats (`gatherBytesToFloats`), or their nonzeros packed
 * for the first layer (`gatherSparseRows`, what training uses). No row is copied from JavaScript
 * per batch; the values and labels are exactly those of drawing the batch's bytes (`Batcher.next`)
 * and converting them. The one place a training loop's "draw, then convert" lives.
 */
import type { ByteBuffer, InputRows, Kernels } from '../core/kernels.js';
import { Matrix } from '../core/matrix.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import { PIXEL_SCALE, type Split } from './mnist.js';
import { residentPixels } from './resident-pixels.js';

export class BatchFeeder {
  private readonly batcher: Batcher;
  /** [count, width] the split's pixel bytes in the backend's memory, placed once per backend. */
  private readonly pixels: ByteBuffer;
  /** [batchSize] the examples of the batch being drawn. */
  private readonly indices: Uint32Array;
  private readonly width: number;

  constructor(
    private readonly kernels: Kernels,
    split: Split,
    batchSize: number,
    options: BatcherOptions,
  ) {
    this.batcher = new Batcher(split, batchSize, options);
    this.pixels = residentPixels(kernels, split.pixels);
    this.indices = new Uint32Array(batchSize);
    this.width = split.width;
  }

  /** Fills x [batchSize, width] with the next batch's pixels (as floats, or their nonzeros) and labels [batchSize] with its labels. */
  next(x: InputRows, labels: Uint8Array): void {
    const batchSize = this.indices.length,
      rows = x instanceof Matrix ? x.rows : x.maxRows;
    // A matrix of exactly the batch's rows; sparse rows with room for them (they hold as many as they are given).
    const fits = x instanceof Matrix ? rows === batchSize : rows >= batchSize;
    if (!fits || x.cols !== this.width) throw new RangeError(`a feeder of ${batchSize} × ${this.width} fills an input of that shape, got ${rows}x${x.cols}`);
    this.batcher.nextIndices(this.indices, labels);
    // pixels.data read at each use: a growing wasm memory rebinds it.
    if (x instanceof Matrix) this.kernels.gatherBytesToFloats(this.pixels.data, this.indices, PIXEL_SCALE, x);
    else this.kernels.gatherSparseRows(this.pixels.data, this.indices, PIXEL_SCALE, x);
  }

  /** Draws the next batch as `next` does, filling only `labels` [batchSize]: for a network that needs no pixels (its hidden layers dead for good). */
  nextLabels(labels: Uint8Array): void {
    this.batcher.nextIndices(this.indices, labels);
  }
}
