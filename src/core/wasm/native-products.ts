/**
 * @file What the wasm backend asks of native products (Node only: native/products.c, loaded by
 * src/node/native-files.ts): its sparse products (the first layer's, whose input is 81% zeros,
 * and the hidden layers' past ReLU) in 512-bit vectors, run on the wasm module's own memory. Each
 * computes every output element with the same operations in the same order as the relaxed-SIMD
 * kernel it stands for on FMA hardware, so the backend uses them only where its multiply-add is
 * fused, and they change no bit (test/core/native-products.test.ts). Offsets are bytes into
 * `memory`; sizes are counts.
 */

/** Output widths the native products take (a multiple of 16 floats: whole 512-bit vectors). */
export const NATIVE_COLUMN_MULTIPLE = 16;

export interface NativeProducts {
  /** The vector instructions they run on (e.g. 'avx512f'), for the backend's name. */
  readonly vectors: string;
  /** As assembly/sparse-rows.ts' matmulSparseRows; `fromZero` 1 for its in-register sums. */
  matmulSparseRows(
    memory: ArrayBuffer,
    rowStart: number,
    indices: number,
    values: number,
    m: number,
    k: number,
    b: number,
    out: number,
    n: number,
    fromZero: number,
  ): void;
  /** As matmulTransposeASparseRowsAdd with b as it is; scratch of matmulTransposeASparseRowsScratchBytes. */
  matmulTransposeASparseRowsAdd(
    memory: ArrayBuffer,
    rowStart: number,
    indices: number,
    values: number,
    m: number,
    k: number,
    b: number,
    out: number,
    n: number,
    scale: number,
    scratch: number,
  ): void;
  /** As assembly/sparse-matmul.ts' matmulSparse (`fromZero` 0) or matmulSparseInRegisters (1); scratch of matmulSparseScratchBytes. */
  matmulSparse(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, fromZero: number, scratch: number): void;
  /** As matmulTransposeASparseAdd; scratch of matmulTransposeASparseScratchBytes. */
  matmulTransposeASparseAdd(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, scale: number, scratch: number): void;
}
