/**
 * @file The compiled kernel module (assembly/index.ts) as TypeScript sees it: the signatures of
 * its exports, its two build variants, and instantiation against a memory the host creates.
 * Every pointer argument is a byte offset into that memory; sizes are element counts.
 */

/** The builds of the kernel module: relaxed SIMD (fused multiply-add) or plain SIMD128. */
export type WasmVariant = 'relaxed-simd' | 'simd128';
export const WASM_VARIANTS: readonly WasmVariant[] = ['relaxed-simd', 'simd128'];

/** The file names scripts/build-wasm.mjs gives the two builds (in build/, and in the page's wasm/). */
export const KERNEL_MODULE_FILES = {
  relaxedSimd: 'bnlab-kernels.relaxed-simd.wasm',
  simd128: 'bnlab-kernels.simd128.wasm',
} as const;

/** Activation codes, as assembly/elementwise.ts numbers them. */
export const ACTIVATION_CODES = { relu: 0, sigmoid: 1, tanh: 2, identity: 3 } as const;
export type ActivationCode = (typeof ACTIVATION_CODES)[keyof typeof ACTIVATION_CODES];

export interface KernelExports {
  heapBase(): number;
  /** C[rows,cols] = A(rows,depth)·B[depth,cols], or C += scale·A·B when accumulate; A(i,t) at a + i·aRowStride + t·aStep (bytes). */
  gemm(
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
  matmulTransposeB(a: number, b: number, out: number, m: number, n: number, k: number): void;
  /** matmulTransposeB's out where mask[m,k] > 0, +0 elsewhere (the same bits where kept); indices: 3·(k + 8) i32s of scratch. */
  matmulTransposeBMasked(a: number, b: number, mask: number, out: number, m: number, n: number, k: number, indices: number): void;
  /** t[k,m] = a[m,k]ᵀ. */
  transpose(a: number, m: number, k: number, t: number): void;
  /** How many of the `count` floats at x are not zero (NaN included). */
  countNonzeros(x: number, count: number): number;
  /** Whether none of the `count` floats at x is infinite or NaN (1) or some is (0). */
  allFinite(x: number, count: number): number;
  /** Whether one of the `count` floats at x is subnormal (1) or none is (0). */
  hasSubnormal(x: number, count: number): number;
  /** Whether every one of the `count` floats at x multiplies by 2^24 (`up` 1) or 2^−24 (0) and back exactly (1) or not (0). */
  rescalable(x: number, count: number, up: number): number;
  /** x[i] ·= 2^exponent for the `count` floats at x (|exponent| 23 to 100), exact where `rescalable` says so, with no multiply on a subnormal. */
  scaleByPowerOfTwo(x: number, count: number, exponent: number): void;
  /**
   * gemm's C += scale·A·B (cols ≥ 4, a fused `madd`) for factors given as A·2^ea and B·2^eb, with
   * unscaleA = 2^−ea, unscaleB = 2^−eb (assembly/rescaled-gemm.ts says how every element keeps gemm's bits).
   */
  gemmAddRescaled(
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
    scale: number,
    unscaleA: number,
    unscaleB: number,
  ): void;
  /** sums[i] = Σ_t |a[t,i]| of a[m,k] (assembly/negligible-updates.ts). */
  columnSums(a: number, m: number, k: number, sums: number): void;
  /** columnSums of k columns given as `entries` nonzeros (column indices, values). */
  sparseColumnSums(indices: number, values: number, entries: number, k: number, sums: number): void;
  /** maxima[j] = max_t |b[t,j]| of b[m,n] (a NaN kept). */
  columnMaxima(b: number, m: number, n: number, maxima: number): void;
  /**
   * For c[k,n] += scale·(a[m,k]ᵀ·b[m,n]) (a, b given divided by unscaleA, unscaleB), from their
   * column sums and maxima: the rows and columns of c holding an update that may change its bits,
   * as u32 lists, and their counts (counts[0], counts[1]).
   */
  keptUpdates(
    sums: number,
    maxima: number,
    c: number,
    m: number,
    k: number,
    n: number,
    scale: number,
    unscaleA: number,
    unscaleB: number,
    keptRows: number,
    keptCols: number,
    counts: number,
  ): void;
  /** out[r,q] = src[r, list[q]] (src [rows, cols], out [rows, count]). */
  gatherColumns(src: number, rows: number, cols: number, list: number, count: number, out: number): void;
  /** out[p,q] = c[rowList[p], colList[q]] (c with `cols` columns). */
  gatherBlock(c: number, cols: number, rowList: number, rowCount: number, colList: number, colCount: number, out: number): void;
  /** gatherBlock undone: c[rowList[p], colList[q]] = block[p,q]. */
  scatterBlock(block: number, c: number, cols: number, rowList: number, rowCount: number, colList: number, colCount: number): void;
  /** gatherColumns undone: dst[r, list[q]] = block[r,q] (block [rows, count], dst [rows, cols]). */
  scatterColumns(block: number, rows: number, count: number, dst: number, cols: number, list: number): void;
  /** matmulTransposeB's out = a·bᵀ (m even, n and k multiples of 4, a fused `madd`) for a given as a·2^E, unscaleA = 2^−E; 1 when a scaled sum overflowed (out incomplete), else 0. */
  matmulTransposeBRescaled(a: number, b: number, out: number, m: number, n: number, k: number, unscaleA: number): number;
  /** Lane 0 of the build's multiply-add a·b + c (fused or not). */
  maddOnce(a: number, b: number, c: number): number;
  matmulSparse(a: number, b: number, out: number, m: number, k: number, n: number, scratch: number): void;
  /** matmulSparse with each output row's sums in registers (for a b that fits in L2). */
  matmulSparseInRegisters(a: number, b: number, out: number, m: number, k: number, n: number, scratch: number): void;
  matmulSparseScratchBytes(k: number): number;
  matmulTransposeASparseAdd(a: number, b: number, out: number, m: number, k: number, n: number, scale: number, scratch: number): void;
  matmulTransposeASparseScratchBytes(m: number, k: number): number;
  /** Compressed sparse rows (rowStart u32[m+1], indices u32[], values f32[]) of the nonzeros of a[m,k]; returns how many. */
  packRows(a: number, m: number, k: number, rowStart: number, indices: number, values: number): number;
  /** The rows rows[count] (u32) of bytes[·, width] as f32(byte)·scale, packed into compressed sparse rows; returns the touched bytes' OR. */
  gatherSparseRows(bytes: number, rows: number, count: number, width: number, scale: number, rowStart: number, indices: number, values: number): number;
  /** out[m,n] = a·b for a in compressed sparse rows; inRegisters for a b that fits in L2. */
  matmulSparseRows(rowStart: number, indices: number, values: number, m: number, b: number, out: number, n: number, inRegisters: number): void;
  /**
   * out[k,n] += scale·aᵀ·b[m,n] for a in compressed sparse rows of m rows and k columns; b given
   * as b·2^E with unscaleB = 2^−E (E ≥ 23, n a multiple of 4, a fused `madd`), or as it is (1).
   */
  matmulTransposeASparseRowsAdd(
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
  matmulTransposeASparseRowsScratchBytes(k: number, entries: number): number;
  addRowVector(x: number, v: number, m: number, n: number): void;
  addColumnSums(x: number, out: number, m: number, n: number): void;
  activationForward(kind: ActivationCode, x: number, out: number, count: number): void;
  activationBackward(kind: ActivationCode, y: number, dy: number, dx: number, count: number): void;
  scaleShiftColumns(x: number, scale: number, shift: number, y: number, m: number, n: number): void;
  sgdStep(param: number, grad: number, count: number, learningRate: number): void;
  batchNormForwardTrain(
    x: number,
    m: number,
    n: number,
    eps: number,
    gamma: number,
    beta: number,
    mean: number,
    variance: number,
    invStd: number,
    xhat: number,
    y: number,
  ): void;
  batchNormBackward(dy: number, xhat: number, invStd: number, gamma: number, m: number, n: number, dx: number, dGamma: number, dBeta: number): void;
  /** Group Norm per example (Layer Norm: one group; RMSNorm: one group, centered 0); invStd is [m, groups]. */
  groupNormForward(
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
  groupNormBackward(
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
  /** Weight Norm: norms[j] = ‖v[:,j]‖ and scale[j] = g[j]/norms[j] over v[k,n]. */
  weightNormScale(v: number, k: number, n: number, g: number, norms: number, scale: number): void;
  /** Weight Norm's backward (tMean 0: none): dg, dt and the coefficient of v in ∇v. */
  weightNormBackward(
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
  /** out[k,n] += factor·coefficient[j]·v[k,n] (out may be v). */
  addScaledColumns(v: number, coefficient: number, factor: number, out: number, k: number, n: number): void;
  /** out[count] (f32) = bytes[count] (u8) · scale. */
  bytesToFloats(bytes: number, out: number, count: number, scale: number): void;
  /** out[i, :] (f32, width) = bytes[rows[i]·width ..][width] (u8) · scale for i < count; rows: u32 row indices. */
  gatherBytesToFloats(bytes: number, rows: number, count: number, width: number, out: number, scale: number): number;
  /**
   * dLogits[m,classes] (0: none) and, per row, Σexp(z − max) and z_label − max into rowTerms[m,2]
   * (f64), from logits[m,classes] and labels[m] (i32 class indices).
   */
  softmaxCrossEntropy(logits: number, labels: number, m: number, classes: number, dLogits: number, rowTerms: number): void;
  /** out[count] (f64) = Math.exp(x[count]) to the bit (fdlibm's algorithm, as V8 runs it), as the softmax computes it. */
  exactExpArray(x: number, out: number, count: number): void;
}

const EXPORT_NAMES: ReadonlyArray<keyof KernelExports> = [
  'heapBase',
  'gemm',
  'matmulTransposeB',
  'matmulTransposeBMasked',
  'transpose',
  'countNonzeros',
  'allFinite',
  'hasSubnormal',
  'rescalable',
  'scaleByPowerOfTwo',
  'gemmAddRescaled',
  'columnSums',
  'sparseColumnSums',
  'columnMaxima',
  'keptUpdates',
  'gatherColumns',
  'gatherBlock',
  'scatterBlock',
  'scatterColumns',
  'maddOnce',
  'matmulTransposeBRescaled',
  'matmulSparse',
  'matmulSparseInRegisters',
  'matmulSparseScratchBytes',
  'matmulTransposeASparseAdd',
  'matmulTransposeASparseScratchBytes',
  'packRows',
  'gatherSparseRows',
  'matmulSparseRows',
  'matmulTransposeASparseRowsAdd',
  'matmulTransposeASparseRowsScratchBytes',
  'addRowVector',
  'addColumnSums',
  'activationForward',
  'activationBackward',
  'scaleShiftColumns',
  'sgdStep',
  'batchNormForwardTrain',
  'batchNormBackward',
  'groupNormForward',
  'groupNormBackward',
  'weightNormScale',
  'weightNormBackward',
  'addScaledColumns',
  'bytesToFloats',
  'gatherBytesToFloats',
  'softmaxCrossEntropy',
  'exactExpArray',
];

/** Compiles kernel module bytes (e.g. fetched in a browser, read from build/ in Node). */
export function compileKernelModule(bytes: BufferSource): Promise<WebAssembly.Module> {
  return WebAssembly.compile(bytes);
}

/** An instance of the kernel module working in `memory`; checks that every export is there. */
export async function instantiateKernelModule(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as Record<string, unknown>;
  const missing = EXPORT_NAMES.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`the kernel module lacks ${missing.join(', ')}; it is out of date: rebuild it with \`npm run build\``);
  }
  // Checked just above: every name is a function; their signatures are assembly/index.ts's.
  return exports as unknown as KernelExports;
}
