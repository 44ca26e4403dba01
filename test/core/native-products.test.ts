/**
 * @file The native products (native/products.c: AVX-512, or AVX2 where the CPU has no AVX-512F, on the wasm memory) change no bit: two
 * backends from one compiled relaxed-SIMD module, one with the native products and one without,
 * run the same products on the same inputs and must give the same float32 bits, signed zeros
 * included. The four sparse products: x·W from SparseRows and from a dense x (zeros skipped, or
 * measured), and W += scale·xᵀ·dY both ways, over shapes that split the native vectors every way
 * (3 to 256 columns: one vector, 128-column blocks and their tails, a masked last vector whose
 * columns past a multiple of 4 are the wasm kernels' unfused scalar ones; sums in registers or in
 * the output row) and zero fractions from dense to all zeros. The two dense ones: the
 * register-tiled gemm wherever the output is 4 or more wide (dense x·W, the dense W += scale·xᵀ·dY
 * with xᵀ read through strides, and dY·Wᵀ with fewer than 16 columns, W transposed), over rows that
 * split its 6- and 4-row tiles and columns that split its 64- and 32-column ones or end in a masked
 * vector (5, 10, 20; accumulating, the +0 the wasm kernel's last tile adds to the columns it
 * overlaps); and dY·Wᵀ, plain and masked by a ReLU's output (+0, −0, NaN, ±∞, negatives,
 * positives), in native vectors where m is even, n a multiple of 4 (at least 16) and k of 16, and
 * in wasm elsewhere. Values at the arithmetic's edges:
 * ±0 (and −0 results through every path, from rows of few terms), subnormals (the products may
 * rescale them: one factor up and the other down, then the products above; or with their sums
 * scaled up, then the rescaled products of native/rescaled-products.c: xᵀ·dY with subnormals in
 * both factors, the first layer's xᵀ·dY and dY·Wᵀ with dY alone scaled up, each held to the wasm
 * kernels' bits in depth by native-rescaled.test.ts), sums that overflow, ±∞, NaN. Where two NaNs
 * of other bits meet: W's NaN against an update's stays W's, as in the wasm kernels; a NaN x times
 * a NaN W is NaN, one of the two (which one, the wasm kernels leave to V8's tier), so the sweeps'
 * factors hold one NaN only. Then model 1 (ReLU), with BN and without, and model 4 with BN
 * (sigmoid: dense products throughout) train to the same numbers and weights either way, without
 * a rescaled product. A wrong call throws a RangeError.
 *
 * Not vacuous: the native products are wrapped to count their calls, and every case checks that
 * its product reached exactly the native products the backend routes it to, and no other (or,
 * where the backend rightly keeps a wasm kernel, that both backends took that path for the same
 * reason: zeros measured, factors rescaled, updates negligible); the sweeps check that −0,
 * subnormals, ±∞ and NaN reached the outputs. Where the native products cannot run here (not
 * built, neither AVX-512F nor AVX2, BNLAB_NATIVE=off) the tests are skipped, saying why; built and yet not
 * loaded fails.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SparseRows, ZeroSkipping } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import type { NativeKernels } from '../../src/core/wasm/native-products.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { placedMatrix } from '../helpers/backends.js';
import { bitsOf, DEFAULT_NAN, float32Bits, nothingSeen, type Seen, tally } from '../helpers/float-bits.js';
import {
  assertCalls as assertProductCalls,
  type Moves,
  movedSince,
  movesOf,
  type Calls as NativeCalls,
  nativeBackendPair,
  nativeOrSkip,
  relaxedSimdModules,
} from '../helpers/native-backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';

const SPARSE_PRODUCTS = ['matmulSparseRows', 'matmulTransposeASparseRowsAdd', 'matmulSparse', 'matmulTransposeASparseAdd'] as const;
/** The six products every network runs. */
const PLAIN_PRODUCTS = [...SPARSE_PRODUCTS, 'gemm', 'matmulTransposeB'] as const;
/** And those that run on factors rescaled with their sums (matmulTransposeASparseRowsAdd too, with its `unscaleB` not 1). */
const PRODUCTS = [...PLAIN_PRODUCTS, 'matmulTransposeBRescaled', 'gemmAddRescaled'] as const;
type Product = (typeof PRODUCTS)[number];
type Calls = NativeCalls<Product>;

/** Where matmulTransposeASparseRowsAdd is given b rescaled by 2^24 (its 12th argument, `unscaleB`: 2^−24; 1 for b as it is). */
const UNSCALE_B_ARGUMENT = 11;

/** A native backend counting the eight products' calls, and a wasm-only one. */
const backendPair = (module: WebAssembly.Module, products: NativeKernels) => nativeBackendPair(module, products, PRODUCTS);
const assertCalls = (calls: Calls, before: Calls, expected: Partial<Calls>, message: string) => assertProductCalls(PRODUCTS, calls, before, expected, message);

type Pair = Awaited<ReturnType<typeof backendPair>>;

/** JavaScript's NaN (Number.NaN as a float32): a NaN input's. */
const JS_NAN = 0x7fc00000;
const isNaNBits = (b: number) => (b & 0x7fffffff) > 0x7f800000;

const signed = (rng: Rng, x: number) => (rng.uniform() < 0.5 ? -x : x);
/** ±(1 to 2)·2^e, e from −6 to 5: ordinary values whose sums round. */
const ordinary = (rng: Rng) => signed(rng, (1 + rng.uniform()) * 2 ** (rng.int(12) - 6));
/** ±m·2^e, m from 1 to 7 and e from `lowest` to `highest`: across the subnormals, products land on halves of their spacing (ties). */
const awkward = (rng: Rng, lowest: number, highest: number) => signed(rng, (1 + rng.int(7)) * 2 ** (lowest + rng.int(highest - lowest + 1)));

interface Flavour {
  name: string;
  /** A nonzero of the sparse factor x (in the dense sweeps: of x, and of dY in dY·Wᵀ). */
  sparse(rng: Rng): number;
  /** An entry of the other factor (W or dY; zeros allowed). */
  dense(rng: Rng): number;
  /** An entry of the W that xᵀ·dY is added to: mostly nonzero, never NaN (a NaN there is a test of its own). */
  start(rng: Rng): number;
}

