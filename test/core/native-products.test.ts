/**
 * @file The native products (native/products.c: AVX-512 on the wasm memory) change no bit: two
 * backends from one compiled relaxed-SIMD module, one with the native products and one without,
 * run the four sparse products on the same inputs and must give the same float32 bits, signed
 * zeros included. x·W from SparseRows and from a dense x (zeros skipped, or measured), and
 * W += scale·xᵀ·dY both ways, over shapes that split the native vectors every way (16 to 256
 * columns: one vector, 128-column blocks and their tails; sums in registers or in the output row),
 * zero fractions from dense to all zeros, and values at the arithmetic's edges: ±0 (and −0 results
 * through every path, from rows of few terms), subnormals, sums that overflow, ±∞, NaN. Where two
 * NaNs of other bits meet: W's NaN against an update's stays W's, as in the wasm kernels; a NaN x
 * times a NaN W is NaN, one of the two (which one, the wasm kernels leave to V8's tier). Then
 * model 1, with BN and without, trains to the same numbers and weights either way. A wrong call
 * throws a RangeError.
 *
 * Not vacuous: the native products are wrapped to count their calls, and every case checks that
 * its product reached them (or, where the backend rightly keeps the wasm kernel, that both
 * backends took that path for the same reason); the sweeps check that −0, subnormals, ±∞ and NaN
 * reached the outputs. Where the native products cannot run here (not built, no AVX-512F,
 * BNLAB_NATIVE=off) the tests are skipped, saying why; built and yet not loaded fails.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, type TestContext, test } from 'node:test';
import type { SparseRows, ZeroSkipping } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import type { NativeProducts } from '../../src/core/wasm/native-products.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { nativeAbsence, nativeProducts } from '../../src/node/native-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { placedMatrix, wasmBuildsHere } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';
import { trainNumbers } from '../helpers/train-numbers.js';

const PRODUCTS = ['matmulSparseRows', 'matmulTransposeASparseRowsAdd', 'matmulSparse', 'matmulTransposeASparseAdd'] as const;
type Product = (typeof PRODUCTS)[number];

/** The native products with the four sparse ones counting their calls (anything else passed on as it is). */
function counting(products: NativeProducts): { native: NativeProducts; calls: Record<Product, number> } {
  const calls = { matmulSparseRows: 0, matmulTransposeASparseRowsAdd: 0, matmulSparse: 0, matmulTransposeASparseAdd: 0 };
  const native: NativeProducts = {
    ...products,
    matmulSparseRows: (...args) => {
      calls.matmulSparseRows++;
      products.matmulSparseRows(...args);
    },
    matmulTransposeASparseRowsAdd: (...args) => {
      calls.matmulTransposeASparseRowsAdd++;
      products.matmulTransposeASparseRowsAdd(...args);
    },
    matmulSparse: (...args) => {
      calls.matmulSparse++;
      products.matmulSparse(...args);
    },
    matmulTransposeASparseAdd: (...args) => {
      calls.matmulTransposeASparseAdd++;
      products.matmulTransposeASparseAdd(...args);
    },
  };
  return { native, calls };
}

/** build/bnlab-native.json (scripts/build-native.mjs), or null when the build never ran. */
function buildStatus(): { built: boolean; reason: string } | null {
  try {
    return JSON.parse(readFileSync(new URL('../../../build/bnlab-native.json', import.meta.url), 'utf8'));
  } catch {
    return null;
  }
}

/** The native products, or null with the test skipped where they cannot run here; fails where they were built and yet are not loaded. */
function nativeOrSkip(t: TestContext): NativeProducts | null {
  const products = nativeProducts();
  if (products) return products;
  const absence = nativeAbsence() ?? 'no reason given';
  const status = buildStatus();
  if (/BNLAB_NATIVE=off|AVX-512F/.test(absence) || status?.built === false) {
    t.skip(`native products not in use: ${status?.built === false ? `not built (${status.reason})` : absence}`);
    return null;
  }
  assert.fail(
    `native products not in use although ${status ? 'build/bnlab-native.json says they were built' : 'the build never ran (npm run build)'}: ${absence}`,
  );
}

