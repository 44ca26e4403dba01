/**
 * @file What the wasm backend asks of native code (Node only: native/, loaded by
 * src/node/native-files.ts): the matrix products (the first layer's sparse ones, whose input is
 * 81% zeros, the hidden layers' past ReLU, the dense register-tiled one, dY·Wᵀ, and the rescaled
 * ones of saturated networks, with their subnormal checks and scalings), the batch draw, the
 * search for negligible updates, the sigmoid, and the kernels of BatchNorm, Group Norm (Layer
 * Norm and RMSNorm too) and Weight Norm, in 512-bit vectors (AVX-512F) or 256-bit ones (AVX2 with
 * FMA): every build has them all. All run on the wasm module's own memory. Each computes every
 * output element with the same operations in the same order as the relaxed-SIMD kernel it stands
 * for on FMA hardware (the AVX-512F sigmoid's gradient, where it meets subnormals, on floats
 * scaled up and rounded to the same grid), so the backend uses them only where its multiply-add
 * is fused, and they change no bit (test/core/native-*.test.ts). Offsets are bytes into
 * `memory`; sizes are counts.
 */
import type { KernelExports } from './kernel-module.js';

/**
 * Whether the native Group Norm kernels (native/group-norm.c) take n units in `groups` groups: groups
 * of 4 in a count that is a multiple of 4 (Group Norm's default, 32 groups of 4 at 128 units), or
 * groups a multiple of 16 wide (Layer Norm and RMSNorm, one group, at 128 or 784 units). Elsewhere
 * the wasm kernels run: groups of 8 or 12 ran faster there, and other sizes end in scalar tails.
 */
export function nativeGroupNormTakes(n: number, groups: number): boolean {
  if (!(n > 0 && n % groups === 0)) return false;
  const size = n / groups;
  return (size === 4 && groups % 4 === 0) || size % 16 === 0;
}

/**
 * Output widths the native norms and dY·Wᵀ take (a multiple of 16 floats: whole 512-bit vectors).
 * gemm takes 4 or more (nativeGemmTakes); the sparse products (matmulSparseRows, matmulSparse and
 * their xᵀ·dY) take any width: their last vector is masked, its columns past a multiple of 4
 * summed as the wasm kernels' scalar columns are.
 */
export const NATIVE_COLUMN_MULTIPLE = 16;

/** Whether the native gemm takes an output this wide: 4 columns or more, the last vector masked (below 4 the wasm kernel sums one float at a time, unfused). */
export function nativeGemmTakes(cols: number): boolean {
  return cols >= 4;
}

/** Scratch bytes the native matmulSparse (a row of `count` floats) and matmulTransposeASparseAdd (a column of `count`) pack into. */
export function nativePackScratchBytes(count: number): number {
  return 2 * (count + 16) * 4;
}

/** Scratch bytes the native dY·Wᵀ kernels lay sixteen rows of W[k,n] out in (a block at a time, while it is in L1). */
export function nativeLaidOutBytes(n: number): number {
  return 16 * n * 4;
}

/**
 * The wasm kernels native code runs with their own parameters, the memory first: the checks and
 * scalings of assembly/subnormals.ts (native/subnormals.c; scaleByPowerOfTwo's |exponent| from 23
 * to 100) and the search for negligible updates and the moves of their block of
 * assembly/negligible-updates.ts (native/negligible-updates.c; a list naming a column past its row
 * is a RangeError there).
 */
export const SUBNORMAL_KERNELS = ['hasSubnormal', 'rescalable', 'scaleByPowerOfTwo'] as const;
export const NEGLIGIBLE_UPDATE_KERNELS = [
  'columnSums',
  'sparseColumnSums',
  'columnMaxima',
  'keptUpdates',
  'gatherColumns',
  'gatherBlock',
  'scatterBlock',
  'scatterColumns',
] as const;
/**
 * Native kernels the backend calls directly with the wasm kernel's parameters, the memory first:
 * assembly/dense-matmul.ts' gemm (strides in bytes; `accumulate` 0 or 1), rescaled-gemm.ts'
 * gemmAddRescaled (native/rescaled-products.c; cols ≥ 4), elementwise.ts' scaleShiftColumns
 * (native/weight-norm.c; n a multiple of 16) and batch-norm.ts' batchNormForwardTrain and
 * batchNormBackward (native/batch-norm.c; n a multiple of 16).
 */
type SameParameters = 'gemm' | 'gemmAddRescaled' | 'scaleShiftColumns' | 'batchNormForwardTrain' | 'batchNormBackward';
export type MemoryFirstKernel = (typeof SUBNORMAL_KERNELS)[number] | (typeof NEGLIGIBLE_UPDATE_KERNELS)[number] | SameParameters;

/** A wasm kernel's signature with the memory first. */
type OnMemory<F> = F extends (...args: infer A) => infer R ? (memory: ArrayBuffer, ...args: A) => R : never;
type MemoryFirstKernels = { [N in MemoryFirstKernel]: OnMemory<KernelExports[N]> };

