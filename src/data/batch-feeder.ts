/**
 * @file Training batches straight into a network's input: the Batcher draws the next batch's
 * pixel bytes into a buffer in the backend's memory and one `bytesToFloats` call turns them into
 * the float input. The one place a training loop's "draw, then convert" lives.
 */
import type { ByteBuffer, Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import { PIXEL_SCALE, type Split } from './mnist.js';

export class BatchFeeder {
  private readonly batcher: Batcher;

  /**
   * @param pixels [batchSize, width] bytes in the backend's memory that batches are drawn into: a
   *   caller that makes feeders often passes one buffer (a wasm backend never frees memory).
   */
  constructor(
    private readonly kernels: Kernels,
    split: Split,
    batchSize: number,
    options: BatcherOptions,
    readonly pixels: ByteBuffer = kernels.byteBuffer(batchSize * split.width),
  ) {
    if (pixels.data.length !== batchSize * split.width)
      throw new RangeError(`a feeder of ${batchSize} × ${split.width} needs as many bytes, got ${pixels.data.length}`);
    this.batcher = new Batcher(split, batchSize, options);
  }

  /** Fills x [batchSize, width] with the next batch's pixels as floats and labels [batchSize] with its labels. */
  next(x: Matrix, labels: Uint8Array): void {
    // pixels.data read at each use: a growing wasm memory rebinds it.
    this.batcher.next(this.pixels.data, labels);
    this.kernels.bytesToFloats(this.pixels.data, PIXEL_SCALE, x);
  }
}
