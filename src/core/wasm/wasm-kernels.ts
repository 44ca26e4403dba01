/**
 * @file The WebAssembly SIMD backend: every kernel of `Kernels`, run by the AssemblyScript module
 * (assembly/) on matrices in its linear memory. The TypeScript side checks shapes, turns each
 * Matrix into the byte offset of its data, and calls one export; it allocates nothing per call
 * on that path. A matrix whose data lives elsewhere is copied in and out (foreign-staging.ts):
 * correct, slower, and meant for tests and small inputs, not for a training loop.
 *
 * Differences from the reference a caller may see: results differ in the last bits (other
 * summation orders, fused multiply-adds in the relaxed-SIMD build); sigmoid and tanh are float32
 * SIMD approximations within 2 ulp of the reference's double-precision Math; the dense matmul
 * paths multiply zeros (0·∞ = NaN) where the reference skips a zero left factor.
 */
import { checkGatherRows, checkGatherSparseRows } from '../gather-rows.js';
import type { ActivationKind, ByteBuffer, Kernels, SparseRows, ZeroSkipping } from '../kernels.js';
import type { Matrix } from '../matrix.js';
import { checkLabel, checkLabelCount, type Labels } from '../softmax-cross-entropy.js';
import { ForeignStaging } from './foreign-staging.js';
import { ACTIVATION_CODES, type ActivationCode, instantiateKernelModule, type KernelExports, type WasmVariant } from './kernel-module.js';
import {
  NATIVE_COLUMN_MULTIPLE,
  type NativeKernels,
  NEGLIGIBLE_UPDATE_KERNELS,
  nativeGemmTakes,
  nativeGroupNormTakes,
  nativeLaidOutBytes,
  nativePackScratchBytes,
  onMemory,
  SUBNORMAL_KERNELS,
} from './native-products.js';
import { measureSubnormalSlowdown, SLOW_SUBNORMALS, subnormalSlowdown } from './subnormal-cost.js';
import { DEFAULT_INITIAL_MEMORY_BYTES, WasmArena } from './wasm-memory.js';
import { maxNonzeroFraction, type SparseProduct } from './zero-skipping.js';

/**
 * Whether out + scale·(+0), what the products add where every term is zero, leaves every out as it
 * is: scale·(+0) is −0 for a negative scale (SGD's −lr), and x + (−0) is x even for x = −0; a
 * positive scale adds +0, which turns −0 into +0, so an all-zero dY is then multiplied like any.
 */
function addingZeroKeepsEverything(scale: number): boolean {
  return scale < 0 || Object.is(scale, -0);
}

/** A right factor this small (a hidden layer's 128x128 weights: 64 kB) stays in L2: a sparse x·W keeps its sums in registers. */
const SMALL_RIGHT_FACTOR_BYTES = 256 * 1024;

/** Below this many columns, dY·Wᵀ transposes W and uses the tiled product (the output layer: 10). */
const SHORT_DOT_PRODUCT = 16;

export interface WasmKernelsOptions {
  /** Memory at the start (a network reserves what it needs; it grows beyond when needed); default 32 MiB. */
  initialMemoryBytes?: number;
  /** Native sparse products to run in place of the wasm ones (Node: src/node/native-files.ts); used only where this build's multiply-add is fused. */
  native?: NativeKernels | null;
}