/** What the factors hold, each aimed at one edge of the arithmetic (as float32 bits). */
const FLAVOURS: Flavour[] = [
  { name: 'ordinary values', sparse: (rng) => bitsOf(ordinary(rng)), dense: (rng) => bitsOf(ordinary(rng)), start: (rng) => bitsOf(ordinary(rng)) },
  {
    // Products of ±0 (−1·+0 = −0), exact cancellations (1 − 1 = +0), −0 + −0 in W.
    name: 'signed zeros',
    sparse: (rng) => bitsOf(signed(rng, 1 + rng.int(2))),
    dense: (rng) => bitsOf(signed(rng, rng.uniform() < 0.7 ? 0 : 1 + rng.int(2))),
    start: (rng) => bitsOf(signed(rng, rng.uniform() < 0.3 ? 0 : 1 + rng.int(3))),
  },
  {
    // Subnormal operands, products and sums (1e-40, 2^−149, ties at their spacing).
    name: 'subnormals',
    sparse: (rng) => bitsOf(rng.uniform() < 0.3 ? signed(rng, rng.uniform() < 0.5 ? 1e-40 : 2 ** -149) : awkward(rng, -153, -2)),
    dense: (rng) => bitsOf(rng.uniform() < 0.3 ? signed(rng, 1e-40) : awkward(rng, -153, -2)),
    start: (rng) => bitsOf(awkward(rng, -149, -120)),
  },
  {
    // 3e38 and its kin: sums overflow to ±∞, and ∞ − ∞ in a sum is NaN.
    name: 'huge values',
    sparse: (rng) => bitsOf(signed(rng, rng.uniform() < 0.4 ? 3e38 : 1 + rng.uniform())),
    dense: (rng) => bitsOf(signed(rng, rng.uniform() < 0.4 ? 1e38 * (1 + rng.int(3)) : 1 + rng.uniform())),
    start: (rng) => bitsOf(rng.uniform() < 0.3 ? signed(rng, 3e38) : ordinary(rng)),
  },
  {
    // ±∞ and NaN in both factors, ±0 in the other one (0·∞ = NaN).
    name: '±∞ and NaN',
    sparse: (rng) => {
      const u = rng.uniform();
      return u < 0.08 ? DEFAULT_NAN : bitsOf(u < 0.16 ? signed(rng, Number.POSITIVE_INFINITY) : ordinary(rng));
    },
    dense: (rng) => {
      const u = rng.uniform();
      return u < 0.05 ? DEFAULT_NAN : bitsOf(u < 0.1 ? signed(rng, Number.POSITIVE_INFINITY) : u < 0.3 ? signed(rng, 0) : ordinary(rng));
    },
    start: (rng) => bitsOf(rng.uniform() < 0.05 ? signed(rng, Number.POSITIVE_INFINITY) : ordinary(rng)),
  },
  {
    name: 'everything mixed',
    sparse: (rng) => {
      const u = rng.uniform();
      if (u < 0.02) return DEFAULT_NAN;
      return bitsOf(u < 0.04 ? signed(rng, Number.POSITIVE_INFINITY) : u < 0.1 ? signed(rng, 3e38) : u < 0.3 ? awkward(rng, -153, -2) : ordinary(rng));
    },
    dense: (rng) => {
      const u = rng.uniform();
      if (u < 0.02) return DEFAULT_NAN;
      const special = u < 0.04 ? Number.POSITIVE_INFINITY : u < 0.1 ? 1e38 : u < 0.3 ? 0 : u < 0.5 ? 1e-40 : null;
      return bitsOf(special === null ? ordinary(rng) : signed(rng, special));
    },
    start: (rng) => bitsOf(rng.uniform() < 0.2 ? signed(rng, rng.uniform() < 0.5 ? 0 : 1e-40) : ordinary(rng)),
  },
];

/**
 * For the dense products: subnormals in x (or dY) against ordinary W (a saturated sigmoid's outputs
 * against its weights), which they rescale, the factor with subnormals up and the other down (or
 * dY·Wᵀ's dY alone up, with its sums), where the other flavours' subnormals in both factors leave
 * them as they are or scale both up.
 */
const ONE_FACTOR_SUBNORMALS: Flavour = {
  name: 'subnormals in one factor',
  sparse: (rng) => bitsOf(rng.uniform() < 0.5 ? signed(rng, rng.uniform() < 0.3 ? 1e-40 : (1 + rng.int(7)) * 2 ** -149) : awkward(rng, -140, 0)),
  dense: (rng) => {
    const u = rng.uniform();
    return bitsOf(u < 0.1 ? signed(rng, 0) : u < 0.12 ? signed(rng, 1e38) : ordinary(rng));
  },
  start: (rng) => bitsOf(ordinary(rng)),
};
const DENSE_FLAVOURS = [...FLAVOURS, ONE_FACTOR_SUBNORMALS];

const ROWS = [1, 2, 7, 60, 61];
const INNER = [1, 5, 128, 784];
const COLUMNS = [16, 32, 128, 144, 256, 10, 20, 3]; // 10, 20, 3: a masked last vector (10, 3: its last columns the wasm kernels' scalar ones)
const ZERO_FRACTIONS = [0, 0.5, 0.81, 0.99, 1];
/**
 * Every shape meets 3 (zero fraction, flavour) pairs: case j = 3·(row index) + r of a k×n meets
 * flavour (j + k's index + n's index) mod 6 and zero fraction (j + 2·k's + n's) mod 5, so that
 * each k×n meets 15 of the 30 pairs, every flavour reaches every path (in registers or in the
 * output row, 128-column blocks or 16-column tails), and all 30 pairs are met.
 */
const CASES_PER_SHAPE = 3;

/**
 * A flavour's values drawn once; each case takes windows of them at random offsets (drawing
 * 200,000 values for each case would take most of the time). Lengths: at least x's 61·784 and
 * W's 784·256.
 */
interface Pools {
  sparse: Uint32Array;
  dense: Uint32Array;
  start: Uint32Array;
}
function drawPools(flavour: Flavour, rng: Rng): Pools {
  const draw = (length: number, value: (rng: Rng) => number) => {
    const pool = new Uint32Array(length);
    for (let i = 0; i < length; i++) pool[i] = value(rng);
    return pool;
  };
  return { sparse: draw(2 ** 16, flavour.sparse), dense: draw(2 ** 18, flavour.dense), start: draw(2 ** 18, flavour.start) };
}
const drawn = new Map<Flavour, Pools>();
/** A flavour's pools, drawn once for every sweep (drawing takes most of a sweep's time), each from a seed of its own. */
function poolsOf(flavour: Flavour): Pools {
  let pools = drawn.get(flavour);
  if (!pools) {
    pools = drawPools(flavour, new Rng(700 + DENSE_FLAVOURS.indexOf(flavour)));
    drawn.set(flavour, pools);
  }
  return pools;
}
/** `length` of a pool's values from a random offset. */
function windowOf(pool: Uint32Array, length: number, rng: Rng): Uint32Array {
  const start = rng.int(pool.length - length + 1);
  return pool.subarray(start, start + length);
}
/** Bits as the floats they are (NaN payloads kept: copied, never read as numbers). */
const floats = (bits: Uint32Array) => new Float32Array(bits.buffer, bits.byteOffset, bits.length);

/** One backend's matrices for a shape. */
interface Side {
  kernels: WasmKernels;
  a: Matrix;
  rows: SparseRows;
  b: Matrix;
  dy: Matrix;
  product: Matrix;
  update: Matrix;
}

/**
 * The counters that say which path a product took: x's zeros measured as worth skipping (x·W,
 * xᵀ·dY), factors rescaled (one, or dY alone with its sums), and a rescaled update's negligible
 * elements left out (products gathered, elements left out).
 */
function pathCounters(kernels: WasmKernels): number[] {
  const { zeroSkips, subnormalRescales, negligibleUpdates } = kernels;
  return [
    zeroSkips.forward,
    zeroSkips.weightGradient,
    subnormalRescales.oneFactor,
    subnormalRescales.sumsScaled,
    negligibleUpdates.products,
    negligibleUpdates.elements,
  ];
}

/** Both backends' matrices for an m×k x, a k×n W (x·W's output m×n) and an m×n dY (xᵀ·dY's output k×n). */
function sidesFor({ withNative, wasmOnly }: Pair, m: number, k: number, n: number): [Side, Side] {
  return [withNative, wasmOnly].map((kernels) => ({
    kernels,
    a: kernels.matrix(m, k),
    rows: kernels.sparseRows(m, k),
    b: kernels.matrix(k, n),
    dy: kernels.matrix(m, n),
    product: kernels.matrix(m, n),
    update: kernels.matrix(k, n),
  })) as [Side, Side];
}

