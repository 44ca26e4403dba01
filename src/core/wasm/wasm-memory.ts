/**
 * @file The wasm backend's memory: one WebAssembly.Memory, a bump allocator above the kernel
 * module's static data, and the bookkeeping that keeps handed-out matrices valid when it grows.
 *
 * Growth policy: a network reserves what it will need (`ensureFree`, sized from its spec and its
 * largest batch) before it allocates, so running it never grows memory; beyond that, memory
 * starts at 32 MiB and, when an allocation does not fit, grows by at least doubling.
 * `memory.grow` detaches every view on the old buffer, so the arena rebinds `Matrix.data` of
 * every matrix (and `ByteBuffer.data` of every byte buffer) it handed out to a view at the same
 * byte offset of the new buffer. Kernels address memory by byte offset, which growth never
 * changes. An array a caller took out of a matrix and kept cannot be rebound: that is what the
 * reservation is for.
 *
 * Nothing is freed: an arena lives as long as the networks built on its backend. Create one
 * backend per run (instances are cheap once the module is compiled) rather than one per process.
 */
import type { ByteBuffer } from '../kernels.js';
import { assertHasRows, Matrix } from '../matrix.js';

const PAGE_BYTES = 65536;
const MAX_PAGES = 65536; // 4 GiB: wasm32's limit
/** Every allocation starts on a cache line, which also aligns every vector. */
const ALIGNMENT = 64;
export const DEFAULT_INITIAL_MEMORY_BYTES = 32 * 1024 * 1024;

export class WasmArena {
  private currentBuffer: ArrayBuffer;
  private next: number;
  /** Every matrix handed out, and the byte offset of its data: what growth rebinds. */
  private readonly matrices: Matrix[] = [];
  private readonly offsets: number[] = [];
  /** Every byte buffer handed out, its byte offset and length (a detached view reads 0): growth rebinds these too. */
  private readonly byteBuffers: ByteBuffer[] = [];
  private readonly byteOffsets: number[] = [];
  private readonly byteLengths: number[] = [];

  constructor(
    readonly memory: WebAssembly.Memory,
    heapBase: number,
  ) {
    this.currentBuffer = memory.buffer;
    this.next = alignUp(heapBase);
  }

  /** The memory's current buffer: a Float32Array on it is in this arena. */
  get buffer(): ArrayBuffer {
    return this.currentBuffer;
  }

  get capacityBytes(): number {
    return this.currentBuffer.byteLength;
  }

  get allocatedBytes(): number {
    return this.next;
  }

  /** The byte offset of `bytes` fresh bytes (zero: memory is never reused), growing memory if needed. */
  reserve(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`cannot reserve ${bytes} bytes`);
    const offset = this.next;
    const end = alignUp(offset + bytes);
    if (end > this.currentBuffer.byteLength) this.grow(end);
    this.next = end;
    return offset;
  }

  /** Grows memory now, if needed, so that `bytes` more can be reserved without growing it. */
  ensureFree(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`cannot make room for ${bytes} bytes`);
    const end = alignUp(this.next + bytes);
    if (end > this.currentBuffer.byteLength) this.grow(end);
  }

  /** A zeroed [rows, cols] matrix that stays valid when memory grows. */
  matrix(rows: number, cols: number): Matrix {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new RangeError(`a matrix needs whole, non-negative dimensions, got ${rows}x${cols}`);
    }
    const offset = this.reserve(rows * cols * 4); // first: it may grow memory, replacing the buffer
    return this.track(new Matrix(rows, cols, new Float32Array(this.currentBuffer, offset, rows * cols)));
  }

  /** The first `rows` rows of a matrix of this arena, on the same memory, rebound as it is. */
  firstRows(matrix: Matrix, rows: number): Matrix {
    assertHasRows(matrix, rows);
    if (matrix.data.buffer !== this.currentBuffer) throw new RangeError("firstRows: the matrix is not in this backend's memory");
    const data = matrix.data as Float32Array;
    return this.track(new Matrix(rows, matrix.cols, data.subarray(0, rows * matrix.cols)));
  }

  private track(matrix: Matrix): Matrix {
    this.matrices.push(matrix);
    this.offsets.push(matrix.data.byteOffset);
    return matrix;
  }

  /** `length` zeroed bytes that stay valid when memory grows (through `data`, which is rebound). */
  bytes(length: number): ByteBuffer {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`cannot allocate ${length} bytes`);
    const offset = this.reserve(length);
    const buffer: ByteBuffer = { data: new Uint8Array(this.currentBuffer, offset, length) };
    this.byteBuffers.push(buffer);
    this.byteOffsets.push(offset);
    this.byteLengths.push(length);
    return buffer;
  }

  /** A view of `length` bytes at byte `offset` of the current buffer. */
  byteView(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.currentBuffer, offset, length);
  }

  /** A view of `length` floats at byte `offset` of the current buffer. */
  view(offset: number, length: number): Float32Array {
    return new Float32Array(this.currentBuffer, offset, length);
  }

  private grow(endBytes: number): void {
    const pages = this.currentBuffer.byteLength / PAGE_BYTES;
    const neededPages = Math.ceil(endBytes / PAGE_BYTES);
    const targetPages = Math.min(MAX_PAGES, Math.max(neededPages, pages * 2));
    if (neededPages > MAX_PAGES) {
      throw new RangeError(`the wasm backend needs ${endBytes} bytes, more than WebAssembly's 4 GiB; use smaller batches`);
    }
    try {
      this.memory.grow(targetPages - pages);
    } catch (error) {
      throw new RangeError(
        `the wasm backend could not grow its memory to ${targetPages * PAGE_BYTES} bytes (${String(error)}); use smaller batches or --backend js`,
      );
    }
    const oldBuffer = this.currentBuffer;
    this.currentBuffer = this.memory.buffer;
    for (let i = 0; i < this.matrices.length; i++) {
      const matrix = this.matrices[i]!;
      // Only views this arena made: a caller may have pointed a matrix at other data since.
      if (matrix.data.buffer !== oldBuffer) continue;
      matrix.data = new Float32Array(this.currentBuffer, this.offsets[i]!, matrix.rows * matrix.cols);
    }
    for (let i = 0; i < this.byteBuffers.length; i++) {
      const buffer = this.byteBuffers[i]!;
      if (buffer.data.buffer !== oldBuffer) continue;
      buffer.data = new Uint8Array(this.currentBuffer, this.byteOffsets[i]!, this.byteLengths[i]!);
    }
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
}