export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  readonly variant: string;
  /**
   * How many products skipped zeros they were asked to measure: of x by kind of product, of an
   * all-zero dY, and the outputs of dY·Wᵀ a ReLU below zeros anyway (what the bench and tests read).
   */
  readonly zeroSkips: Record<SparseProduct | 'vanishedGradient' | 'maskedInputGradient', number> = {
    forward: 0,
    weightGradient: 0,
    vanishedGradient: 0,
    maskedInputGradient: 0,
  };
  /**
   * Dense products whose factors hold subnormal floats multiply them rescaled, with the same bits
   * (`scaleAwaySubnormals`), where this CPU multiplies subnormals slowly (`subnormalSlowdown`);
   * false multiplies them as they are. Tests set it to compare the two.
   */
  rescaleSubnormals: boolean;
  /** How many times slower a product of subnormal floats runs here than one of normal floats (subnormal-cost.ts; once per process). */
  readonly subnormalSlowdown: number;
  /**
   * How many products were rescaled so (for tests): one factor up and the other down (the same
   * products), or with their sums scaled up too (both up, or B alone, for the kernels that undo it).
   */
  readonly subnormalRescales = { oneFactor: 0, sumsScaled: 0 };
  /**
   * Rescaled weight updates multiply only the block of weights whose update may change their bits
   * (`addRescaledUpdate`); false multiplies them all, for tests that compare.
   */
  skipNegligibleUpdates = true;
  /** How many rescaled weight updates left negligible elements out so, and how many elements (for tests and the bench). */
  readonly negligibleUpdates = { products: 0, elements: 0 };
  /**
   * Whether this build's multiply-add rounds once (relaxed SIMD on FMA hardware): only then do
   * products scale their sums up with their subnormal operands (assembly/rescaled-sums.ts says why).
   */
  readonly fusedMultiplyAdd: boolean;
  /** The native products in use (the same bits, wider vectors), or null: the wasm ones run. */
  readonly native: NativeKernels | null;
  private readonly staging: ForeignStaging;
  /** Scratch for the sparse products (packed nonzeros, aᵀ) and short dY·Wᵀ (Wᵀ), reused and grown on demand. */
  private scratchOffset = 0;
  private scratchBytes = 0;
  /** The loss kernel's labels (i32) and per-row terms (f64) for up to `lossRows` rows, with views rebuilt when memory grows. */
  private lossRows = 0;
  private lossLabelsOffset = 0;
  private lossTermsOffset = 0;
  private lossLabels = new Int32Array(0);
  private lossTerms = new Float64Array(0);
  /** gatherBytesToFloats' row indices (u32) for up to `gatherRows` rows, with a view rebuilt when memory grows. */
  private gatherRows = 0;
  private gatherRowsOffset = 0;
  private gatherRowView = new Uint32Array(0);
  /** The whole memory as u32 words, rebuilt when memory grows: for reading a SparseRows' entry count. */
  private words = new Uint32Array(0);
  /** assembly/subnormals.ts' checks and scaling, native where the backend has native code (the same results). */
  private readonly subnormals: Pick<KernelExports, (typeof SUBNORMAL_KERNELS)[number]>;
  /** assembly/negligible-updates.ts' search and moves, native where the backend has native code (the same lists and floats). */
  private readonly negligibles: Pick<KernelExports, (typeof NEGLIGIBLE_UPDATE_KERNELS)[number]>;

  private constructor(
    private readonly kernels: KernelExports,
    private readonly arena: WasmArena,
    readonly wasmVariant: WasmVariant,
    native: NativeKernels | null,
  ) {
    this.staging = new ForeignStaging(arena);
    // (1 + 2^−12)² = 1 + 2^−11 + 2^−24: rounded before the add (a tie, to even) it cancels to 0.
    this.fusedMultiplyAdd = kernels.maddOnce(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11)) === 2 ** -24;
    // Native products sum with fused multiply-adds: the same bits only as a fused build's.
    this.native = this.fusedMultiplyAdd ? native : null;
    this.subnormals = this.native ? onMemory(this.native, arena, SUBNORMAL_KERNELS) : kernels;
    this.negligibles = this.native ? onMemory(this.native, arena, NEGLIGIBLE_UPDATE_KERNELS) : kernels;
    this.variant = `wasm ${wasmVariant}${this.native ? ` + native ${this.native.vectors}` : ''}`;
    this.subnormalSlowdown = subnormalSlowdown(() => this.timeSubnormalProducts());
    this.rescaleSubnormals = this.subnormalSlowdown > SLOW_SUBNORMALS;
  }

  /**
   * measureSubnormalSlowdown on this backend's register-tiled product (native where it runs): a
   * [4x128] left factor of normal floats, then of subnormal ones (every product and sum subnormal
   * too), times the same [128x128] right factor. Uses scratch, which nothing holds yet.
   */
  private timeSubnormalProducts(): number {
    const rows = 4,
      depth = 128,
      cols = 128;
    const normal = this.scratch(4 * (2 * rows * depth + depth * cols + rows * cols)),
      subnormal = normal + 4 * rows * depth,
      b = subnormal + 4 * rows * depth,
      out = b + 4 * depth * cols;
    const floats = new Float32Array(this.arena.buffer);
    for (let i = 0; i < rows * depth; i++) {
      floats[normal / 4 + i] = (1 + (i % 7)) * 2 ** -10;
      floats[subnormal / 4 + i] = (1 + (i % 7)) * 2 ** -140;
    }
    for (let i = 0; i < depth * cols; i++) floats[b / 4 + i] = (i % 2 ? -1 : 1) * (1 + (i % 5)) * 2 ** -3;
    return measureSubnormalSlowdown((subnormalFactor) =>
      this.gemm(subnormalFactor ? subnormal : normal, depth * 4, 4, b, cols * 4, out, cols * 4, rows, cols, depth, 0, 1),
    );
  }

  /** A backend with its own memory, from a compiled kernel module of the given variant. */
  static async create(module: WebAssembly.Module, variant: WasmVariant, options: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const initialBytes = options.initialMemoryBytes ?? DEFAULT_INITIAL_MEMORY_BYTES;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / 65536)) });
    const kernels = await instantiateKernelModule(module, memory);
    return new WasmKernels(kernels, new WasmArena(memory, kernels.heapBase()), variant, options.native ?? null);
  }

  /** Bytes of wasm memory now reserved (it grows by doubling when an allocation does not fit). */
  get memoryBytes(): number {
    return this.arena.capacityBytes;
  }

  reserveMemory(bytes: number): void {
    this.arena.ensureFree(bytes);
  }

  /** A zeroed [rows, cols] matrix in wasm memory; its data is rebound whenever memory grows. */
  matrix(rows: number, cols: number): Matrix {
    return this.arena.matrix(rows, cols);
  }

  firstRows(matrix: Matrix, rows: number): Matrix {
    return this.arena.firstRows(matrix, rows);
  }

  /** Zeroed bytes in wasm memory; their `data` is rebound whenever memory grows, as a matrix's is. */
  byteBuffer(length: number): ByteBuffer {
    return this.arena.bytes(length);
  }

  bytesToFloats(bytes: Uint8Array, scale: number, out: Matrix): void {
    if (bytes.length !== out.size) {
      const detached = bytes.buffer.byteLength === 0 && out.size > 0;
      throw new RangeError(
        detached
          ? "bytesToFloats: the bytes' buffer was detached, probably a byteBuffer's data kept across a growth of wasm memory; read byteBuffer.data at each use"
          : `bytesToFloats: ${bytes.length} bytes for a ${out.rows}x${out.cols} matrix`,
      );
    }
    this.staging.begin();
    const pBytes = bytes.buffer === this.arena.buffer ? bytes.byteOffset : this.staging.placeBytes(bytes);
    const po = this.write(out, 'bytesToFloats');
    this.kernels.bytesToFloats(pBytes, po, bytes.length, scale);
    this.staging.finish();
  }

  gatherBytesToFloats(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: Matrix): void {
    assertAttached('gatherBytesToFloats', bytes, out.size);
    checkGatherRows(bytes, rows, out);
    this.staging.begin();
    if (bytes.buffer === this.arena.buffer) {
      const pBytes = bytes.byteOffset; // first: placing the indices or a foreign `out` may grow memory, which detaches `bytes`
      const pRows = this.gatherIndices(rows);
      this.kernels.gatherBytesToFloats(pBytes, pRows, out.rows, out.cols, this.write(out, 'gatherBytesToFloats'), scale);
    } else {
      // Bytes outside wasm memory: only the picked rows are copied in, side by side.
      const pBytes = this.staging.placeRows(bytes, rows, out.cols);
      this.kernels.bytesToFloats(pBytes, this.write(out, 'gatherBytesToFloats'), out.size, scale);
    }
    this.staging.finish();
  }

  sparseRows(maxRows: number, cols: number): SparseRows {
    if (!Number.isInteger(maxRows) || !Number.isInteger(cols) || maxRows < 0 || cols < 0) {
      throw new RangeError(`sparse rows need whole, non-negative dimensions, got ${maxRows}x${cols}`);
    }
    const entries = maxRows * cols + 4; // the pack writes whole vectors: 3 entries of slack
    const rowStart = this.arena.reserve(4 * (maxRows + 1)),
      indices = this.arena.reserve(4 * entries),
      values = this.arena.reserve(4 * entries);
    return new WasmSparseRows(this, maxRows, cols, rowStart, indices, values);
  }

  packRows(x: Matrix, out: SparseRows): void {
    const rows = this.own(out, 'packRows');
    if (x.cols !== rows.cols || x.rows > rows.maxRows) throw shapeError('packRows', x, rows);
    this.staging.begin();
    const entries = this.kernels.packRows(this.read(x, 'packRows'), x.rows, x.cols, rows.rowStart, rows.indices, rows.values);
    this.staging.finish();
    rows.fill(x.rows, entries);
  }

  gatherSparseRows(bytes: Uint8Array, picked: ArrayLike<number>, scale: number, out: SparseRows): void {
    const rows = this.own(out, 'gatherSparseRows');
    assertAttached('gatherSparseRows', bytes, picked.length);
    checkGatherSparseRows(bytes, picked, rows);
    const m = picked.length,
      width = rows.cols;
    this.staging.begin();
    // The bytes' offset first: placing the indices may grow memory, which detaches `bytes`. Bytes
    // outside wasm memory: the picked rows copied in side by side, then read in order.
    const inMemory = bytes.buffer === this.arena.buffer;
    const pBytes = inMemory ? bytes.byteOffset : this.staging.placeRows(bytes, picked, width);
    const pRows = this.gatherIndices(inMemory ? picked : Array.from({ length: m }, (_, i) => i));
    if (this.native) this.native.gatherSparseRows(this.arena.buffer, pBytes, pRows, m, width, scale, rows.rowStart, rows.indices, rows.values);
    else this.kernels.gatherSparseRows(pBytes, pRows, m, width, scale, rows.rowStart, rows.indices, rows.values);
    this.staging.finish();
    rows.fill(m, this.word(rows.rowStart + 4 * m));
  }

  unpackRows(a: SparseRows, out: Matrix): void {
    const rows = this.own(a, 'unpackRows');
    if (out.rows !== rows.rows || out.cols !== rows.cols) throw shapeError('unpackRows', rows, out);
    const buffer = this.arena.buffer;
    const rowStart = new Uint32Array(buffer, rows.rowStart, rows.rows + 1),
      indices = new Uint32Array(buffer, rows.indices, rows.entries),
      values = new Float32Array(buffer, rows.values, rows.entries);
    const O = out.data;
    O.fill(0);
    for (let i = 0; i < rows.rows; i++) for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) O[i * rows.cols + indices[e]!] = values[e]!;
  }

  matmulSparseRows(a: SparseRows, b: Matrix, out: Matrix): void {
    const rows = this.own(a, 'matmulSparseRows');
    if (!(rows.cols === b.rows && out.rows === rows.rows && out.cols === b.cols)) throw shapeError('matmulSparseRows', rows, b, out);
    const n = b.cols;
    this.staging.begin();
    const pb = this.read(b, 'matmulSparseRows'),
      po = this.write(out, 'matmulSparseRows');
    // Sums kept in registers where b stays in L2, as matmul's sparse path chooses.
    const inRegisters = b.size * 4 <= SMALL_RIGHT_FACTOR_BYTES ? 1 : 0;
    const native = this.native; // any width (the sparse products' last vector is masked)
    if (native) native.matmulSparseRows(this.arena.buffer, rows.rowStart, rows.indices, rows.values, rows.rows, rows.cols, pb, po, n, inRegisters);
    else this.kernels.matmulSparseRows(rows.rowStart, rows.indices, rows.values, rows.rows, pb, po, n, inRegisters);
    this.staging.finish();
  }

  matmulTransposeAAddSparseRows(a: SparseRows, b: Matrix, out: Matrix, scale = 1, bZeros: ZeroSkipping = false): void {
    const rows = this.own(a, 'matmulTransposeAAddSparseRows');
    if (!(rows.rows === b.rows && out.rows === rows.cols && out.cols === b.cols)) throw shapeError('matmulTransposeAAddSparseRows', rows, b, out);
    const m = rows.rows,
      k = rows.cols,
      n = b.cols;
    this.staging.begin();
    const pb = this.read(b, 'matmulTransposeAAddSparseRows'),
      po = this.write(out, 'matmulTransposeAAddSparseRows');
    // Unlike matmulTransposeAAdd, for any scale: the SparseRows update leaves W's rows without an entry as they are (no dense twin to match).
    if (bZeros !== false && this.allZerosAgainstFinite(pb, m * n, rows.values, rows.entries)) {
      this.zeroSkips.vanishedGradient++; // as in matmulTransposeAAdd
    } else {
      const scratchBytes = this.kernels.matmulTransposeASparseRowsScratchBytes(k, rows.entries);
      const bAlone = this.fusedMultiplyAdd && n % 4 === 0;
      const rescaled = bZeros === false && this.scaleAwaySubnormals(rows.values, rows.entries, pb, m * n, { checkB: true, bAlone });
      if (rescaled === 'bAlone') {
        this.addSparseRescaledUpdate(rows, pb, po, n, scale, 2 ** -RESCALINGS.bAlone[1], scratchBytes);
      } else {
        const native = this.native,
          scratch = this.scratch(scratchBytes);
        if (native) native.matmulTransposeASparseRowsAdd(this.arena.buffer, rows.rowStart, rows.indices, rows.values, m, k, pb, po, n, scale, scratch, 1);
        else this.kernels.matmulTransposeASparseRowsAdd(rows.rowStart, rows.indices, rows.values, m, k, pb, po, n, scale, scratch, 1);
      }
      if (rescaled) this.scaleBack(rescaled, rows.values, rows.entries, pb, m * n);
    }
    this.staging.finish();
  }

  matmul(a: Matrix, b: Matrix, out: Matrix, aZeros: ZeroSkipping = false): void {
    if (!(a.cols === b.rows && out.rows === a.rows && out.cols === b.cols)) throw shapeError('matmul', a, b, out);
    const m = a.rows,
      k = a.cols,
      n = b.cols;
    this.staging.begin();
    const pa = this.read(a, 'matmul'),
      pb = this.read(b, 'matmul'),
      po = this.write(out, 'matmul');
    if (aZeros === true || (aZeros === 'measure' && this.skippingPays(pa, m * k, pb, k * n, n, 'forward'))) {
      // Both sum in the same order; which is faster depends on whether b stays in L2 (a hidden layer's W) or not (the first layer's, 400 kB).
      const inRegisters = k * n * 4 <= SMALL_RIGHT_FACTOR_BYTES;
      const native = this.native,
        scratch = this.scratch(native ? nativePackScratchBytes(k) : this.kernels.matmulSparseScratchBytes(k));
      if (native) native.matmulSparse(this.arena.buffer, pa, pb, po, m, k, n, inRegisters ? 1 : 0, scratch);
      else (inRegisters ? this.kernels.matmulSparseInRegisters : this.kernels.matmulSparse)(pa, pb, po, m, k, n, scratch);
    } else {
      const rescaled = aZeros === false && this.scaleAwaySubnormals(pa, m * k, pb, k * n);
      this.gemm(pa, k * 4, 4, pb, n * 4, po, n * 4, m, n, k, 0, 1);
      if (rescaled) this.scaleBack(rescaled, pa, m * k, pb, k * n);
    }
    this.staging.finish();
  }

  matmulTransposeAAdd(a: Matrix, b: Matrix, out: Matrix, aZeros: ZeroSkipping = false, scale = 1, bZeros: ZeroSkipping = false): void {
    if (!(a.rows === b.rows && out.rows === a.cols && out.cols === b.cols)) throw shapeError('matmulTransposeAAdd', a, b, out);
    const m = a.rows,
      k = a.cols,
      n = b.cols;
    this.staging.begin();
    const pa = this.read(a, 'matmulTransposeAAdd'),
      pb = this.read(b, 'matmulTransposeAAdd'),
      po = this.write(out, 'matmulTransposeAAdd');
    if (bZeros !== false && addingZeroKeepsEverything(scale) && this.allZerosAgainstFinite(pb, m * n, pa, m * k)) {
      // dY is all zeros (a dead ReLU layer's gradient): every term is a zero product, out stays as it is.
      this.zeroSkips.vanishedGradient++;
    } else if (aZeros === true || (aZeros === 'measure' && this.skippingPays(pa, m * k, pb, m * n, n, 'weightGradient'))) {
      const native = this.native,
        scratch = this.scratch(native ? nativePackScratchBytes(m) : this.kernels.matmulTransposeASparseScratchBytes(m, k));
      if (native) native.matmulTransposeASparseAdd(this.arena.buffer, pa, pb, po, m, k, n, scale, scratch);
      else this.kernels.matmulTransposeASparseAdd(pa, pb, po, m, k, n, scale, scratch);
    } else {
      const both = this.fusedMultiplyAdd && n >= 4;
      const rescaled = aZeros === false && bZeros === false && this.scaleAwaySubnormals(pa, m * k, pb, m * n, { checkB: true, both });
      // aᵀ read in place: element (p, i) of aᵀ is a[i, p], so a row of aᵀ steps 4 bytes and a column k·4.
      if (rescaled === 'both') {
        this.addRescaledUpdate(pa, pb, po, m, k, n, scale);
      } else {
        this.gemm(pa, 4, k * 4, pb, n * 4, po, n * 4, k, n, m, 1, scale);
      }
      if (rescaled) this.scaleBack(rescaled, pa, m * k, pb, m * n);
    }
    this.staging.finish();
  }

  matmulTransposeB(a: Matrix, b: Matrix, out: Matrix, aZeros: ZeroSkipping = false, outputMask?: Matrix): void {
    if (!(a.cols === b.cols && out.rows === a.rows && out.cols === b.rows)) throw shapeError('matmulTransposeB', a, b, out);
    if (outputMask && !(outputMask.rows === out.rows && outputMask.cols === out.cols)) throw shapeError('matmulTransposeB', a, b, out, outputMask);
    this.staging.begin();
    const m = a.rows,
      n = a.cols,
      k = b.rows;
    const pa = this.read(a, 'matmulTransposeB'),
      pb = this.read(b, 'matmulTransposeB'),
      po = this.write(out, 'matmulTransposeB'),
      pMask = outputMask ? this.read(outputMask, 'matmulTransposeB') : 0;
    if (aZeros !== false && this.allZerosAgainstFinite(pa, m * n, pb, k * n)) {
      // Only an all-zero dY is skipped: skipping some of its zeros would sum in another order than the dot products below.
      this.staging.finish();
      out.data.fill(0);
      this.zeroSkips.vanishedGradient++;
      return;
    }
    const aAlone = this.fusedMultiplyAdd && n >= SHORT_DOT_PRODUCT && n % 4 === 0 && k % 4 === 0 && m % 2 === 0;
    let rescaled = aZeros === false && this.scaleAwaySubnormals(pa, m * n, pb, k * n, { aAlone });
    if (rescaled === 'aAlone') {
      const unscaleA = 2 ** -RESCALINGS.aAlone[0];
      const overflowed =
        (this.native && k % NATIVE_COLUMN_MULTIPLE === 0
          ? this.native.matmulTransposeBRescaled(this.arena.buffer, pa, pb, po, m, n, k, unscaleA, this.scratch(nativeLaidOutBytes(n)))
          : this.kernels.matmulTransposeBRescaled(pa, pb, po, m, n, k, unscaleA)) !== 0;
      this.scaleBack(rescaled, pa, m * n, pb, k * n);
      if (!overflowed) {
        if (outputMask) this.keepWherePositive(pMask, po, m * k);
        this.staging.finish();
        return;
      }
      rescaled = false; // a sum overflowed scaled up: the product as it is, below
    }
    if (n < SHORT_DOT_PRODUCT) {
      // Dot products this short spend more on folding lanes than on multiplying: transpose b
      // (small: n·k floats) and run the register-tiled product a·bᵀ instead.
      const transposed = this.scratch(n * k * 4);
      this.kernels.transpose(pb, k, n, transposed);
      this.gemm(pa, n * 4, 4, transposed, k * 4, po, k * 4, m, k, n, 0, 1);
      if (outputMask) this.keepWherePositive(pMask, po, m * k);
    } else if (this.native && m % 2 === 0 && n % 4 === 0 && k % NATIVE_COLUMN_MULTIPLE === 0) {
      // Every output in native vectors (two or four times the wasm kernels' width), those a ReLU stops made +0 after.
      const laidOut = this.scratch(nativeLaidOutBytes(n));
      this.native.matmulTransposeB(this.arena.buffer, pa, pb, po, m, n, k, pMask, laidOut);
    } else if (outputMask) {
      // Only the outputs the ReLU passes on (about half), each summed in the dot products' order: the same bits.
      this.kernels.matmulTransposeBMasked(pa, pb, pMask, po, m, n, k, this.scratch(3 * (k + 8) * 4));
      this.zeroSkips.maskedInputGradient++;
    } else {
      this.kernels.matmulTransposeB(pa, pb, po, m, n, k);
    }
    if (rescaled) this.scaleBack(rescaled, pa, m * n, pb, k * n);
    this.staging.finish();
  }

  /** out[i] = mask[i] > 0 ? out[i] : +0 over `count` floats: a ReLU's backward, for a product multiplied out whole. */
  private keepWherePositive(mask: number, out: number, count: number): void {
    this.kernels.activationBackward(ACTIVATION_CODES.relu, mask, out, out, count);
  }

  addRowVector(x: Matrix, v: Matrix): void {
    if (!(v.rows === 1 && v.cols === x.cols)) throw shapeError('addRowVector', x, v);
    this.staging.begin();
    const px = this.write(x, 'addRowVector'),
      pv = this.read(v, 'addRowVector');
    this.kernels.addRowVector(px, pv, x.rows, x.cols);
    this.staging.finish();
  }

  addColumnSums(x: Matrix, out: Matrix): void {
    if (!(out.rows === 1 && out.cols === x.cols)) throw shapeError('addColumnSums', x, out);
    this.staging.begin();
    const px = this.read(x, 'addColumnSums'),
      po = this.write(out, 'addColumnSums');
    this.kernels.addColumnSums(px, po, x.rows, x.cols);
    this.staging.finish();
  }

  activationForward(kind: ActivationKind, x: Matrix, out: Matrix): void {
    if (x.size !== out.size) throw shapeError('activationForward', x, out);
    const code = activationCode(kind);
    this.staging.begin();
    const px = this.read(x, 'activationForward'),
      po = this.write(out, 'activationForward');
    if (code === ACTIVATION_CODES.sigmoid && this.native) this.native.sigmoidForward(this.arena.buffer, px, po, x.size);
    else this.kernels.activationForward(code, px, po, x.size);
    this.staging.finish();
  }

  activationBackward(kind: ActivationKind, y: Matrix, dy: Matrix, dx: Matrix): void {
    if (!(y.size === dy.size && dy.size === dx.size)) throw shapeError('activationBackward', y, dy, dx);
    const code = activationCode(kind);
    this.staging.begin();
    const py = this.read(y, 'activationBackward'),
      pdy = this.read(dy, 'activationBackward'),
      pdx = this.write(dx, 'activationBackward');
    if (code === ACTIVATION_CODES.sigmoid && this.native) this.native.sigmoidBackward(this.arena.buffer, py, pdy, pdx, y.size);
    else this.kernels.activationBackward(code, py, pdy, pdx, y.size);
    this.staging.finish();
  }

  batchNormForwardTrain(
    x: Matrix,
    eps: number,
    gamma: Matrix | null,
    beta: Matrix | null,
    mean: Matrix,
    variance: Matrix,
    invStd: Matrix,
    xhat: Matrix,
    y: Matrix,
  ): void {
    const m = x.rows,
      n = x.cols;
    if (
      !(
        mean.size === n &&
        variance.size === n &&
        invStd.size === n &&
        xhat.size === x.size &&
        y.size === x.size &&
        (gamma === null || gamma.size === n) &&
        (beta === null || beta.size === n)
      )
    ) {
      throw shapeError('batchNormForwardTrain', x, mean, variance, invStd, xhat, y);
    }
    const kernel = 'batchNormForwardTrain';
    this.staging.begin();
    const px = this.read(x, kernel);
    const pGamma = gamma ? this.read(gamma, kernel) : 0,
      pBeta = beta ? this.read(beta, kernel) : 0;
    const pMean = this.write(mean, kernel),
      pVariance = this.write(variance, kernel),
      pInvStd = this.write(invStd, kernel);
    const pXhat = this.write(xhat, kernel),
      pY = this.write(y, kernel);
    if (this.native && n % NATIVE_COLUMN_MULTIPLE === 0) {
      this.native.batchNormForwardTrain(this.arena.buffer, px, m, n, eps, pGamma, pBeta, pMean, pVariance, pInvStd, pXhat, pY);
    } else {
      this.kernels.batchNormForwardTrain(px, m, n, eps, pGamma, pBeta, pMean, pVariance, pInvStd, pXhat, pY);
    }
    this.staging.finish();
  }

  batchNormBackward(dy: Matrix, xhat: Matrix, invStd: Matrix, gamma: Matrix | null, dx: Matrix, dGamma: Matrix | null, dBeta: Matrix | null): void {
    const m = dy.rows,
      n = dy.cols;
    if (
      !(
        xhat.size === dy.size &&
        dx.size === dy.size &&
        invStd.size === n &&
        (gamma === null || gamma.size === n) &&
        (dGamma === null || dGamma.size === n) &&
        (dBeta === null || dBeta.size === n)
      )
    ) {
      throw shapeError('batchNormBackward', dy, xhat, invStd, dx);
    }
    const kernel = 'batchNormBackward';
    this.staging.begin();
    const pdy = this.read(dy, kernel),
      pXhat = this.read(xhat, kernel),
      pInvStd = this.read(invStd, kernel);
    const pGamma = gamma ? this.read(gamma, kernel) : 0;
    const pdx = this.write(dx, kernel);
    const pdGamma = dGamma ? this.write(dGamma, kernel) : 0,
      pdBeta = dBeta ? this.write(dBeta, kernel) : 0;
    if (this.native && n % NATIVE_COLUMN_MULTIPLE === 0)
      this.native.batchNormBackward(this.arena.buffer, pdy, pXhat, pInvStd, pGamma, m, n, pdx, pdGamma, pdBeta);
    else this.kernels.batchNormBackward(pdy, pXhat, pInvStd, pGamma, m, n, pdx, pdGamma, pdBeta);
    this.staging.finish();
  }

  groupNormForward(
    x: Matrix,
    groups: number,
    centered: boolean,
    eps: number,
    gamma: Matrix | null,
    beta: Matrix | null,
    invStd: Matrix,
    xhat: Matrix,
    y: Matrix,
  ): void {
    const m = x.rows,
      n = x.cols;
    if (
      !(
        Number.isInteger(groups) &&
        groups >= 1 &&
        n % groups === 0 &&
        invStd.rows === m &&
        invStd.cols === groups &&
        xhat.size === x.size &&
        y.size === x.size &&
        (gamma === null || gamma.size === n) &&
        (beta === null || beta.size === n)
      )
    ) {
      throw shapeError('groupNormForward', x, invStd, xhat, y);
    }
    const kernel = 'groupNormForward';
    this.staging.begin();
    const px = this.read(x, kernel);
    const pGamma = gamma ? this.read(gamma, kernel) : 0,
      pBeta = beta ? this.read(beta, kernel) : 0;
    const pInvStd = this.write(invStd, kernel),
      pXhat = this.write(xhat, kernel),
      pY = this.write(y, kernel);
    // Native where it takes the groups (native/group-norm.c: groups of 4 in fours, or 16k wide), with the same bits.
    if (this.native && nativeGroupNormTakes(n, groups)) {
      this.native.groupNormForward(this.arena.buffer, px, m, n, groups, centered ? 1 : 0, eps, pGamma, pBeta, pInvStd, pXhat, pY);
    } else {
      this.kernels.groupNormForward(px, m, n, groups, centered ? 1 : 0, eps, pGamma, pBeta, pInvStd, pXhat, pY);
    }
    this.staging.finish();
  }

  groupNormBackward(
    dy: Matrix,
    xhat: Matrix,
    invStd: Matrix,
    groups: number,
    centered: boolean,
    gamma: Matrix | null,
    dx: Matrix,
    dGamma: Matrix | null,
    dBeta: Matrix | null,
  ): void {
    const m = dy.rows,
      n = dy.cols;
    if (
      !(
        Number.isInteger(groups) &&
        groups >= 1 &&
        n % groups === 0 &&
        xhat.size === dy.size &&
        dx.size === dy.size &&
        invStd.rows === m &&
        invStd.cols === groups &&
        (gamma === null || gamma.size === n) &&
        (dGamma === null || dGamma.size === n) &&
        (dBeta === null || dBeta.size === n)
      )
    ) {
      throw shapeError('groupNormBackward', dy, xhat, invStd, dx);
    }
    const kernel = 'groupNormBackward';
    this.staging.begin();
    const pdy = this.read(dy, kernel),
      pXhat = this.read(xhat, kernel),
      pInvStd = this.read(invStd, kernel);
    const pGamma = gamma ? this.read(gamma, kernel) : 0;
    const pdx = this.write(dx, kernel);
    const pdGamma = dGamma ? this.write(dGamma, kernel) : 0,
      pdBeta = dBeta ? this.write(dBeta, kernel) : 0;
    if (this.native && nativeGroupNormTakes(n, groups)) {
      this.native.groupNormBackward(this.arena.buffer, pdy, pXhat, pInvStd, groups, centered ? 1 : 0, pGamma, m, n, pdx, pdGamma, pdBeta);
    } else {
      this.kernels.groupNormBackward(pdy, pXhat, pInvStd, groups, centered ? 1 : 0, pGamma, m, n, pdx, pdGamma, pdBeta);
    }
    this.staging.finish();
  }

  weightNormScale(v: Matrix, g: Matrix, norms: Matrix, scale: Matrix): void {
    const n = v.cols;
    if (!(g.size === n && norms.size === n && scale.size === n)) throw shapeError('weightNormScale', v, g, norms, scale);
    const kernel = 'weightNormScale';
    this.staging.begin();
    const pv = this.read(v, kernel),
      pg = this.read(g, kernel),
      pNorms = this.write(norms, kernel),
      pScale = this.write(scale, kernel);
    const native = this.nativeFor(n);
    if (native) native.weightNormScale(this.arena.buffer, pv, v.rows, n, pg, pNorms, pScale);
    else this.kernels.weightNormScale(pv, v.rows, n, pg, pNorms, pScale);
    this.staging.finish();
  }

  weightNormBackward(dy: Matrix, t: Matrix, tMean: Matrix | null, norms: Matrix, scale: Matrix, g: Matrix, dt: Matrix, dg: Matrix, coefficient: Matrix): void {
    const m = dy.rows,
      n = dy.cols;
    if (
      !(
        t.size === dy.size &&
        dt.size === dy.size &&
        norms.size === n &&
        scale.size === n &&
        g.size === n &&
        dg.size === n &&
        coefficient.size === n &&
        (tMean === null || tMean.size === n)
      )
    ) {
      throw shapeError('weightNormBackward', dy, t, norms, scale, g, dt, dg, coefficient);
    }
    const kernel = 'weightNormBackward';
    this.staging.begin();
    const pdy = this.read(dy, kernel),
      pt = this.read(t, kernel),
      pMean = tMean ? this.read(tMean, kernel) : 0;
    const pNorms = this.read(norms, kernel),
      pScale = this.read(scale, kernel),
      pg = this.read(g, kernel);
    const pdt = this.write(dt, kernel),
      pdg = this.write(dg, kernel),
      pc = this.write(coefficient, kernel);
    const native = this.nativeFor(n);
    if (native) native.weightNormBackward(this.arena.buffer, pdy, pt, pMean, pNorms, pScale, pg, m, n, pdt, pdg, pc);
    else this.kernels.weightNormBackward(pdy, pt, pMean, pNorms, pScale, pg, m, n, pdt, pdg, pc);
    this.staging.finish();
  }

  addScaledColumns(v: Matrix, coefficient: Matrix, factor: number, out: Matrix): void {
    const n = v.cols;
    if (!(coefficient.size === n && out.rows === v.rows && out.cols === n)) throw shapeError('addScaledColumns', v, coefficient, out);
    const kernel = 'addScaledColumns';
    this.staging.begin();
    const pv = out === v ? this.write(v, kernel) : this.read(v, kernel),
      pc = this.read(coefficient, kernel),
      po = out === v ? pv : this.write(out, kernel);
    const native = this.nativeFor(n);
    if (native) native.addScaledColumns(this.arena.buffer, pv, pc, factor, po, v.rows, n);
    else this.kernels.addScaledColumns(pv, pc, factor, po, v.rows, n);
    this.staging.finish();
  }

  scaleShiftColumns(x: Matrix, scale: Matrix, shift: Matrix, y: Matrix): void {
    const n = x.cols;
    if (!(scale.size === n && shift.size === n && y.size === x.size)) throw shapeError('scaleShiftColumns', x, scale, shift, y);
    const kernel = 'scaleShiftColumns';
    this.staging.begin();
    const px = this.read(x, kernel),
      pScale = this.read(scale, kernel),
      pShift = this.read(shift, kernel),
      py = this.write(y, kernel);
    const native = this.nativeFor(n);
    if (native) native.scaleShiftColumns(this.arena.buffer, px, pScale, pShift, py, x.rows, n);
    else this.kernels.scaleShiftColumns(px, pScale, pShift, py, x.rows, n);
    this.staging.finish();
  }

  sgdStep(param: Matrix, grad: Matrix, learningRate: number): void {
    if (param.size !== grad.size) throw shapeError('sgdStep', param, grad);
    this.staging.begin();
    const pParam = this.write(param, 'sgdStep'),
      pGrad = this.read(grad, 'sgdStep');
    this.kernels.sgdStep(pParam, pGrad, param.size, learningRate);
    this.staging.finish();
  }

  softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number {
    const m = logits.rows,
      classes = logits.cols;
    if (dLogits && !(dLogits.rows === m && dLogits.cols === classes)) throw shapeError('softmaxCrossEntropy', logits, dLogits);
    checkLabelCount(labels, m);
    this.bindLossBuffers(m);
    for (let i = 0; i < m; i++) {
      const label = labels[i]!;
      checkLabel(label, i, classes);
      this.lossLabels[i] = label;
    }
    this.staging.begin();
    const pz = this.read(logits, 'softmaxCrossEntropy'),
      pd = dLogits ? this.write(dLogits, 'softmaxCrossEntropy') : 0;
    this.kernels.softmaxCrossEntropy(pz, this.lossLabelsOffset, m, classes, pd, this.lossTermsOffset);
    this.staging.finish();
    this.bindLossBuffers(m); // staging may have grown memory
    // The logarithms here, in row order, as the reference adds them (Math.log is the reference's).
    const terms = this.lossTerms;
    let total = 0;
    for (let i = 0; i < m; i++) total += Math.log(terms[2 * i]!) - terms[2 * i + 1]!;
    return total / m;
  }

  /** The register-tiled product (assembly/dense-matmul.ts), native from 4 columns on (below, the wasm kernel sums one float at a time, unfused). */
  private gemm(
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
    accumulate: 0 | 1,
    scale: number,
  ): void {
    const native = nativeGemmTakes(cols) ? this.native : null;
    if (native) native.gemm(this.arena.buffer, a, aRowStride, aStep, b, bRowStride, c, cRowStride, rows, cols, depth, accumulate, scale);
    else this.kernels.gemm(a, aRowStride, aStep, b, bRowStride, c, cRowStride, rows, cols, depth, accumulate, scale);
  }

  /** The native Weight Norm kernels, where they take an output this wide. */
  private nativeFor(n: number): NativeKernels | null {
    return n % NATIVE_COLUMN_MULTIPLE === 0 ? this.native : null;
  }

  /** `a` as this backend's own sparse rows. */
  private own(a: SparseRows, kernel: string): WasmSparseRows {
    if (!(a instanceof WasmSparseRows && a.owner === this)) throw new RangeError(`${kernel}: the sparse rows were made by another backend`);
    return a;
  }

  /** The u32 at byte offset `offset` of memory. */
  private word(offset: number): number {
    if (this.words.buffer !== this.arena.buffer) this.words = new Uint32Array(this.arena.buffer);
    return this.words[offset >>> 2]!;
  }

  /** The byte offset of `rows` copied into wasm memory as u32, in room kept for the largest batch so far. */
  private gatherIndices(rows: ArrayLike<number>): number {
    const m = rows.length;
    if (m > this.gatherRows) {
      this.gatherRowsOffset = this.arena.reserve(m * 4);
      this.gatherRows = m;
    }
    if (this.gatherRowView.buffer !== this.arena.buffer || this.gatherRowView.length !== this.gatherRows) {
      this.gatherRowView = new Uint32Array(this.arena.buffer, this.gatherRowsOffset, this.gatherRows);
    }
    const view = this.gatherRowView;
    for (let i = 0; i < m; i++) view[i] = rows[i]!;
    return this.gatherRowsOffset;
  }

  /** Room for the loss kernel's labels and row terms of m rows, and views on the current buffer. */
  private bindLossBuffers(m: number): void {
    if (m > this.lossRows) {
      const labelBytes = Math.ceil(m / 2) * 8; // keeps the f64 terms 8-byte aligned
      this.lossLabelsOffset = this.arena.reserve(labelBytes + m * 16);
      this.lossTermsOffset = this.lossLabelsOffset + labelBytes;
      this.lossRows = m;
    }
    if (this.lossLabels.buffer !== this.arena.buffer || this.lossLabels.length !== this.lossRows) {
      this.lossLabels = new Int32Array(this.arena.buffer, this.lossLabelsOffset, this.lossRows);
      this.lossTerms = new Float64Array(this.arena.buffer, this.lossTermsOffset, 2 * this.lossRows);
    }
  }

  /** Math.exp of each value, computed by the kernel module's exp (the one its softmax uses): for the test that it is Math.exp to the bit. */
  exactExp(values: Float64Array): Float64Array {
    const bytes = values.length * 8;
    const offset = this.scratch(2 * bytes);
    new Float64Array(this.arena.buffer, offset, values.length).set(values);
    this.kernels.exactExpArray(offset, offset + bytes, values.length);
    return new Float64Array(this.arena.buffer, offset + bytes, values.length).slice();
  }

  /** The byte offset of a matrix the kernel reads: its own when in wasm memory, else a staged copy. */
  private read(matrix: Matrix, kernel: string): number {
    const data = matrix.data;
    return data.buffer === this.arena.buffer ? data.byteOffset : this.staging.place(matrix, kernel, false);
  }

  /** The byte offset of a matrix the kernel writes (or reads and writes). */
  private write(matrix: Matrix, kernel: string): number {
    const data = matrix.data;
    return data.buffer === this.arena.buffer ? data.byteOffset : this.staging.place(matrix, kernel, true);
  }

  /**
   * Whether to skip the zeros of a left factor of `count` floats at `pa` in a product with `n`
   * columns and the other factor `otherCount` floats at `pOther`: when its nonzeros are few enough
   * for skipping to be faster (zero-skipping.ts) and it gives the same bits: n a multiple of 4 (the
   * sparse kernels then have no scalar tail and sum exactly as the dense ones) or no nonzero at all
   * (no term to sum: a dead layer's zeros before the output layer's 10 columns), and the other
   * factor finite (a skipped 0·∞ would have been NaN).
   */
  private skippingPays(pa: number, count: number, pOther: number, otherCount: number, n: number, product: SparseProduct): boolean {
    const nonzeros = this.kernels.countNonzeros(pa, count);
    const fraction = maxNonzeroFraction(this.native?.vectors ?? null, product);
    const pays = (n % 4 === 0 ? nonzeros <= count * fraction : nonzeros === 0) && this.kernels.allFinite(pOther, otherCount) !== 0;
    if (pays) this.zeroSkips[product]++;
    return pays;
  }

  /** Whether the `count` floats at `p` are all zero and the `otherCount` at `pOther` all finite: their product is then zeros, without multiplying. */
  private allZerosAgainstFinite(p: number, count: number, pOther: number, otherCount: number): boolean {
    return this.kernels.countNonzeros(p, count) === 0 && this.kernels.allFinite(pOther, otherCount) !== 0;
  }

  /**
   * Before a dense product of the `countA` floats at pa and the `countB` at pb (a left factor whose
   * zeros are not measured: not a ReLU's outputs): when one factor holds subnormals, multiplies it
   * by 2^24 and the other by 2^−24 in place, so that no multiply sees a subnormal operand (an Intel
   * core takes each in a slow microcode assist). Every product a·b is the same real number, so the
   * result has the same bits (assembly/subnormals.ts says when the scalings are exact; otherwise,
   * or when the factors overlap, nothing is scaled). B is looked at only with `checkB` (a gradient;
   * weights hold no subnormals). When both hold subnormals, `both` allows scaling both up, for
   * `gemmAddRescaled`; `aAlone` and `bAlone` scale a subnormal A or B up and leave the other, for
   * dY·Wᵀ's and the sparse xᵀ·dY's rescaled sums (all three make every sum larger, which those
   * kernels undo with the same bits).
   * Returns which rescaling was done (RESCALINGS), or false; `scaleBack` undoes it.
   */
  private scaleAwaySubnormals(
    pa: number,
    countA: number,
    pb: number,
    countB: number,
    { checkB = false, both = false, aAlone = false, bAlone = false } = {},
  ): Rescaling | false {
    if (!this.rescaleSubnormals || (pa < pb + countB * 4 && pb < pa + countA * 4)) return false;
    const k = this.subnormals;
    let up: Rescaling | false = false;
    if (k.hasSubnormal(pa, countA) !== 0) {
      if (k.rescalable(pa, countA, 1) !== 0) {
        if (aAlone) up = 'aAlone';
        else if (k.rescalable(pb, countB, 0) !== 0) up = 'A';
        else if (both && k.rescalable(pb, countB, 1) !== 0) up = 'both';
      }
    } else if (checkB && k.hasSubnormal(pb, countB) !== 0 && k.rescalable(pb, countB, 1) !== 0) {
      up = bAlone ? 'bAlone' : k.rescalable(pa, countA, 0) !== 0 ? 'B' : false;
    }
    if (up) {
      const [exponentA, exponentB] = RESCALINGS[up];
      this.scaleFactors(pa, countA, exponentA, pb, countB, exponentB);
      this.subnormalRescales[up === 'A' || up === 'B' ? 'oneFactor' : 'sumsScaled']++;
    }
    return up;
  }

  /**
   * out[k,n] += scale·(aᵀ·b) for a[m,k] and b[m,n] rescaled 'both' (gemmAddRescaled), multiplying
   * only the block of rows and columns of out holding an update that may change its bits
   * (assembly/negligible-updates.ts: in a saturated network most are far below half a float's
   * spacing); the other elements would keep theirs. The same bits as the whole product.
   */
  private addRescaledUpdate(pa: number, pb: number, po: number, m: number, k: number, n: number, scale: number): void {
    const negligibles = this.negligibles;
    const [exponentA, exponentB] = RESCALINGS.both;
    const unscaleA = 2 ** -exponentA,
      unscaleB = 2 ** -exponentB;
    const kept = this.skipNegligibleUpdates ? this.keptUpdates(0, pa, null, pb, po, m, k, n, scale, unscaleA, unscaleB, m * k + m * n + k * n) : null;
    if (!kept || !this.worthGathering(kept.rows * kept.cols, k * n)) {
      this.gemmAddRescaled(pa, 4, k * 4, pb, n * 4, po, n * 4, k, n, m, scale, unscaleA, unscaleB);
      return;
    }
    const { rows, keptRows, cols, keptCols, free } = kept;
    if (rows === 0 || cols === 0) return; // every update negligible
    const blockA = free,
      blockB = blockA + m * rows * 4,
      block = blockB + m * cols * 4;
    negligibles.gatherColumns(pa, m, k, keptRows, rows, blockA);
    negligibles.gatherColumns(pb, m, n, keptCols, cols, blockB);
    negligibles.gatherBlock(po, n, keptRows, rows, keptCols, cols, block);
    this.gemmAddRescaled(blockA, 4, rows * 4, blockB, cols * 4, block, cols * 4, rows, cols, m, scale, unscaleA, unscaleB);
    negligibles.scatterBlock(block, po, n, keptRows, rows, keptCols, cols);
  }

  /**
   * The first layer's out[k,n] += scale·(xᵀ·b) for x as sparse rows and b[m,n] rescaled 'bAlone',
   * multiplying only the columns of out holding an update that may change its bits, as
   * addRescaledUpdate does (all k rows: the kernel finds each pixel's row itself).
   */
  private addSparseRescaledUpdate(rows: WasmSparseRows, pb: number, po: number, n: number, scale: number, unscaleB: number, kernelScratchBytes: number): void {
    const negligibles = this.negligibles;
    const m = rows.rows,
      k = rows.cols;
    const kernelScratch = () => this.scratch(kernelScratchBytes); // first in scratch: the blocks go after it
    const kept = this.skipNegligibleUpdates ? this.keptUpdates(kernelScratchBytes, 0, rows, pb, po, m, k, n, scale, 1, unscaleB, m * n + k * n) : null;
    if (!kept || !this.worthGathering(k * kept.cols, k * n)) {
      this.sparseRowsRescaledAdd(rows, pb, po, n, scale, kernelScratch(), unscaleB);
      return;
    }
    const { cols, keptCols, free } = kept;
    if (cols === 0) return; // every update negligible
    const blockB = free,
      block = blockB + m * cols * 4;
    negligibles.gatherColumns(pb, m, n, keptCols, cols, blockB);
    negligibles.gatherColumns(po, k, n, keptCols, cols, block);
    this.sparseRowsRescaledAdd(rows, blockB, block, cols, scale, kernelScratch(), unscaleB);
    negligibles.scatterColumns(block, k, cols, po, n, keptCols);
  }

  /** gemmAddRescaled (assembly/rescaled-gemm.ts), native where the backend has it: the same bits, wider vectors. */
  private gemmAddRescaled(
    pa: number,
    aRowStride: number,
    aStep: number,
    pb: number,
    bRowStride: number,
    pc: number,
    cRowStride: number,
    rows: number,
    cols: number,
    depth: number,
    scale: number,
    unscaleA: number,
    unscaleB: number,
  ): void {
    if (this.native) {
      this.native.gemmAddRescaled(this.arena.buffer, pa, aRowStride, aStep, pb, bRowStride, pc, cRowStride, rows, cols, depth, scale, unscaleA, unscaleB);
    } else {
      this.kernels.gemmAddRescaled(pa, aRowStride, aStep, pb, bRowStride, pc, cRowStride, rows, cols, depth, scale, unscaleA, unscaleB);
    }
  }

  /** out[k,n] += scale·(xᵀ·b) for x as sparse rows and b given as b·2^E (unscaleB = 2^−E; n a multiple of 4), native where the backend has it. */
  private sparseRowsRescaledAdd(rows: WasmSparseRows, pb: number, po: number, n: number, scale: number, scratch: number, unscaleB: number): void {
    const { rowStart, indices, values, rows: m, cols: k } = rows;
    if (this.native) this.native.matmulTransposeASparseRowsAdd(this.arena.buffer, rowStart, indices, values, m, k, pb, po, n, scale, scratch, unscaleB);
    else this.kernels.matmulTransposeASparseRowsAdd(rowStart, indices, values, m, k, pb, po, n, scale, scratch, unscaleB);
  }

  /**
   * Which rows and columns of out[k,n] += scale·(aᵀ·b) hold an update that may change its bits
   * (assembly/negligible-updates.ts), in scratch after `before` bytes (kept for the caller's
   * kernel), with room for `extraFloats` more after them (at `free`); a as dense a[m,k] at pa or
   * as `sparse` rows.
   */
  private keptUpdates(
    before: number,
    pa: number,
    sparse: WasmSparseRows | null,
    pb: number,
    po: number,
    m: number,
    k: number,
    n: number,
    scale: number,
    unscaleA: number,
    unscaleB: number,
    extraFloats: number,
  ): { rows: number; keptRows: number; cols: number; keptCols: number; free: number } {
    const negligibles = this.negligibles;
    // Column sums f32[k + 4], maxima f32[n + 4], kept rows u32[k], kept columns u32[n], their counts u32[2].
    const sums = this.scratch(before + (k + 4 + n + 4 + k + n + 2 + extraFloats) * 4) + before,
      maxima = sums + (k + 4) * 4,
      keptRows = maxima + (n + 4) * 4,
      keptCols = keptRows + k * 4,
      counts = keptCols + n * 4;
    if (sparse) negligibles.sparseColumnSums(sparse.indices, sparse.values, sparse.entries, k, sums);
    else negligibles.columnSums(pa, m, k, sums);
    negligibles.columnMaxima(pb, m, n, maxima);
    negligibles.keptUpdates(sums, maxima, po, m, k, n, scale, unscaleA, unscaleB, keptRows, keptCols, counts);
    return { rows: this.word(counts), keptRows, cols: this.word(counts + 4), keptCols, free: counts + 8 };
  }

  /** Whether multiplying `kept` of a weight update's `total` elements pays for the gathering; if so, counts the others as left out. */
  private worthGathering(kept: number, total: number): boolean {
    if (kept > BLOCK_WORTH_GATHERING * total) return false;
    this.negligibleUpdates.products++;
    this.negligibleUpdates.elements += total - kept;
    return true;
  }

  /** Undoes `scaleAwaySubnormals` (multiplying by a power of two that was exact one way is exact back). */
  private scaleBack(up: Rescaling, pa: number, countA: number, pb: number, countB: number): void {
    const [exponentA, exponentB] = RESCALINGS[up];
    this.scaleFactors(pa, countA, -exponentA, pb, countB, -exponentB);
  }

  /** A's floats times 2^exponentA and B's times 2^exponentB, in place. */
  private scaleFactors(pa: number, countA: number, exponentA: number, pb: number, countB: number, exponentB: number): void {
    if (exponentA !== 0) this.subnormals.scaleByPowerOfTwo(pa, countA, exponentA);
    if (exponentB !== 0) this.subnormals.scaleByPowerOfTwo(pb, countB, exponentB);
  }

  /** At least `bytes` of scratch; grows (a new region) only when a larger shape arrives. */
  private scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      this.scratchOffset = this.arena.reserve(bytes);
      this.scratchBytes = bytes;
    }
    return this.scratchOffset;
  }
}