/** A native backend and a wasm-only one from the same compiled module, and the native calls. */
async function backendPair(module: WebAssembly.Module, products: NativeProducts) {
  const { native, calls } = counting(products);
  const withNative = await WasmKernels.create(module, 'relaxed-simd', { native });
  const wasmOnly = await WasmKernels.create(module, 'relaxed-simd', { native: null });
  assert.equal(withNative.fusedMultiplyAdd, true, 'relaxed SIMD on a CPU with AVX-512F (and so FMA) fuses its multiply-adds');
  assert.notEqual(withNative.native, null, 'the backend given the native products uses them');
  assert.match(withNative.variant, / \+ native avx512f$/);
  assert.equal(wasmOnly.native, null);
  return { withNative, wasmOnly, calls };
}

type Pair = Awaited<ReturnType<typeof backendPair>>;

/** Float32 bits of a number, so that values (NaN payloads too) go into memory as given. */
const one = new Float32Array(1);
const oneBits = new Uint32Array(one.buffer);
function bitsOf(x: number): number {
  one[0] = x;
  return oneBits[0]!;
}

/** x86's default NaN, the one its arithmetic makes (0·∞, ∞ − ∞): the sweep's only NaN, so that NaNs meeting there give one answer. */
const DEFAULT_NAN = 0xffc00000;
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
  /** A nonzero of the sparse factor x. */
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

const ROWS = [1, 2, 7, 60, 61];
const INNER = [1, 5, 128, 784];
const COLUMNS = [16, 32, 128, 144, 256];
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

/** The counters that say which path a product took: x's zeros measured as worth skipping (x·W, xᵀ·dY), factors rescaled (one, or dY alone with its sums). */
function pathCounters(kernels: WasmKernels): number[] {
  return [kernels.zeroSkips.forward, kernels.zeroSkips.weightGradient, kernels.subnormalRescales.oneFactor, kernels.subnormalRescales.sumsScaled];
}

/** How often −0, subnormals, ±∞ and NaN came out of the native products. */
function tally(counts: Record<'negativeZero' | 'subnormal' | 'infinite' | 'nan', number>, bits: Uint32Array): void {
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!,
      magnitude = b & 0x7fffffff;
    if (b === 0x80000000) counts.negativeZero++;
    else if (magnitude !== 0 && magnitude < 0x00800000) counts.subnormal++;
    else if (magnitude === 0x7f800000) counts.infinite++;
    else if (magnitude > 0x7f800000) counts.nan++;
  }
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
 * factors rescaled), and the native product called wherever that path leads to it.
 */
function compareProducts(
  { withNative, wasmOnly, calls }: Pair,
  [own, other]: [Side, Side],
  inputs: { x: Uint32Array; b: Uint32Array; dy: Uint32Array; start: Uint32Array },
  aZeros: ZeroSkipping,
  label: string,
  seen: Record<'negativeZero' | 'subnormal' | 'infinite' | 'nan', number>,
): void {
  for (const side of [own, other]) {
    side.a.data.set(floats(inputs.x));
    side.b.data.set(floats(inputs.b));
    side.dy.data.set(floats(inputs.dy));
    side.kernels.packRows(side.a, side.rows);
  }
  const check = (what: string, product: Product, output: 'product' | 'update', run: (side: Side) => void, reachesNative: (moved: number[]) => boolean) => {
    const before = [pathCounters(withNative), pathCounters(wasmOnly)],
      nativeCalls = calls[product];
    run(own);
    run(other);
    const nativeBits = float32Bits(own[output].data);
    assert.deepStrictEqual(nativeBits, float32Bits(other[output].data), `${what}, ${label}: the same bits`);
    const [moved, movedWasm] = [withNative, wasmOnly].map((kernels, i) => pathCounters(kernels).map((count, j) => count - before[i]![j]!));
    assert.deepStrictEqual(moved, movedWasm, `${what}, ${label}: the same path on both backends`);
    assert.equal(calls[product] - nativeCalls, reachesNative(moved!) ? 1 : 0, `${what}, ${label}: ${product} ran where the backend routes it`);
    tally(seen, nativeBits);
  };
  const always = () => true;
  // 'measure' skips x's zeros (the sparse product, native) only where they are most of x and W or dY is finite.
  const forwardSkipped = (moved: number[]) => moved[0] === 1;
  const gradientSkipped = (moved: number[]) => moved[1] === 1;
  // xᵀ·dY from SparseRows stays in wasm where it rescales a subnormal dY alone (its sums scaled: the last counter).
  const dyAsItIs = (moved: number[]) => moved[3] === 0;

  check('x·W from SparseRows', 'matmulSparseRows', 'product', (s) => s.kernels.matmulSparseRows(s.rows, s.b, s.product), always);
  check('x·W', 'matmulSparse', 'product', (s) => s.kernels.matmul(s.a, s.b, s.product, aZeros), aZeros === true ? always : forwardSkipped);
  for (const scale of [-0.01, 1]) {
    const fromRows = (s: Side) => {
      s.update.data.set(floats(inputs.start));
      s.kernels.matmulTransposeAAddSparseRows(s.rows, s.dy, s.update, scale);
    };
    const fromMatrix = (s: Side) => {
      s.update.data.set(floats(inputs.start));
      s.kernels.matmulTransposeAAdd(s.a, s.dy, s.update, aZeros, scale);
    };
    check(`W += ${scale}·xᵀ·dY from SparseRows`, 'matmulTransposeASparseRowsAdd', 'update', fromRows, dyAsItIs);
    check(`W += ${scale}·xᵀ·dY`, 'matmulTransposeASparseAdd', 'update', fromMatrix, aZeros === true ? always : gradientSkipped);
  }
}

