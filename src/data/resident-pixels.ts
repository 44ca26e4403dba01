/**
 * @file A split's pixel bytes kept in a kernel backend's memory, copied in once per backend and
 * then read in place by the kernels: a training batch is 60 rows picked anywhere in 43 MB
 * (`gatherBytesToFloats`), and copying those rows into wasm memory from JavaScript cost most of
 * the batch's time. Splits that are views of one buffer share a placement when one lies within
 * another (a `headOf` prefix of the training split). The js backend computes on the JavaScript
 * heap: there a split's own bytes already are its memory, and nothing is copied.
 *
 * Wasm memory is never freed, so a placement whose bytes' buffer has been garbage-collected (a
 * claim's reordered copy of the training split, made per seed) is reused for the next bytes that fit.
 */
import type { ByteBuffer, Kernels } from '../core/kernels.js';

interface Placement {
  /** The buffer the placed bytes were copied from, held weakly: once collected, the room is free. */
  source: WeakRef<ArrayBufferLike>;
  /** Byte range [start, start + length) of `source` that `bytes` holds. */
  start: number;
  length: number;
  /** The room in the backend's memory, at least `length` bytes. */
  readonly bytes: ByteBuffer;
}

const placements = new WeakMap<Kernels, Placement[]>();

/**
 * `pixels` in `kernels`' memory: `data` is a view of the same bytes there (rebound, like a
 * `byteBuffer`'s, when that memory grows: read it at each use). Nobody may write to it.
 */
export function residentPixels(kernels: Kernels, pixels: Uint8Array): ByteBuffer {
  if (kernels.name === 'js') return { data: pixels };
  let list = placements.get(kernels);
  if (!list) {
    list = [];
    placements.set(kernels, list);
  }
  const start = pixels.byteOffset;
  const holding = list.find((p) => p.source.deref() === pixels.buffer && p.start <= start && start + pixels.length <= p.start + p.length);
  return new PlacedPixels(holding ?? place(kernels, list, pixels), pixels);
}

/** Copies `pixels` into free room: a placement whose source is gone and that is large enough, else new room. */
function place(kernels: Kernels, list: Placement[], pixels: Uint8Array): Placement {
  const source = new WeakRef(pixels.buffer);
  let placement = list.find((p) => p.source.deref() === undefined && p.bytes.data.length >= pixels.length);
  if (placement) {
    placement.source = source;
    placement.start = pixels.byteOffset;
    placement.length = pixels.length;
  } else {
    placement = { source, start: pixels.byteOffset, length: pixels.length, bytes: kernels.byteBuffer(pixels.length) };
    list.push(placement);
  }
  placement.bytes.data.set(pixels);
  return placement;
}

/** A split's bytes within a placement; holds the split's own bytes, so that the placement is not reused under it. */
class PlacedPixels implements ByteBuffer {
  private placementData: Uint8Array | null = null;
  private view: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly placement: Placement,
    private readonly pixels: Uint8Array,
  ) {}

  get data(): Uint8Array {
    const whole = this.placement.bytes.data;
    if (whole !== this.placementData) {
      // Made again only when memory grew (and rebound the placement): reading it per batch allocates nothing.
      const offset = this.pixels.byteOffset - this.placement.start;
      this.view = whole.subarray(offset, offset + this.pixels.length);
      this.placementData = whole;
    }
    return this.view;
  }
}