/**
 * The four products on both backends from the same bits (x, W, dY, and the W that xᵀ·dY is
 * added to, scaled by −0.01 and 1): the same output bits, the same path (zeros measured,
 * factors rescaled), and exactly the native products that path leads to.
 */
function compareProducts(
  { withNative, wasmOnly, calls, last }: Pair,
  [own, other]: [Side, Side],
  inputs: { x: Uint32Array; b: Uint32Array; dy: Uint32Array; start: Uint32Array },
  aZeros: ZeroSkipping,
  label: string,
  seen: Seen,
): void {
  for (const side of [own, other]) {
    side.a.data.set(floats(inputs.x));
    side.b.data.set(floats(inputs.b));
    side.dy.data.set(floats(inputs.dy));
    side.kernels.packRows(side.a, side.rows);
  }
  const k = own.update.rows,
    n = own.update.cols;
  const check = (what: string, output: 'product' | 'update', run: (side: Side) => void, routed: (moved: number[]) => Partial<Calls>) => {
    const before = [pathCounters(withNative), pathCounters(wasmOnly)],
      callsBefore = { ...calls };
    run(own);
    run(other);
    const nativeBits = float32Bits(own[output].data);
    assert.deepStrictEqual(nativeBits, float32Bits(other[output].data), `${what}, ${label}: the same bits`);
    const [moved, movedWasm] = [withNative, wasmOnly].map((kernels, i) => pathCounters(kernels).map((count, j) => count - before[i]![j]!));
    // Each backend skips zeros from its own measured break-even (NATIVE_MAX_NONZERO_FRACTION): the rest of the path is the same.
    assert.deepStrictEqual(moved!.slice(2), movedWasm!.slice(2), `${what}, ${label}: the same path on both backends`);
    assertCalls(calls, callsBefore, routed(moved!), `${what}, ${label}: the native products the backend routes it to ran, and no other`);
    tally(seen, nativeBits);
  };
  // 'measure' skips x's zeros (the sparse product, native) only where they are most of x and W or dY is finite;
  // elsewhere x·W and xᵀ·dY are dense: the native gemm from 4 columns on ('measure' rescales nothing).
  const dense: Partial<Calls> = n >= 4 ? { gemm: 1 } : {};
  const forward = (moved: number[]): Partial<Calls> => (aZeros === true || moved[0] === 1 ? { matmulSparse: 1 } : dense);
  const gradient = (moved: number[]): Partial<Calls> => (aZeros === true || moved[1] === 1 ? { matmulTransposeASparseAdd: 1 } : dense);
  // xᵀ·dY from SparseRows: native with dY as it is, and where it rescales a subnormal dY alone (its sums scaled: counter 3), then
  // given unscaleB = 2^−24 (on the columns whose update may count, or on none where every one of the k·n is negligible: counter 5).
  const fromRows = (moved: number[]): Partial<Calls> => {
    const rescaled = moved[3] === 1;
    if (rescaled && moved[5] === k * n) return {};
    const unscaleB = last.matmulTransposeASparseRowsAdd?.args[UNSCALE_B_ARGUMENT];
    assert.equal(unscaleB, rescaled ? 2 ** -24 : 1, `W += xᵀ·dY from SparseRows, ${label}: unscaleB ${rescaled ? '2^−24, dY rescaled' : '1, dY as it is'}`);
    return { matmulTransposeASparseRowsAdd: 1 };
  };

  check(
    'x·W from SparseRows',
    'product',
    (s) => s.kernels.matmulSparseRows(s.rows, s.b, s.product),
    () => ({ matmulSparseRows: 1 }),
  );
  check('x·W', 'product', (s) => s.kernels.matmul(s.a, s.b, s.product, aZeros), forward);
  for (const scale of [-0.01, 1]) {
    const updateFromRows = (s: Side) => {
      s.update.data.set(floats(inputs.start));
      s.kernels.matmulTransposeAAddSparseRows(s.rows, s.dy, s.update, scale);
    };
    const updateFromMatrix = (s: Side) => {
      s.update.data.set(floats(inputs.start));
      s.kernels.matmulTransposeAAdd(s.a, s.dy, s.update, aZeros, scale);
    };
    check(`W += ${scale}·xᵀ·dY from SparseRows`, 'update', updateFromRows, fromRows);
    check(`W += ${scale}·xᵀ·dY`, 'update', updateFromMatrix, gradient);
  }
}

/**
 * Where the backend routes a product, for the path it took: the native calls, and how often each
 * backend ran the wasm masked dY·Wᵀ (native backend's, wasm backend's; the native product stands
 * in for it where it takes the shape; given for dY·Wᵀ only, elsewhere both backends' the same).
 */
interface Route {
  calls: Partial<Calls>;
  masked?: [number, number];
}

/**
 * One dense product on both backends (`run` multiplies, its inputs already in place, and returns
 * the output): the same output bits, the same path on both (factors rescaled; zeros skipped each by
 * its own break-even), and exactly the native calls `route` gives for that path.
 */
function compareDense<S extends { kernels: WasmKernels }>(
  { withNative, wasmOnly, calls }: Pair,
  sides: [S, S],
  what: string,
  run: (side: S) => Matrix,
  route: (moved: Moves) => Route,
  seen: Seen,
): void {
  const before = [movesOf(withNative), movesOf(wasmOnly)] as const,
    callsBefore = { ...calls };
  const [fromNative, fromWasm] = sides.map((side) => float32Bits(run(side).data)) as [Uint32Array, Uint32Array];
  assert.deepStrictEqual(fromNative, fromWasm, `${what}: the same bits`);
  const moved = movedSince(withNative, before[0]),
    movedWasm = movedSince(wasmOnly, before[1]);
  // Zeros skipped as the native backend chose (its own break-even), the rest of the path as on both.
  const skips = { forward: moved.forward, weightGradient: moved.weightGradient };
  const { calls: expected, masked = [movedWasm.maskedInputGradient, movedWasm.maskedInputGradient] } = route({ ...movedWasm, ...skips });
  assert.deepStrictEqual(moved, { ...movedWasm, ...skips, maskedInputGradient: masked[0] }, `${what}: the same path on both backends`);
  assert.equal(movedWasm.maskedInputGradient, masked[1], `${what}: the wasm masked dY·Wᵀ ran where the backend routes it`);
  assertCalls(calls, callsBefore, expected, `${what}: the native products the backend routes it to ran, and no other`);
  tally(seen, fromNative);
}

/**
 * The dense x·W [m×k]·[k×n] and W += scale·xᵀ·dY: rows that split gemm's 4-row tiles (the update's
 * rows are k), widths that split its 32-column tiles into 16s, and widths no multiple of 16 (10,
 * 20, 5: a masked last vector; 10 and 5 with columns the wasm kernel's last tile overlaps).
 */
const DENSE_ROWS = [1, 3, 4, 5, 10, 60, 61]; // 10: a 6-row tile, then a 4-row one (at 128 columns)
const DENSE_INNER = [1, 5, 128, 784];
const DENSE_COLUMNS = [16, 32, 48, 128, 144, 10, 20, 5];
/**
 * dY·Wᵀ for dY [m×n] and W [k×n]: m even or odd, n below 16 (W transposed, gemm over k columns),
 * at least 16 and a multiple of 4 or not (18), k a multiple of 16 or not (10).
 */
