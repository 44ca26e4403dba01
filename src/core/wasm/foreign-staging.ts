/**
 * @file The slow path for matrices whose data is not in the wasm backend's memory (plain
 * `Matrix.from` arrays, another backend's views), and for input bytes read from anywhere (a
 * split's pixels in evaluation): each is copied into a staging region of the
 * arena before the kernel runs, and the ones the kernel writes are copied back after. The same
 * array passed twice (an in-place activation) is staged once, so aliasing means the same thing
 * as on the fast path. Distinct views that overlap in one foreign buffer are staged separately,
 * as independent copies. Float64 data is refused: the wasm kernels compute in float32.
 */
import type { FloatArray, Matrix } from '../matrix.js';
import type { WasmArena } from './wasm-memory.js';

const MIN_REGION_BYTES = 64 * 1024;
const ALIGNMENT = 64;

export class ForeignStaging {
  private regionStart = 0;
  private regionEnd = 0;
  private cursor = 0;
  /** The arrays staged during the current kernel call, where they went, and whether to copy them back. */
  private readonly arrays: FloatArray[] = [];
  private readonly offsets: number[] = [];
  private readonly writesBack: boolean[] = [];
  private count = 0;

  constructor(private readonly arena: WasmArena) {}

  /** Forgets what an earlier call staged (one that threw before `finish`). Call before staging. */
  begin(): void {
    this.count = 0;
    this.cursor = this.regionStart;
  }

  /** The byte offset where the kernel finds a copy of `matrix`; `writes`: copy it back in `finish`. */
  place(matrix: Matrix, kernel: string, writes: boolean): number {
    const data = matrix.data;
    if (!(data instanceof Float32Array)) {
      throw new TypeError(`${kernel}: the wasm backend computes in float32 but was given a float64 matrix; use the js backend for float64 work`);
    }
    if (data.length > 0 && data.buffer.byteLength === 0) {
      throw new Error(
        `${kernel}: a matrix's buffer was detached, probably a matrix's data kept aside across a growth of wasm memory; read matrix.data at each use`,
      );
    }
    for (let s = 0; s < this.count; s++) {
      if (this.arrays[s] === data) {
        this.writesBack[s] = this.writesBack[s]! || writes;
        return this.offsets[s]!;
      }
    }
    const offset = this.claim(data.byteLength);
    this.arena.view(offset, data.length).set(data);
    this.arrays[this.count] = data;
    this.offsets[this.count] = offset;
    this.writesBack[this.count] = writes;
    this.count++;
    return offset;
  }

  /** The byte offset where the kernel finds a copy of `bytes` (read only: nothing is copied back). */
  placeBytes(bytes: Uint8Array): number {
    const offset = this.claim(bytes.length);
    this.arena.byteView(offset, bytes.length).set(bytes);
    return offset;
  }

  /** The byte offset where the kernel finds rows[0], rows[1], … of `bytes` (rows of `width` bytes) copied side by side. */
  placeRows(bytes: Uint8Array, rows: ArrayLike<number>, width: number): number {
    const offset = this.claim(rows.length * width);
    const staged = this.arena.byteView(offset, rows.length * width);
    for (let i = 0; i < rows.length; i++) staged.set(bytes.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
    return offset;
  }

  /** The offset of `byteLength` bytes of the staging region, which grows when they do not fit. */
  private claim(byteLength: number): number {
    const bytes = Math.ceil(byteLength / ALIGNMENT) * ALIGNMENT;
    if (this.cursor + bytes > this.regionEnd) {
      // A new, larger region; the old one stays valid for what this call already staged in it.
      const size = Math.max(bytes, 2 * (this.regionEnd - this.regionStart), MIN_REGION_BYTES);
      this.regionStart = this.arena.reserve(size);
      this.regionEnd = this.regionStart + size;
      this.cursor = this.regionStart;
    }
    const offset = this.cursor;
    this.cursor += bytes;
    return offset;
  }

  /** Copies what the kernel wrote back into the foreign arrays. */
  finish(): void {
    if (this.count === 0) return;
    for (let s = 0; s < this.count; s++) {
      if (this.writesBack[s]) {
        const data = this.arrays[s]!;
        data.set(this.arena.view(this.offsets[s]!, data.length));
      }
    }
    this.count = 0;
    this.cursor = this.regionStart;
    this.arrays.fill(EMPTY); // let the caller's arrays be collected
  }
}

const EMPTY = new Float32Array(0);