describe('native products: the bits of the relaxed-SIMD kernels they stand for', async () => {
  const builds = wasmBuildsHere().filter(({ variant }) => variant === 'relaxed-simd');

  test('a relaxed-SIMD build is here to compare with', () => {
    assert.equal(builds.length, 1, 'build/bnlab-kernels.relaxed-simd.wasm is missing or does not validate: run npm run build');
  });

  for (const { bytes } of builds) {
    const module = await compileKernelModule(bytes);

    test('the four sparse products over shapes, zero fractions and edge values', async (t) => {
      const products = nativeOrSkip(t);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(71);
      const pools = FLAVOURS.map((flavour) => drawPools(flavour, rng));
      const seen = { negativeZero: 0, subnormal: 0, infinite: 0, nan: 0 };
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
      for (const product of PRODUCTS) assert.ok(calls[product] >= 100, `${product} ran natively in most cases: ${calls[product]}`);
      for (const [what, count] of Object.entries(seen)) assert.ok(count > 100, `${what} reached the outputs: ${count}`);
    });

    test('signed zeros through every path: rows of 0 to 3 terms against W and dY mostly ±0', async (t) => {
      const products = nativeOrSkip(t);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(72);
      const seen = { negativeZero: 0, subnormal: 0, infinite: 0, nan: 0 };
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

    test("a NaN already in W and a NaN update of other bits: W's NaN stays, as the wasm kernels' out + scale·sum keeps it", async (t) => {
      const products = nativeOrSkip(t);
      if (!products) return;
      const pair = await backendPair(module, products);
      // W all x86's default NaN (a diverged network's weights); the update NaN from a JavaScript NaN in dY.
      // The wasm kernels' f32x4.add(out, scale·sum) keeps its first operand's NaN, in V8's baseline and optimized code alike.
      const differences = [];
      for (const n of [16, 128, 144]) {
        for (const product of ['W += xᵀ·dY', 'W += xᵀ·dY from SparseRows'] as const) {
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
      const products = nativeOrSkip(t);
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
          for (const product of ['x·W', 'x·W from SparseRows'] as const) {
            check(`${product} ${k}x${n}, ${when}`, nanCase(pair, product, 1, k, n, x, { [nanRow]: DEFAULT_NAN }, null));
          }
        }
      }
      // W += −0.01·xᵀ·dY: x [2x1] with a NaN, dY's matching row all NaN.
      for (const n of [16, 128, 144]) {
        for (const product of ['W += xᵀ·dY', 'W += xᵀ·dY from SparseRows'] as const) {
          check(`${product}, ${n} columns`, nanCase(pair, product, 2, 1, n, { 0: JS_NAN, 1: bitsOf(1) }, { 0: DEFAULT_NAN }, null));
        }
      }
    });

    test('model 1 (ReLU, std 0.05, lr 0.01), with BN and without, trains to the same numbers and weights either way', async (t) => {
      const products = nativeOrSkip(t);
      if (!products) return;
      const data = await loadMnist();
      for (const batchNorm of [true, false]) {
        const config = resolveTrainConfig({ initStd: 0.05, learningRate: 0.01, activation: 'relu', seed: 1, steps: 300, validateEvery: 100, batchNorm });
        const { withNative, wasmOnly, calls } = await backendPair(module, products);
        const runs = [];
        for (const kernels of [withNative, wasmOnly]) {
          const net = buildNetwork(kernels, config, batchNorm);
          const numbers = trainNumbers(await train(net, data, config));
          runs.push({ numbers, parameters: net.parameters().map(({ name, value }) => ({ name, bits: Array.from(float32Bits(value.data)) })) });
        }
        const bn = batchNorm ? 'with BN' : 'without BN';
        for (const product of PRODUCTS) assert.ok(calls[product] > 0, `${bn}: ${product} ran natively (${calls[product]} calls)`);
        assert.ok(runs[0]!.numbers.validation.accuracy > 0.2, `${bn}: the network learned (${runs[0]!.numbers.validation.accuracy})`);
        assert.deepStrictEqual(runs[0]!.numbers, runs[1]!.numbers, `${bn}: the same numbers`);
        assert.deepStrictEqual(runs[0]!.parameters, runs[1]!.parameters, `${bn}: the same weights`);
      }
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const products = nativeOrSkip(t);
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
      const before = float32Bits(floats);
      const wrong: Array<[string, () => void]> = [
        ['a beyond the memory', () => products.matmulSparse(memory, 2048, 64, 128, 1, 1, 16, 1, 256)],
        ['out running past the end', () => products.matmulSparse(memory, 0, 64, 1000, 1, 1, 16, 1, 256)],
        ['a misaligned offset', () => products.matmulSparse(memory, 2, 64, 128, 1, 1, 16, 1, 256)],
        ['a negative offset', () => products.matmulSparse(memory, -4, 64, 128, 1, 1, 16, 1, 256)],
        ['n not a multiple of 16', () => products.matmulSparse(memory, 0, 64, 128, 1, 1, 10, 1, 256)],
        ['n not a multiple of 16 (xᵀ·dY)', () => products.matmulTransposeASparseAdd(memory, 0, 64, 128, 1, 1, 24, 1, 256)],
        ['a typed array for the memory', () => products.matmulSparse(floats as unknown as ArrayBuffer, 0, 64, 128, 1, 1, 16, 1, 256)],
        ['too few arguments', () => (products.matmulSparse as (...args: unknown[]) => void)(memory, 0, 64, 128, 1, 1, 16)],
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
    });
  }
});

/**
 * One product on both backends, from x [m×k] (zeros but for `x`: flat index → bits) and the other
 * factor (W [k×n] for x·W, dY [m×n] for xᵀ·dY; all 1 but for the rows in `other`: row → bits of
 * each of its entries); W += −0.01·xᵀ·dY starts from 0.5 or `startNaN`. The output bits of each,
 * after checking that the native product ran.
 */
function nanCase(
  { withNative, wasmOnly, calls }: Pair,
  product: 'x·W' | 'x·W from SparseRows' | 'W += xᵀ·dY' | 'W += xᵀ·dY from SparseRows',
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
    if (product === 'x·W') kernels.matmul(xs, factor, out, true);
    else if (product === 'x·W from SparseRows') kernels.matmulSparseRows(rows, factor, out);
    else if (product === 'W += xᵀ·dY') kernels.matmulTransposeAAdd(xs, factor, out, true, -0.01);
    else kernels.matmulTransposeAAddSparseRows(rows, factor, out, -0.01);
    return float32Bits(out.data);
  });
  assert.equal(totalCalls(), before + 1, `${product}: the native product ran`);
  return outputs as [Uint32Array, Uint32Array];
}