/** The native versions of `names`, called as the wasm kernels are: on the memory's buffer of the moment (it is replaced when memory grows). */
export function onMemory<N extends MemoryFirstKernel>(
  native: Pick<MemoryFirstKernels, N>,
  memory: { readonly buffer: ArrayBuffer },
  names: readonly N[],
): Pick<KernelExports, N> {
  const bound: Record<string, unknown> = {};
  for (const name of names) {
    const kernel = native[name] as (memory: ArrayBuffer, ...args: number[]) => unknown;
    bound[name] = (...args: number[]) => kernel(memory.buffer, ...args);
  }
  return bound as Pick<KernelExports, N>;
}

/** The native kernels: the same set in every build. */
export interface NativeKernels extends MemoryFirstKernels {
  /** The vector instructions they run on: 'avx512f' or 'avx2'. */
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
  /**
   * As matmulTransposeASparseRowsAdd; scratch of matmulTransposeASparseRowsScratchBytes. `unscaleB`
   * 1 for b as it is (any n), or 2^−E for b given as b·2^E (its rescaled sums, native/
   * rescaled-products.c; n a multiple of 4).
   */
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
    unscaleB: number,
  ): void;
  /** As assembly/sparse-matmul.ts' matmulSparse (`fromZero` 0) or matmulSparseInRegisters (1); scratch of nativePackScratchBytes(k). */
  matmulSparse(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, fromZero: number, scratch: number): void;
  /** As matmulTransposeASparseAdd; scratch of nativePackScratchBytes(m). */
  matmulTransposeASparseAdd(memory: ArrayBuffer, a: number, b: number, out: number, m: number, k: number, n: number, scale: number, scratch: number): void;
  /**
   * As assembly/dot-matmul.ts' matmulTransposeB (out = a·bᵀ), or matmulTransposeBMasked with a mask
   * (its offset; 0 for none); m even, n a multiple of 4, k of 16; scratch of nativeLaidOutBytes(n).
   */
  matmulTransposeB(memory: ArrayBuffer, a: number, b: number, out: number, m: number, n: number, k: number, mask: number, scratch: number): void;
  /**
   * As assembly/rescaled-dot-matmul.ts' matmulTransposeBRescaled (a given as a·2^E, unscaleA = 2^−E):
   * 1 when a sum overflowed scaled up (out is then incomplete), else 0; m even, n a multiple of 4,
   * k of 16; scratch of nativeLaidOutBytes(n).
   */
  matmulTransposeBRescaled(memory: ArrayBuffer, a: number, b: number, out: number, m: number, n: number, k: number, unscaleA: number, scratch: number): number;
  /** As assembly/sparse-rows.ts' gatherSparseRows (a batch drawn from bytes in this memory, packed as its nonzeros). */
  gatherSparseRows(
    memory: ArrayBuffer,
    bytes: number,
    rows: number,
    count: number,
    width: number,
    scale: number,
    rowStart: number,
    indices: number,
    values: number,
  ): void;
  /** As assembly/fast-math.ts' sigmoidForward (native/sigmoid.c; out may be x). */
  sigmoidForward(memory: ArrayBuffer, x: number, out: number, count: number): void;
  /** As assembly/elementwise.ts' activationBackward for the sigmoid: dx = dy·y·(1 − y) (dx may be dy). */
  sigmoidBackward(memory: ArrayBuffer, y: number, dy: number, dx: number, count: number): void;
  /** As assembly/weight-norm.ts' weightNormScale (native/weight-norm.c); n a multiple of 16. */
  weightNormScale(memory: ArrayBuffer, v: number, k: number, n: number, g: number, norms: number, scale: number): void;
  /** As weightNormBackward (tMean 0 for none); n a multiple of 16. */
  weightNormBackward(
    memory: ArrayBuffer,
    dy: number,
    t: number,
    tMean: number,
    norms: number,
    scale: number,
    g: number,
    m: number,
    n: number,
    dt: number,
    dg: number,
    coefficient: number,
  ): void;
  /** As addScaledColumns (out may be v); n a multiple of 16. */
  addScaledColumns(memory: ArrayBuffer, v: number, coefficient: number, factor: number, out: number, k: number, n: number): void;
  /**
   * As assembly/group-norm.ts' groupNormForward (`centered` 0 or 1; gamma, beta 0: none), where
   * `nativeGroupNormTakes(n, groups)` (elsewhere it throws a RangeError).
   */
  groupNormForward(
    memory: ArrayBuffer,
    x: number,
    m: number,
    n: number,
    groups: number,
    centered: number,
    eps: number,
    gamma: number,
    beta: number,
    invStd: number,
    xhat: number,
    y: number,
  ): void;
  /** As groupNormBackward (gamma, dGamma, dBeta 0: none), where `nativeGroupNormTakes(n, groups)`. */
  groupNormBackward(
    memory: ArrayBuffer,
    dy: number,
    xhat: number,
    invStd: number,
    groups: number,
    centered: number,
    gamma: number,
    m: number,
    n: number,
    dx: number,
    dGamma: number,
    dBeta: number,
  ): void;
}
