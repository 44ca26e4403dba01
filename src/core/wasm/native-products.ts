/**
 * @file What the wasm backend asks of native products (Node only: native/products.c, loaded by
 * src/node/native-files.ts): its sparse products (the first layer's, whose input is 81% zeros,
 * and the hidden layers' past ReLU) and its dense register-tiled product in 512-bit vectors, run on the wasm module's own memory. Each
 * computes every output element with the same operations in the same order as the relaxed-SIMD
 * kernel it stands for on FMA hardware, so the backend uses them only where its multiply-add is
 * fused, and they change no bit (test/core/native-products.test.ts). Offsets are bytes into
 * `memory`; sizes are counts.
 */

/** Output widths the native products take (a multiple of 16 floats: whole 512-bit vectors). */
export const NATIVE_COLUMN_MULTIPLE = 16;

/** Scratch bytes the native matmulSparse (a row of `count` floats) and matmulTransposeASparseAdd (a column of `count`) pack into. */
export function nativePackScratchBytes(count: number): number {
  return 2 * (count + 16) * 4;
}

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
  /** As assembly/sparse-matmul.ts' matmulSparse (`fromZero` 0) or matmulSparseInRegisters (1); scratch of nativePackScratchBytes(k). */
  matmulSparse(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, fromZero: number, scratch: number): void;
  /** As matmulTransposeASparseAdd; scratch of nativePackScratchBytes(m). */
  matmulTransposeASparseAdd(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, scale: number, scratch: number): void;
  /**
   * As assembly/dot-matmul.ts' matmulTransposeB (out = a·bᵀ), or matmulTransposeBMasked with a mask
   * (its offset; 0 for none); m even, n a multiple of 4, k of 16; scratch of k·n floats.
   */
  matmulTransposeB(memory: ArrayBuffer, a: number, b: number, out: number, m: number, n: number, k: number, mask: number, scratch: number): void;
  /** As assembly/dense-matmul.ts' gemm (strides in bytes; `accumulate` 0 or 1). */
  gemm(
    memory: ArrayBuffer,
    a: number,
    aRowStride: number,
    aStep: number,
    b: number,
    bRowStride: number,
    c: number,
    cRowStride: number,
    rows: number,
    cols: number,
    depth: number,
    accumulate: number,
    scale: number,
  ): void;
}