/** A kept block larger than this share of a weight update is multiplied in place (gathering it would cost more than it saves). */
const BLOCK_WORTH_GATHERING = 0.9;

/**
 * The rescalings `scaleAwaySubnormals` does, as the powers of two A and B are multiplied by. A or
 * B up (the other down) leaves every product as it is; both up makes every sum 2^48 times larger
 * (gemmAddRescaled), A or B alone 2^24 (matmulTransposeBRescaled, matmulTransposeASparseRowsAdd's
 * rescaled sums).
 */
const RESCALINGS = { A: [24, -24], B: [-24, 24], both: [24, 24], aAlone: [24, 0], bAlone: [0, 24] } as const;
type Rescaling = keyof typeof RESCALINGS;

function activationCode(kind: ActivationKind): ActivationCode {
  switch (kind) {
    case 'relu':
      return ACTIVATION_CODES.relu;
    case 'sigmoid':
      return ACTIVATION_CODES.sigmoid;
    case 'tanh':
      return ACTIVATION_CODES.tanh;
    case 'identity':
      return ACTIVATION_CODES.identity;
    default:
      kind satisfies never;
      throw new Error(`unknown activation ${String(kind)}`);
  }
}

/** Sparse rows in wasm memory: byte offsets of rowStart u32[maxRows + 1], indices u32[] and values f32[] (assembly/sparse-rows.ts). */
class WasmSparseRows implements SparseRows {
  rows = 0;
  entries = 0;

  constructor(
    readonly owner: WasmKernels,
    readonly maxRows: number,
    readonly cols: number,
    readonly rowStart: number,
    readonly indices: number,
    readonly values: number,
  ) {}

  fill(rows: number, entries: number): void {
    this.rows = rows;
    this.entries = entries;
  }
}

/** A gather's bytes must not be a view detached by a growth of wasm memory (unless nothing is read). */
function assertAttached(kernel: string, bytes: Uint8Array, reading: number): void {
  if (bytes.buffer.byteLength === 0 && reading > 0) {
    throw new RangeError(
      `${kernel}: the bytes' buffer was detached, probably a byteBuffer's data kept across a growth of wasm memory; read byteBuffer.data at each use`,
    );
  }
}

function shapeError(kernel: string, ...matrices: Array<Pick<Matrix, 'rows' | 'cols'>>): RangeError {
  return new RangeError(`${kernel}: incompatible shapes ${matrices.map((m) => `${m.rows}x${m.cols}`).join(', ')}`);
}