const GRADIENT_ROWS = [2, 6, 7, 60]; // 6: native dY·Wᵀ in a tile of four rows, then one of two
const GRADIENT_COLUMNS = [4, 8, 16, 18, 20, 128];
const GRADIENT_OUTPUTS = [16, 32, 128, 10];
/** Below this many columns dY·Wᵀ is W transposed and gemm (wasm-kernels.ts' SHORT_DOT_PRODUCT). */
const SHORT_DOT_PRODUCT = 16;
/**
 * Every dense shape meets 2 of the 7 dense flavours, one with x's or dY's zeros not looked at
 * (false: factors holding subnormals rescaled) and one measured: case j = 2·(row index) + r of a
 * shape meets flavour (j + the other two sizes' indices) mod 7, so that every k×n of x·W meets
 * every flavour (its 12 cases), every n×k of dY·Wᵀ 6 of them, and every flavour every size.
 */
const DENSE_CASES_PER_SHAPE = 2;

/** One backend's matrices for the dense x [m×k]·W [k×n] and W [k×n] += scale·xᵀ·dY [m×n]. */
interface DenseSide {
  kernels: WasmKernels;
  x: Matrix;
  w: Matrix;
  product: Matrix;
  dy: Matrix;
  update: Matrix;
}

/** One backend's matrices for dY [m×n]·(W [k×n])ᵀ, plain and masked, with a mask of ones and an output to probe the path with. */
interface GradientSide {
  kernels: WasmKernels;
  dy: Matrix;
  w: Matrix;
  out: Matrix;
  mask: Matrix;
  ones: Matrix;
  probe: Matrix;
}

/** An entry of a ReLU's output as dY·Wᵀ's mask: +0, −0, NaN (both), ±∞, ±1e-45 and ordinary values of both signs. */
function maskEntry(rng: Rng): number {
  const u = rng.uniform();
  if (u < 0.15) return bitsOf(0);
  if (u < 0.25) return bitsOf(-0);
  if (u < 0.3) return u < 0.275 ? DEFAULT_NAN : JS_NAN;
  if (u < 0.34) return bitsOf(signed(rng, Number.POSITIVE_INFINITY));
  if (u < 0.38) return bitsOf(signed(rng, 1e-45));
  return bitsOf(ordinary(rng));
}

describe('native products: the bits of the relaxed-SIMD kernels they stand for', async () => {
  for (const module of await relaxedSimdModules()) {
    test('the four sparse products over shapes, zero fractions and edge values', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(71);
      const pools = FLAVOURS.map(poolsOf);
      const seen = nothingSeen();
      const sumsScaled = pair.wasmOnly.subnormalRescales.sumsScaled;
      for (const [mi, m] of ROWS.entries()) {
        for (const [ki, k] of INNER.entries()) {
          for (const [ni, n] of COLUMNS.entries()) {
            const sides = sidesFor(pair, m, k, n);
            for (let r = 0; r < CASES_PER_SHAPE; r++) {
              const j = CASES_PER_SHAPE * mi + r;
              const f = (j + ki + ni) % FLAVOURS.length,
                zeros = ZERO_FRACTIONS[(j + 2 * ki + ni) % ZERO_FRACTIONS.length]!;
              const pool = pools[f]!;
              const aZeros: ZeroSkipping = mi % 2 === 0 ? true : 'measure';
              const label = `${m}x${k}·${k}x${n}, ${zeros * 100}% zeros, ${FLAVOURS[f]!.name}, x's zeros ${aZeros === true ? 'skipped' : 'measured'}`;
              // x: zeros of both signs at the zero fraction, the flavour's nonzeros elsewhere.
              const x = windowOf(pool.sparse, m * k, rng).map((v) => (rng.uniform() < zeros ? bitsOf(signed(rng, 0)) : v));
              const inputs = { x, b: windowOf(pool.dense, k * n, rng), dy: windowOf(pool.dense, m * n, rng), start: windowOf(pool.start, k * n, rng) };
              compareProducts(pair, sides, inputs, aZeros, label, seen);
            }
          }
        }
      }
      const { calls } = pair;
      for (const product of SPARSE_PRODUCTS) assert.ok(calls[product] >= 100, `${product} ran natively in most cases: ${calls[product]}`);
      // Only xᵀ·dY from SparseRows scales sums up here (a subnormal dY alone: then natively, given unscaleB 2^−24).
      const rescaled = pair.wasmOnly.subnormalRescales.sumsScaled - sumsScaled;
      assert.ok(rescaled >= 10, `xᵀ·dY from SparseRows rescaled dY alone ${rescaled} times`);
      assert.ok(calls.gemm >= 50, `gemm ran natively where 'measure' found x dense: ${calls.gemm}`);
      for (const [what, count] of Object.entries(seen)) assert.ok(count > 100, `${what} reached the outputs: ${count}`);
    });

    test('signed zeros through every path: rows of 0 to 3 terms against W and dY mostly ±0', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(72);
      const seen = nothingSeen();
      const zeroOr = (rng: Rng, share: number, value: () => number) => bitsOf(signed(rng, rng.uniform() < share ? 0 : value()));
      // A −0 output needs every term a −0 product (or a first product −0 where sums start from it), so few terms a row;
      // 2 inner columns sum in registers, 784 in the output row; 16, 128 and 144 columns: a vector, a block, both.
      for (const [k, n] of [
        [2, 16],
        [2, 128],
        [2, 144],
        [784, 128],
        [784, 144],
        [784, 256],
      ] as const) {
        const m = 8;
        const x = new Uint32Array(m * k);
        for (let i = 0; i < m; i++) for (let term = 0; term < i % 4; term++) x[i * k + rng.int(k)] = bitsOf(signed(rng, 1 + rng.int(2)));
        const inputs = {
          x,
          b: Uint32Array.from({ length: k * n }, () => zeroOr(rng, 0.9, () => 1 + rng.int(2))),
          dy: Uint32Array.from({ length: m * n }, () => zeroOr(rng, 0.9, () => 1 + rng.int(2))),
          start: Uint32Array.from({ length: k * n }, () => zeroOr(rng, 0.9, () => 1)),
        };
        compareProducts(pair, sidesFor(pair, m, k, n), inputs, true, `${m}x${k}·${k}x${n}`, seen);
      }
      assert.ok(seen.negativeZero > 1000, `−0 reached the outputs: ${seen.negativeZero}`);
    });

    test('the dense products through gemm: x·W and W += scale·xᵀ·dY over shapes and edge values', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(73);
      const pools = DENSE_FLAVOURS.map(poolsOf);
      const seen = nothingSeen();
      const paths = movesOf(pair.wasmOnly);
      let wide = 0; // products with an output a multiple of 16 wide
      for (const [mi, m] of DENSE_ROWS.entries()) {
        for (const [ki, k] of DENSE_INNER.entries()) {
          for (const [ni, n] of DENSE_COLUMNS.entries()) {
            const sides = [pair.withNative, pair.wasmOnly].map((kernels) => ({
              kernels,
              x: kernels.matrix(m, k),
              w: kernels.matrix(k, n),
              product: kernels.matrix(m, n),
              dy: kernels.matrix(m, n),
              update: kernels.matrix(k, n),
            })) as [DenseSide, DenseSide];
            // The native gemm takes outputs 4 or more wide (10 and 20: its last vector masked).
            const native = n >= 4 ? 1 : 0;
            for (let r = 0; r < DENSE_CASES_PER_SHAPE; r++) {
              const j = DENSE_CASES_PER_SHAPE * mi + r;
              const f = (j + ki + ni) % DENSE_FLAVOURS.length,
                pool = pools[f]!;
              const aZeros: ZeroSkipping = r === 0 ? false : 'measure';
              const label = `${m}x${k}·${k}x${n}, ${DENSE_FLAVOURS[f]!.name}, x's zeros ${aZeros === false ? 'not looked at' : 'measured'}`;
              // x: the flavour's nonzeros and a tenth ±0, which a dense product multiplies (0·∞ = NaN).
              const x = windowOf(pool.sparse, m * k, rng).map((v) => (rng.uniform() < 0.1 ? bitsOf(signed(rng, 0)) : v));
              const w = windowOf(pool.dense, k * n, rng),
                dy = windowOf(pool.dense, m * n, rng),
                start = windowOf(pool.start, k * n, rng);
              for (const side of sides) {
                side.x.data.set(floats(x));
                side.w.data.set(floats(w));
                side.dy.data.set(floats(dy));
              }
              // x·W: gemm, rescaled or not (one factor up and the other down: the same products); the sparse product where 'measure' skips x's zeros.
              const forward = (s: DenseSide) => {
                s.kernels.matmul(s.x, s.w, s.product, aZeros);
                return s.product;
              };
              compareDense(
                pair,
                sides,
                `x·W, ${label}`,
                forward,
                (moved) => ({ calls: moved.forward === 1 ? { matmulSparse: native } : { gemm: native } }),
                seen,
              );
              for (const scale of [-0.01, 1]) {
                const update = (s: DenseSide) => {
                  s.update.data.set(floats(start));
                  s.kernels.matmulTransposeAAdd(s.x, s.dy, s.update, aZeros, scale);
                  return s.update;
                };
                // xᵀ·dY: gemm reading xᵀ through strides (one factor rescaled or none), but the sparse product where 'measure' skips
                // x's zeros, and where both factors hold subnormals (both scaled up) the native gemmAddRescaled at any width (n ≥ 4
                // there): on the block of weights whose update may count, or on none where every one of the k·n is negligible.
                const routed = (moved: Moves): Route => {
                  if (moved.weightGradient === 1) return { calls: { matmulTransposeASparseAdd: native } };
                  if (moved.sumsScaled === 1) return { calls: { gemmAddRescaled: moved.negligibleElements === k * n ? 0 : 1 } };
                  return { calls: { gemm: native } };
                };
                compareDense(pair, sides, `W += ${scale}·xᵀ·dY, ${label}`, update, routed, seen);
              }
              wide += 3 * native;
            }
          }
        }
      }
      const { calls } = pair;
      assert.ok(calls.gemm >= 0.75 * wide, `gemm ran natively in most of the ${wide} products it takes: ${calls.gemm}`);
      // Both rescalings were met: one factor up and the other down (then gemm, native where it takes the width), and both up (gemmAddRescaled).
      const moved = movedSince(pair.wasmOnly, paths);
      assert.ok(moved.oneFactor >= 20 && moved.sumsScaled >= 20, `one factor rescaled ${moved.oneFactor} times, both ${moved.sumsScaled}`);
      assert.ok(calls.gemmAddRescaled >= 0.75 * moved.sumsScaled, `gemmAddRescaled ran natively for most of them: ${calls.gemmAddRescaled}`);
      for (const [what, count] of Object.entries(seen)) assert.ok(count > 100, `${what} reached the outputs: ${count}`);
    });

    test('dY·Wᵀ, plain and masked by a ReLU’s output, over shapes, masks and edge values', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const { wasmOnly, calls, last } = pair;
      const rng = new Rng(74);
      const pools = DENSE_FLAVOURS.map(poolsOf);
      const seen = nothingSeen();
      let dotShapes = 0, // products the native matmulTransposeB takes the shape of
        shortShapes = 0; // and those of fewer than 16 columns whose gemm (over k columns) it takes
      const rescaled = { stood: 0, overflowed: 0 }; // dY·Wᵀ with dY's subnormals scaled up alone: done so, or overflowed and done as it is
      const paths = movesOf(wasmOnly);
      for (const [mi, m] of GRADIENT_ROWS.entries()) {
        for (const [ni, n] of GRADIENT_COLUMNS.entries()) {
          for (const [ki, k] of GRADIENT_OUTPUTS.entries()) {
            const sides = [pair.withNative, wasmOnly].map((kernels) => ({
              kernels,
              dy: kernels.matrix(m, n),
              w: kernels.matrix(k, n),
              out: kernels.matrix(m, k),
              mask: kernels.matrix(m, k),
              ones: placedMatrix(kernels, m, k, new Float32Array(m * k).fill(1)),
              probe: kernels.matrix(m, k),
            })) as [GradientSide, GradientSide];
            const dotShape = m % 2 === 0 && n % 4 === 0 && n >= SHORT_DOT_PRODUCT && k % 16 === 0;
            /**
             * Whether the wasm backend's dY·Wᵀ with dY's subnormals scaled up alone (its sums with them) overflowed a sum, and so
             * ran as it is after all (the native product, where it takes the shape): the same product masked by ones then goes
             * on to the wasm masked kernel, which counts its runs.
             */
            const rescaledOverflowed = () => {
              const before = wasmOnly.zeroSkips.maskedInputGradient;
              wasmOnly.matmulTransposeB(sides[1].dy, sides[1].w, sides[1].probe, false, sides[1].ones);
              const overflowed = wasmOnly.zeroSkips.maskedInputGradient === before + 1;
              rescaled[overflowed ? 'overflowed' : 'stood']++;
              return overflowed;
            };
            const routed =
              (masked: boolean) =>
              (moved: Moves): Route => {
                // An all-zero dY (measured) against a finite W: zeros, nothing multiplied.
                if (moved.vanishedGradient === 1) return { calls: {}, masked: [0, 0] };
                // Short rows: W transposed, then gemm over k columns (rescaled, if at all, one factor up and the other down).
                if (n < SHORT_DOT_PRODUCT) return { calls: { gemm: k >= 4 ? 1 : 0 }, masked: [0, 0] };
                const asItIs: Route = { calls: { matmulTransposeB: dotShape ? 1 : 0 }, masked: masked ? [dotShape ? 0 : 1, 1] : [0, 0] };
                if (moved.sumsScaled === 0) return asItIs;
                // dY's subnormals scaled up alone (m even, n ≥ 16, n and k multiples of 4): the native matmulTransposeBRescaled where
                // k is a multiple of 16 (every such k here), which says whether a sum overflowed as the wasm kernel does; then the
                // product as it is, as above.
                const overflowed = rescaledOverflowed();
                assert.equal(dotShape, true, `${m}x${n}·(${k}x${n})ᵀ: only shapes the native products take have dY's sums rescaled here`);
                assert.equal(
                  last.matmulTransposeBRescaled?.result,
                  overflowed ? 1 : 0,
                  `${m}x${n}·(${k}x${n})ᵀ: the native product saw the overflow the wasm one did`,
                );
                if (!overflowed) return { calls: { matmulTransposeBRescaled: 1 }, masked: [0, 0] };
                return { ...asItIs, calls: { ...asItIs.calls, matmulTransposeBRescaled: 1 } };
              };
            for (let r = 0; r < DENSE_CASES_PER_SHAPE; r++) {
              const j = DENSE_CASES_PER_SHAPE * mi + r;
              const f = (j + ni + ki) % DENSE_FLAVOURS.length,
                pool = pools[f]!;
              const aZeros: ZeroSkipping = r === 0 ? false : 'measure';
              const label = `${m}x${n}·(${k}x${n})ᵀ, ${DENSE_FLAVOURS[f]!.name}, dY's zeros ${aZeros === false ? 'not looked at' : 'measured'}`;
              // dY: the flavour's nonzeros and a tenth ±0 (all ±0 in some measured cases: a vanished gradient, unless W is not finite).
              const zeros = aZeros === 'measure' && (mi + ni + ki) % 6 === 0 ? 1 : 0.1;
              const dy = windowOf(pool.sparse, m * n, rng).map((v) => (rng.uniform() < zeros ? bitsOf(signed(rng, 0)) : v)),
                w = windowOf(pool.dense, k * n, rng),
                mask = Uint32Array.from({ length: m * k }, () => maskEntry(rng));
              for (const side of sides) {
                side.dy.data.set(floats(dy));
                side.w.data.set(floats(w));
                side.mask.data.set(floats(mask));
              }
              const plain = (s: GradientSide) => {
                s.kernels.matmulTransposeB(s.dy, s.w, s.out, aZeros);
                return s.out;
              };
              const masked = (s: GradientSide) => {
                s.kernels.matmulTransposeB(s.dy, s.w, s.out, aZeros, s.mask);
                return s.out;
              };
              compareDense(pair, sides, `dY·Wᵀ, ${label}`, plain, routed(false), seen);
              compareDense(pair, sides, `dY·Wᵀ masked, ${label}`, masked, routed(true), seen);
              if (dotShape) dotShapes += 2;
              if (n < SHORT_DOT_PRODUCT && k >= 4) shortShapes += 2;
            }
          }
        }
      }
      assert.ok(
        calls.matmulTransposeB >= 0.75 * dotShapes,
        `matmulTransposeB ran natively in most of the ${dotShapes} products it takes: ${calls.matmulTransposeB}`,
      );
      assert.equal(
        calls.matmulTransposeBRescaled,
        rescaled.stood + rescaled.overflowed,
        'matmulTransposeBRescaled ran natively for every dY·Wᵀ whose sums were rescaled',
      );
      assert.ok(calls.gemm >= 0.75 * shortShapes, `gemm ran natively in most of the ${shortShapes} short products it takes: ${calls.gemm}`);
      // Every path the routing knows was taken: a vanished gradient, one factor rescaled, dY's sums rescaled (and overflowed).
      const moved = movedSince(wasmOnly, paths);
      assert.ok(moved.vanishedGradient >= 5 && moved.oneFactor >= 5, `vanished gradients ${moved.vanishedGradient}, one factor rescaled ${moved.oneFactor}`);
      assert.ok(rescaled.stood >= 3 && rescaled.overflowed >= 3, `dY's sums rescaled ${rescaled.stood} times, overflowed ${rescaled.overflowed}`);
      for (const [what, count] of Object.entries(seen)) assert.ok(count > 20, `${what} reached the outputs: ${count}`);
    });

    test("a NaN already in W and a NaN update of other bits: W's NaN stays, as the wasm kernels' out + scale·sum keeps it", async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      // W all x86's default NaN (a diverged network's weights); the update NaN from a JavaScript NaN in dY.
      // The wasm kernels' f32x4.add(out, scale·sum) keeps its first operand's NaN, in V8's baseline and optimized code alike.
      const differences = [];
      for (const n of [16, 128, 144]) {
        for (const product of ['W += xᵀ·dY', 'W += xᵀ·dY from SparseRows', 'W += xᵀ·dY dense'] as const) {
          const [fromNative, fromWasm] = nanCase(pair, product, 2, 1, n, { 0: bitsOf(1), 1: bitsOf(2) }, { 0: JS_NAN }, DEFAULT_NAN);
          const differing = [...fromNative.keys()].filter((i) => fromNative[i] !== fromWasm[i]);
          if (differing.length > 0) {
            const i = differing[0]!;
            differences.push(
              `${product}, ${n} columns: ${differing.length} outputs differ, e.g. native ${fromNative[i]!.toString(16)}, wasm ${fromWasm[i]!.toString(16)}`,
            );
          }
        }
      }
      assert.deepStrictEqual(differences, [], `W ${DEFAULT_NAN.toString(16)} + −0.01·(1·${JS_NAN.toString(16)})`);
    });

    test('a NaN x times a NaN W or dY (of other bits): NaN where the wasm kernels give NaN, one of the two', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const pair = await backendPair(module, products);
      // Which of the two NaNs a multiply-add keeps is not the wasm kernels' to say: V8's baseline code
      // (Liftoff) keeps x's in some columns, its optimized code (TurboFan) W's in all (Node 20, a 2x128
      // x·W). So here NaN for NaN, and a NaN of the inputs.
      const check = (label: string, [fromNative, fromWasm]: [Uint32Array, Uint32Array]) => {
        assert.deepStrictEqual(Array.from(fromNative, isNaNBits), Array.from(fromWasm, isNaNBits), `${label}: NaN where the wasm kernels give NaN`);
        assert.ok(fromWasm.some(isNaNBits), `${label}: the NaNs reached the output`);
        for (const b of fromNative) if (isNaNBits(b)) assert.ok(b === JS_NAN || b === DEFAULT_NAN, `${label}: ${b.toString(16)} is one of the NaNs multiplied`);
      };
      // x·W: x one row (a NaN at column 0, or at 1 after a finite term), W's matching row all NaN; 2x128 sums in registers, 784x128 in the output row.
      for (const [k, n] of [
        [2, 16],
        [2, 128],
        [784, 128],
      ] as const) {
        for (const [when, x] of [
          ['the first term', { 0: JS_NAN }],
          ['after a finite term', { 0: bitsOf(1), 1: JS_NAN }],
        ] as const) {
          const nanRow = Object.keys(x).length - 1;
          for (const product of ['x·W', 'x·W from SparseRows', 'x·W dense'] as const) {
            check(`${product} ${k}x${n}, ${when}`, nanCase(pair, product, 1, k, n, x, { [nanRow]: DEFAULT_NAN }, null));
          }
        }
      }
      // W += −0.01·xᵀ·dY: x [2x1] with a NaN, dY's matching row all NaN.
      for (const n of [16, 128, 144]) {
        for (const product of ['W += xᵀ·dY', 'W += xᵀ·dY from SparseRows', 'W += xᵀ·dY dense'] as const) {
          check(`${product}, ${n} columns`, nanCase(pair, product, 2, 1, n, { 0: JS_NAN, 1: bitsOf(1) }, { 0: DEFAULT_NAN }, null));
        }
      }
    });

    /**
     * A network of `config` trained on both backends: its numbers and weights each way (the same,
     * asserted), and the native calls; the rescaled products ran exactly where the wasm backend
     * scaled sums up (nowhere, in these networks: no subnormals).
     */
    const trainBothWays = async (products: NativeKernels, config: TrainConfig, what: string) => {
      const data = await loadMnist();
      const { withNative, wasmOnly, calls } = await backendPair(module, products);
      const runs = [];
      for (const kernels of [withNative, wasmOnly]) {
        const net = buildNetwork(kernels, config, config.batchNorm);
        const numbers = trainNumbers(await train(net, data, config));
        runs.push({ numbers, parameters: net.parameters().map(({ name, value }) => ({ name, bits: Array.from(float32Bits(value.data)) })) });
      }
      assert.ok(runs[0]!.numbers.validation.accuracy > 0.2, `${what}: the network learned (${runs[0]!.numbers.validation.accuracy})`);
      assert.deepStrictEqual(runs[0]!.numbers, runs[1]!.numbers, `${what}: the same numbers`);
      assert.deepStrictEqual(runs[0]!.parameters, runs[1]!.parameters, `${what}: the same weights`);
      assert.deepStrictEqual(withNative.subnormalRescales, wasmOnly.subnormalRescales, `${what}: the same rescalings on both backends`);
      assert.equal(wasmOnly.subnormalRescales.sumsScaled, 0, `${what}: no sums scaled up (no subnormals in both factors, nor in dY)`);
      assert.equal(calls.gemmAddRescaled + calls.matmulTransposeBRescaled, 0, `${what}: no rescaled product ran natively`);
      return { calls, zeroSkips: withNative.zeroSkips };
    };

    test('model 1 (ReLU, std 0.05, lr 0.01), with BN and without, trains to the same numbers and weights either way', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      for (const batchNorm of [true, false]) {
        const config = resolveTrainConfig({ initStd: 0.05, learningRate: 0.01, activation: 'relu', seed: 1, steps: 300, validateEvery: 100, batchNorm });
        const bn = batchNorm ? 'with BN' : 'without BN';
        const { calls, zeroSkips } = await trainBothWays(products, config, bn);
        // The hidden layers' x·W and xᵀ·dY where 'measure' finds ReLU's outputs dense, and the output layer's dY·Wᵀ (10 columns: W
        // transposed): gemm. The first layer reads the pixels' nonzeros in training and evaluation alike (SparseRows), so the sparse
        // products that find nonzeros in float rows run where a hidden layer's outputs are sparse enough for skipping to pay, at the
        // break-even of these vectors (zero-skipping.ts): each such product native.
        assert.equal(calls.matmulSparse, zeroSkips.forward, `${bn}: matmulSparse ran natively for every x·W that skipped zeros`);
        assert.equal(
          calls.matmulTransposeASparseAdd,
          zeroSkips.weightGradient,
          `${bn}: matmulTransposeASparseAdd ran natively for every xᵀ·dY that skipped zeros`,
        );
        for (const product of PLAIN_PRODUCTS) {
          if (product !== 'matmulSparse' && product !== 'matmulTransposeASparseAdd')
            assert.ok(calls[product] > 0, `${bn}: ${product} ran natively (${calls[product]} calls)`);
        }
      }
    });

    test('model 4 (sigmoid, std 0.05, lr 2) with BN trains to the same numbers and weights either way, through the dense products', async (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      const config = resolveTrainConfig({ initStd: 0.05, learningRate: 2, activation: 'sigmoid', seed: 1, steps: 200, validateEvery: 200, batchNorm: true });
      const { calls } = await trainBothWays(products, config, 'model 4');
      // A sigmoid's outputs are dense: the hidden and output layers' x·W and xᵀ·dY run gemm (native where 128 wide), their
      // dY·Wᵀ matmulTransposeB (the output layer's, 10 columns: W transposed, then gemm over 128); the first layer's products
      // read the pixels' nonzeros (SparseRows, in training and in evaluation).
      for (const product of PLAIN_PRODUCTS) {
        if (product !== 'matmulTransposeASparseAdd' && product !== 'matmulSparse')
          assert.ok(calls[product] > 0, `${product} ran natively (${calls[product]} calls)`);
      }
      assert.equal(calls.matmulTransposeASparseAdd + calls.matmulSparse, 0, "no sigmoid's zeros measured and skipped");
      assert.ok(calls.gemm >= 5 * config.steps, `gemm ran natively for five products a step: ${calls.gemm} calls`);
      assert.equal(calls.matmulTransposeB, 2 * config.steps, 'matmulTransposeB ran natively for the two hidden layers above the first, every step');
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const products = nativeOrSkip(t, PRODUCTS);
      if (!products) return;
      // 1 KiB of "memory": a [1x1] at 0, b [1x16] at 64, out [1x16] at 128, scratch at 256.
      const memory = new ArrayBuffer(1024);
      const floats = new Float32Array(memory);
      floats[0] = 2;
      for (let j = 0; j < 16; j++) floats[16 + j] = j + 1;
      products.matmulSparse(memory, 0, 64, 128, 1, 1, 16, 1, 256);
      assert.deepStrictEqual(
        Array.from(floats.subarray(32, 48)),
        Array.from({ length: 16 }, (_, j) => 2 * (j + 1)),
        'a right call computes',
      );
      // gemm: the same a, b and out (row strides 4, 64 and 64 bytes), out += 0.5·a·b.
      products.gemm(memory, 0, 4, 4, 64, 64, 128, 64, 1, 16, 1, 1, 0.5);
      assert.deepStrictEqual(
        Array.from(floats.subarray(32, 48)),
        Array.from({ length: 16 }, (_, j) => 3 * (j + 1)),
        'a right call of gemm computes',
      );
      const before = float32Bits(floats);
      const wrong: Array<[string, () => void]> = [
        ['a beyond the memory', () => products.matmulSparse(memory, 2048, 64, 128, 1, 1, 16, 1, 256)],
        ['out running past the end', () => products.matmulSparse(memory, 0, 64, 1000, 1, 1, 16, 1, 256)],
        ['a misaligned offset', () => products.matmulSparse(memory, 2, 64, 128, 1, 1, 16, 1, 256)],
        ['a negative offset', () => products.matmulSparse(memory, -4, 64, 128, 1, 1, 16, 1, 256)],
        ['out running past the end (n 10)', () => products.matmulSparse(memory, 0, 64, 1000, 1, 1, 10, 1, 256)],
        ['out running past the end (xᵀ·dY, n 10)', () => products.matmulTransposeASparseAdd(memory, 0, 64, 1000, 1, 1, 10, 1, 256)],
        ['a typed array for the memory', () => products.matmulSparse(floats as unknown as ArrayBuffer, 0, 64, 128, 1, 1, 16, 1, 256)],
        ['too few arguments', () => (products.matmulSparse as (...args: unknown[]) => void)(memory, 0, 64, 128, 1, 1, 16)],
        ['gemm: out running past the end (20 rows)', () => products.gemm(memory, 0, 4, 4, 64, 64, 128, 64, 20, 16, 1, 1, 0.5)],
        ['gemm: b beyond the end', () => products.gemm(memory, 0, 4, 4, 1000, 64, 128, 64, 1, 16, 1, 1, 0.5)],
        ["gemm: a's second step beyond the end", () => products.gemm(memory, 1020, 4, 4, 64, 64, 128, 64, 1, 16, 2, 1, 0.5)],
        ['gemm: fewer than 4 columns', () => products.gemm(memory, 0, 4, 4, 64, 64, 128, 64, 1, 3, 1, 1, 0.5)],
        ["gemm: a's row stride not a whole number of floats", () => products.gemm(memory, 0, 6, 4, 64, 64, 128, 64, 1, 16, 1, 1, 0.5)],
        ["gemm: out's row stride not a whole number of floats", () => products.gemm(memory, 0, 4, 4, 64, 64, 128, 66, 1, 16, 1, 1, 0.5)],
        ['gemm: a misaligned offset', () => products.gemm(memory, 0, 4, 4, 64, 64, 130, 64, 1, 16, 1, 1, 0.5)],
        ['gemm: too few arguments', () => (products.gemm as (...args: unknown[]) => void)(memory, 0, 4, 4, 64, 64, 128, 64, 1, 16, 1, 1)],
      ];
      for (const [what, call] of wrong) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(float32Bits(floats), before, `${what}: nothing written`);
      }
      // SparseRows at 512: rowStart [0, 1], one entry (index at 520, value at 524) whose index 5 is outside a factor of k = 1 row.
      const words = new Uint32Array(memory);
      words.set([0, 1, 5], 128);
      floats[131] = 1;
      assert.throws(() => products.matmulSparseRows(memory, 512, 520, 524, 1, 1, 64, 128, 16, 1), RangeError, "an entry's index outside its factor");
      words[130] = 0;
      assert.throws(() => products.matmulSparseRows(memory, 512, 520, 524, 1, 1, 64, 128, 100000, 1), RangeError, 'b and out far past the end');
      assert.deepStrictEqual(float32Bits(floats.subarray(0, 128)), before.subarray(0, 128), 'nothing written');

      // matmulTransposeB in 2 KiB: a [2x4] at 0, b [16x4] at 64, out [2x16] at 512, mask [2x16] at 640, scratch (16·4 floats) at 1024.
      const dots = new ArrayBuffer(2048);
      const dotFloats = new Float32Array(dots);
      dotFloats.set([1, 2, 3, 4, 0.5, 0, 0, -1]);
      for (let p = 0; p < 16; p++) dotFloats.set([p, 1, 0, 0.25], 16 + 4 * p);
      for (let i = 0; i < 2; i++) for (let p = 0; p < 16; p++) dotFloats[160 + 16 * i + p] = (i + p) % 2 === 0 ? 1 : -1;
      const dot = (i: number, p: number) => (i === 0 ? p + 3 : 0.5 * p - 0.25);
      products.matmulTransposeB(dots, 0, 64, 512, 2, 4, 16, 0, 1024);
      assert.deepStrictEqual(
        Array.from(dotFloats.subarray(128, 160)),
        Array.from({ length: 32 }, (_, e) => dot(e >> 4, e & 15)),
        'a right call of matmulTransposeB computes',
      );
      products.matmulTransposeB(dots, 0, 64, 512, 2, 4, 16, 640, 1024);
      assert.deepStrictEqual(
        float32Bits(dotFloats.subarray(128, 160)),
        float32Bits(Array.from({ length: 32 }, (_, e) => (((e >> 4) + (e & 15)) % 2 === 0 ? dot(e >> 4, e & 15) : 0))),
        'a right call of matmulTransposeB with a mask computes, +0 where the mask is not above 0',
      );
      const dotsBefore = float32Bits(dotFloats);
      const wrongDots: Array<[string, () => void]> = [
        ['matmulTransposeB: m odd', () => products.matmulTransposeB(dots, 0, 64, 512, 1, 4, 16, 0, 1024)],
        ['matmulTransposeB: k not a multiple of 16', () => products.matmulTransposeB(dots, 0, 64, 512, 2, 4, 8, 0, 1024)],
        ['matmulTransposeB: n not a multiple of 4', () => products.matmulTransposeB(dots, 0, 64, 512, 2, 6, 16, 0, 1024)],
        ['matmulTransposeB: out beyond the end', () => products.matmulTransposeB(dots, 0, 64, 2000, 2, 4, 16, 0, 1024)],
        ['matmulTransposeB: the mask beyond the end', () => products.matmulTransposeB(dots, 0, 64, 512, 2, 4, 16, 2000, 1024)],
        ['matmulTransposeB: scratch running past the end', () => products.matmulTransposeB(dots, 0, 64, 512, 2, 4, 16, 0, 1900)],
        ['matmulTransposeB: a misaligned offset', () => products.matmulTransposeB(dots, 2, 64, 512, 2, 4, 16, 0, 1024)],
        ['matmulTransposeB: too few arguments', () => (products.matmulTransposeB as (...args: unknown[]) => void)(dots, 0, 64, 512, 2, 4, 16, 0)],
      ];
      for (const [what, call] of wrongDots) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(float32Bits(dotFloats), dotsBefore, `${what}: nothing written`);
      }
    });
  }
});

/**
 * One product on both backends, from x [m×k] (zeros but for `x`: flat index → bits) and the other
 * factor (W [k×n] for x·W, dY [m×n] for xᵀ·dY; all 1 but for the rows in `other`: row → bits of
 * each of its entries); W += −0.01·xᵀ·dY starts from 0.5 or `startNaN`. x's zeros are skipped, or
 * multiplied (`dense`: gemm). The output bits of each, after checking that a native product ran.
 */
function nanCase(
  { withNative, wasmOnly, calls }: Pair,
  product: 'x·W' | 'x·W from SparseRows' | 'x·W dense' | 'W += xᵀ·dY' | 'W += xᵀ·dY from SparseRows' | 'W += xᵀ·dY dense',
  m: number,
  k: number,
  n: number,
  x: Record<number, number>,
  other: Record<number, number>,
  startNaN: number | null,
): [Uint32Array, Uint32Array] {
  const totalCalls = () => Object.values(calls).reduce((sum, count) => sum + count, 0);
  const before = totalCalls();
  const forward = product.startsWith('x·W');
  const fromBits = (rows: number, cols: number, fillBits: number, rowBits: Record<number, number> = {}) => {
    const bits = new Uint32Array(rows * cols).fill(fillBits);
    for (const [row, value] of Object.entries(rowBits)) bits.fill(value, Number(row) * cols, (Number(row) + 1) * cols);
    return new Float32Array(bits.buffer);
  };
  const outputs = [withNative, wasmOnly].map((kernels) => {
    const xBits = new Uint32Array(m * k);
    for (const [at, value] of Object.entries(x)) xBits[Number(at)] = value;
    const xs = placedMatrix(kernels, m, k, new Float32Array(xBits.buffer));
    const rows = kernels.sparseRows(m, k);
    kernels.packRows(xs, rows);
    const factor = placedMatrix(kernels, forward ? k : m, n, fromBits(forward ? k : m, n, bitsOf(1), other));
    const out = placedMatrix(kernels, forward ? m : k, n, fromBits(forward ? m : k, n, startNaN ?? bitsOf(0.5)));
    if (product === 'x·W' || product === 'x·W dense') kernels.matmul(xs, factor, out, product === 'x·W');
    else if (product === 'x·W from SparseRows') kernels.matmulSparseRows(rows, factor, out);
    else if (product === 'W += xᵀ·dY' || product === 'W += xᵀ·dY dense') kernels.matmulTransposeAAdd(xs, factor, out, product === 'W += xᵀ·dY', -0.01);
    else kernels.matmulTransposeAAddSparseRows(rows, factor, out, -0.01);
    return float32Bits(out.data);
  });
  assert.equal(totalCalls(), before + 1, `${product}: the native product ran`);
  return outputs as [Uint32Array, Uint32Array];
}
