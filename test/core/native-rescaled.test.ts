/**
 * @file The native rescaled products (native/rescaled-products.c: AVX-512, or AVX2 where the CPU has no AVX-512F, on the wasm memory)
 * change no bit: two backends from one compiled relaxed-SIMD module, one with the native code and
 * one without, run the products whose factors hold subnormals (a saturated sigmoid's outputs and
 * gradients: models 6 and 8 without BN) and must give the same float32 bits, read as integers,
 * and give the factors back bit for bit (scaled up and back, natively where the backend has it).
 * The three products that scale their sums up with their subnormal operands, through the
 * backend's public methods: W += scale·xᵀ·dY with subnormals in both factors (both scaled up:
 * gemmAddRescaled, on the whole W or on the block of its rows and columns whose update may change
 * it, with skipNegligibleUpdates on and off), dY·Wᵀ with a subnormal dY (dY alone scaled up:
 * matmulTransposeBRescaled, plain and masked by a ReLU's output) and the first layer's W +=
 * scale·xᵀ·dY from SparseRows with a subnormal dY (dY alone: matmulTransposeASparseRowsAdd given
 * unscaleB = 2^−24). Shapes: batches of 60 and of 2, 5, 6 and 7 rows; 784 (the first layer), 130,
 * 128, 100, 37, 16 and 10 units; widths that are no multiple of 4 (6, 7, 10: gemmAddRescaled's
 * last tile overlaps the one before it and adds +0 there, so a −0 weight becomes +0) or of 16 (20,
 * 40, 100: part of a vector); shapes the native code does not take (dY·Wᵀ with k = 100), and
 * shapes that rescale one factor up and the other down instead (dY·Wᵀ with k = 10 or m odd, the
 * sparse xᵀ·dY 10 wide), where both backends must run the same wasm kernels. Values: m·2^e with m
 * from 1 to 7 and e from −149 to −100 among ordinary values and zeros, weights of ±0; sums among
 * the subnormals and ties; sums cancelled to below 2^−126 from above (the kernels' 'cancelled'
 * step, which steps on the values scaled back); 1e30 and its kin, whose sums overflow scaled up
 * but not as they are (the 'overflowed' redo: the sum again from the factors scaled back, on whole
 * products and gathered blocks; or dY·Wᵀ done as it is). Sums set up by hand pin those paths down
 * (−2^−147, 2^−146, 2^90, 2^109, 2^120, 2^−149, −0 kept and made +0, NaN and ∞ weights against
 * infinite updates). Then models 6 and 8 without BN train to the same loss at every step and the
 * same weights either way, and a wrong call throws a RangeError and writes nothing.
 *
 * Not vacuous: the native products are wrapped to count their calls, and every case checks that
 * both backends took the same path (the backend's counters: factors rescaled one way or the
 * other, updates left out as negligible, the wasm masked kernel), which path that is, and that
 * exactly the native products the backend routes it to ran, matmulTransposeASparseRowsAdd with
 * unscaleB 2^−24 and matmulTransposeBRescaled saying "overflowed" exactly where the wasm kernel
 * did; the sweeps check that each path was taken (gathered blocks and whole products, overflows,
 * −0 and subnormal outputs). Each of these, broken on purpose in the C, fails it: the +0 on the
 * overlapped columns, the unscaled rounding of tiny sums or its sign, the cancelled step, either
 * overflow redo, the overflow flag, the lane fold's order, the order of the scalings, the masks of
 * the last vector, and the checks of a call. Where the native code cannot run here (not built,
 * neither AVX-512F nor AVX2, BNLAB_NATIVE=off) the tests are skipped, saying why; built and yet not loaded fails.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SparseRows } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import type { NativeKernels } from '../../src/core/wasm/native-products.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { TrainingRun } from '../../src/train/trainer.js';
import { DEFAULT_NAN, float32Bits, nothingSeen, type Seen, tally } from '../helpers/float-bits.js';
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
import { handSetSums } from '../helpers/rescaled-sums.js';

/** Every native product a dense or sparse product may be routed to, so that a case can say "this one, and no other". */
const PRODUCTS = [
  'gemmAddRescaled',
  'matmulTransposeBRescaled',
  'matmulTransposeASparseRowsAdd',
  'matmulTransposeB',
  'gemm',
  'matmulSparseRows',
  'matmulSparse',
  'matmulTransposeASparseAdd',
] as const;
type Product = (typeof PRODUCTS)[number];
type Calls = NativeCalls<Product>;
const RESCALED = ['gemmAddRescaled', 'matmulTransposeBRescaled', 'matmulTransposeASparseRowsAdd'] as const;

/** JavaScript's NaN as a float32 (a weight's NaN here), where x86's arithmetic makes 0xffc00000. */
const JS_NAN = 0x7fc00000;

/** matmulTransposeASparseRowsAdd's 12th argument: 2^−24 for dY given as dY·2^24 (RESCALINGS.bAlone in wasm-kernels.ts), 1 for dY as it is. */
const UNSCALE_B_ARGUMENT = 11;
const UNSCALE = 2 ** -24;
/** Below this many columns dY·Wᵀ is W transposed and gemm (wasm-kernels.ts' SHORT_DOT_PRODUCT). */
const SHORT_DOT_PRODUCT = 16;

const backendPair = (module: WebAssembly.Module, products: NativeKernels) => nativeBackendPair(module, products, PRODUCTS);
const assertCalls = (calls: Calls, before: Calls, expected: Partial<Calls>, message: string) => assertProductCalls(PRODUCTS, calls, before, expected, message);
type Pair = Awaited<ReturnType<typeof backendPair>>;

const signed = (rng: Rng, x: number) => (rng.uniform() < 0.5 ? -x : x);
/** ±(1 to 2)·2^e, e from −6 to 5. */
const ordinary = (rng: Rng) => signed(rng, (1 + rng.uniform()) * 2 ** (rng.int(12) - 6));
/** ±m·2^e, m from 1 to 7 and e from `lowest` to `highest`: products land on halves of the subnormals' spacing (ties). */
const awkward = (rng: Rng, lowest: number, highest: number) => signed(rng, (1 + rng.int(7)) * 2 ** (lowest + rng.int(highest - lowest + 1)));
/** A saturated network's tiny values: m·2^e with e from −149 (subnormal) to −100 (normal, its sums subnormal). */
const tiny = (rng: Rng) => awkward(rng, -149, -100);
/** A std-10 network's weights: ±(1 to 2)·2^e, e from −4 to 4. */
const weight = (rng: Rng) => signed(rng, (1 + rng.uniform()) * 2 ** (rng.int(9) - 4));
/** 1e30 to 2e30 (below 2^104, so still scaled up by 2^24): a sum of it times an ordinary value overflows scaled up, not as it is. */
const huge = (rng: Rng) => signed(rng, 1e30 * (1 + rng.uniform()));
/** Terms that cancel to below 2^−126 from above: ±2^−102 times 1, 1 + 2^−23 or 1 + 2^−22 + 2^−23, against 1, 1 + 2^−23 or 1 + 2^−22. */
const CANCELLING_SMALL = [1, 1 + 2 ** -23, 1 + 2 ** -22 + 2 ** -23].map((v) => v * 2 ** -102);
const CANCELLING_ONES = [1, 1 + 2 ** -23, 1 + 2 ** -22];
const pick = (rng: Rng, values: readonly number[]) => values[rng.int(values.length)]!;

/**
 * What the factors hold. `activation`: x of xᵀ·dY at unit p (a sigmoid's outputs, subnormals among
 * them; where the flavour says so a third of the units saturated at 0 throughout, so that their
 * rows of W may be left out); `pixel`: x from SparseRows (the first layer's input: no subnormal);
 * `gradient`: dY at column j of n (column j about 2^−(60j/n) in size where the flavour says so:
 * updates from far above half a weight's spacing to far below, so that columns are left out);
 * `weight`: W of dY·Wᵀ; `start`: the W that xᵀ·dY is added to, at row p (unit p of x) and column
 * j of n (±0 among it: a weight of 0 is never left out, so where the flavour leaves blocks out
 * only where the update counts anyway: the first quarter of the columns, units not saturated).
 */
interface Flavour {
  name: string;
  activation(rng: Rng, p: number): number;
  pixel(rng: Rng): number;
  gradient(rng: Rng, j: number, n: number): number;
  weight(rng: Rng): number;
  start(rng: Rng, p: number, j: number, n: number): number;
}

const withZeros = (rng: Rng, zeros: number, value: () => number) => (rng.uniform() < zeros ? signed(rng, 0) : value());
/** A sigmoid's output at unit p: 0, 1, in between or tiny; units p ≡ 0 mod 3 saturated at 0 (0 or tiny). */
const sigmoidOutput = (rng: Rng, p: number) => {
  const u = rng.uniform();
  if (p % 3 === 0) return u < 0.5 ? 0 : Math.abs(tiny(rng));
  return u < 0.35 ? 0 : u < 0.55 ? 1 : u < 0.7 ? rng.uniform() : Math.abs(tiny(rng));
};
const mnistPixel = (rng: Rng) => (rng.uniform() < 0.8 ? 0 : (1 + rng.int(255)) / 255);
const columnGradient = (rng: Rng, j: number, n: number) => signed(rng, rng.uniform() * 2 ** -Math.floor((j * 60) / n));
/** A weight, or ±0 (mostly −0) in the first quarter of the columns of the rows of units not saturated. */
const weightOrZero = (rng: Rng, p: number, j: number, n: number) => {
  const u = rng.uniform();
  return 4 * j >= n || p % 3 === 0 ? weight(rng) : u < 0.3 ? -0 : u < 0.4 ? 0 : weight(rng);
};

const FLAVOURS: Flavour[] = [
  {
    name: 'a saturated sigmoid network',
    activation: sigmoidOutput,
    pixel: mnistPixel,
    gradient: (rng, j, n) => withZeros(rng, 0.1, () => (rng.uniform() < 0.25 ? tiny(rng) : columnGradient(rng, j, n))),
    weight,
    start: weightOrZero,
  },
  {
    // Every factor of one side tiny: the sums spend their steps among the subnormals (rounded to the unscaled grid), tie, and land on ±0.
    name: 'sums among the subnormals',
    activation: (rng) => withZeros(rng, 0.1, () => (rng.uniform() < 0.5 ? tiny(rng) : awkward(rng, -30, 0))),
    pixel: (rng) => withZeros(rng, 0.5, () => awkward(rng, -12, -2)),
    gradient: (rng) => withZeros(rng, 0.1, () => awkward(rng, -149, -120)),
    weight: (rng) => withZeros(rng, 0.1, () => awkward(rng, -12, -2)),
    start: (rng) => withZeros(rng, 0.3, () => awkward(rng, -149, -120)),
  },
  {
    // 1e30 in the factors, against ordinary values: scaled sums that overflow (redone as they are), and a few that overflow as they
    // are. In dY's first quarter of columns only (a 1e30 in x would keep every column's update): overflows in gathered blocks too.
    name: 'sums that overflow scaled up',
    activation: sigmoidOutput,
    pixel: (rng) => (rng.uniform() < 0.02 ? huge(rng) : mnistPixel(rng)),
    gradient: (rng, j, n) => {
      const u = rng.uniform();
      if (4 * j < n && u < 0.1) {
        // Or ±(100 to 1000): against a 1e30 pixel, a sum that overflows scaled up by 2^24 and not as it is.
        return u < 0.05 ? huge(rng) : signed(rng, 100 * (1 + 9 * rng.uniform()));
      }
      return u < 0.25 ? tiny(rng) : withZeros(rng, 0.1, () => columnGradient(rng, j, n));
    },
    weight: (rng) => (rng.uniform() < 0.03 ? huge(rng) : weight(rng)),
    start: weightOrZero,
  },
  {
    // Terms of ±2^−102 that nearly cancel: sums that fall from above 2^−126 to below (the 'cancelled' step), or to ±0.
    name: 'sums that cancel',
    activation: (rng) => (rng.uniform() < 0.5 ? 0 : rng.uniform() < 0.1 ? Math.abs(tiny(rng)) : pick(rng, CANCELLING_ONES)),
    pixel: (rng) => (rng.uniform() < 0.5 ? 0 : pick(rng, CANCELLING_ONES)),
    gradient: (rng) => withZeros(rng, 0.4, () => (rng.uniform() < 0.1 ? tiny(rng) : signed(rng, pick(rng, CANCELLING_SMALL)))),
    weight: (rng) => withZeros(rng, 0.3, () => signed(rng, pick(rng, CANCELLING_ONES))),
    start: (rng) => withZeros(rng, 0.5, () => awkward(rng, -149, -140)),
  },
];

/** `length` values of `value`, with a subnormal at one random place when `subnormal` is given (so that the factor is rescaled for sure). */
function drawn(rng: Rng, length: number, value: (i: number) => number, subnormal?: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = value(i);
  if (subnormal !== undefined) out[rng.int(length)] = subnormal;
  return out;
}

/** A matrix's float32 bits as they lie in memory (never read as numbers, which could change a NaN's payload). */
const bits = (matrix: Matrix) => new Uint32Array(matrix.data.buffer, matrix.data.byteOffset, matrix.size).slice();

/**
 * How many of `values` are finite and at least `limit` in magnitude: updates of W whose sum
 * overflowed scaled up (and was summed again as it is), for limit |scale|·2^(129 − E) with the
 * sums scaled by 2^E (|W| before is at most 2^5, far below).
 */
function countAbove(values: ArrayLike<number>, limit: number): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!) && Math.abs(values[i]!) >= limit) count++;
  return count;
}

/** One backend's matrices: the factors (given back bit for bit), the output, and for the sparse xᵀ·dY x's nonzeros. */
interface Side {
  kernels: WasmKernels;
  factors: Matrix[];
  out: Matrix;
  rows: SparseRows | null;
  mask: Matrix | null;
}

/** Where a product's path leads: the native calls, and how often each backend ran the wasm masked dY·Wᵀ (native's, wasm's; default: both the wasm backend's count). */
interface Route {
  calls: Partial<Calls>;
  masked?: [number, number];
}

/**
 * One product on both backends from the same inputs (`fill` puts them in place; `run` multiplies
 * into side.out): the same output bits, the factors given back bit for bit, the same path on both
 * (every counter but the wasm masked dY·Wᵀ's, which the native matmulTransposeB stands in for),
 * and `route` (given the wasm backend's moves) says which native products ran. Returns the wasm
 * backend's moves.
 */
function compare(
  { withNative, wasmOnly, calls }: Pair,
  label: string,
  sides: [Side, Side],
  fill: (side: Side) => void,
  run: (side: Side) => void,
  route: (moved: Moves) => Route,
  seen: Seen,
): Moves {
  const before = [movesOf(withNative), movesOf(wasmOnly)] as const,
    callsBefore = { ...calls };
  const outputs: Uint32Array[] = [];
  const factorsBefore: Uint32Array[][] = [];
  const factorsAfter: Uint32Array[][] = [];
  for (const side of sides) {
    fill(side);
    factorsBefore.push(side.factors.map(bits));
    run(side);
    outputs.push(bits(side.out));
    factorsAfter.push(side.factors.map(bits));
  }
  assert.deepStrictEqual(outputs[0], outputs[1], `${label}: the same bits`);
  const moved = movedSince(withNative, before[0]),
    movedWasm = movedSince(wasmOnly, before[1]);
  const routed = route(movedWasm);
  const masked = routed.masked ?? [movedWasm.maskedInputGradient, movedWasm.maskedInputGradient];
  assert.deepStrictEqual(moved, { ...movedWasm, maskedInputGradient: masked[0] }, `${label}: the same path on both backends`);
  assert.equal(movedWasm.maskedInputGradient, masked[1], `${label}: the wasm masked dY·Wᵀ ran where the backend routes it`);
  assertCalls(calls, callsBefore, routed.calls, `${label}: the native products the backend routes it to ran, and no other`);
  for (let s = 0; s < 2; s++) assert.deepStrictEqual(factorsAfter[s], factorsBefore[s], `${label}: the factors given back bit for bit (backend ${s})`);
  tally(seen, outputs[0]!);
  return movedWasm;
}

/** x [m×k] and dY [m×n], and the W [k×n] that xᵀ·dY is added to, on each backend (x also as SparseRows with `sparse`). */
function updateSides({ withNative, wasmOnly }: Pair, m: number, k: number, n: number, sparse: boolean): [Side, Side] {
  return [withNative, wasmOnly].map((kernels) => ({
    kernels,
    factors: [kernels.matrix(m, k), kernels.matrix(m, n)],
    out: kernels.matrix(k, n),
    rows: sparse ? kernels.sparseRows(m, k) : null,
    mask: null,
  })) as [Side, Side];
}

/** W += scale·xᵀ·dY on both backends from x, dY and W's start, with skipNegligibleUpdates `skip` (x dense, or from SparseRows where the sides have them). */
function compareUpdate(
  pair: Pair,
  label: string,
  sides: [Side, Side],
  inputs: { x: Float32Array; dy: Float32Array; start: Float32Array },
  scale: number,
  skip: boolean,
  route: (moved: Moves) => Route,
  seen: Seen,
): Moves {
  const fill = (side: Side) => {
    const [x, dy] = side.factors as [Matrix, Matrix];
    x.data.set(inputs.x);
    dy.data.set(inputs.dy);
    side.out.data.set(inputs.start);
    if (side.rows) side.kernels.packRows(x, side.rows);
    side.kernels.skipNegligibleUpdates = skip;
  };
  const run = (side: Side) => {
    const [x, dy] = side.factors as [Matrix, Matrix];
    if (side.rows) side.kernels.matmulTransposeAAddSparseRows(side.rows, dy, side.out, scale);
    else side.kernels.matmulTransposeAAdd(x, dy, side.out, false, scale);
  };
  return compare(pair, label, sides, fill, run, route, seen);
}

/** Both backends back to the backend's default (updates left out where negligible). */
function restoreDefaults({ withNative, wasmOnly }: Pair): void {
  withNative.skipNegligibleUpdates = true;
  wasmOnly.skipNegligibleUpdates = true;
}

/**
 * W += scale·xᵀ·dY, x [m×k] dense: batches of 60 and of 2, 5, 6 and 7; 784, 128, 100, 37, 16 and
 * 10 units; 6, 7 and 10 columns (tiles that overlap), 20 and 40 (16 and 4, 32 and 8).
 */
const UPDATE_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [60, 128, 128],
  [60, 784, 128],
  [60, 128, 10],
  [60, 100, 16],
  [60, 10, 100],
  [6, 16, 6],
  [6, 16, 20],
  [5, 37, 40],
  [2, 128, 7],
  [7, 130, 10],
];
/** The same from SparseRows (the first layer: 784 pixels); 10 columns is no multiple of 4: dY rescaled one way and x the other, the wasm kernel. */
const SPARSE_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [60, 784, 128],
  [60, 100, 16],
  [60, 10, 100],
  [2, 16, 20],
  [6, 128, 12],
  [7, 16, 4],
  [60, 784, 10],
];
/** dY [m×n]·(W [k×n])ᵀ: dY alone scaled up where m is even, n ≥ 16 and n and k multiples of 4; native where k is a multiple of 16. */
const DOT_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [60, 128, 128],
  [60, 128, 784],
  [60, 784, 128],
  [60, 100, 16],
  [2, 16, 16],
  [6, 16, 32],
  [60, 128, 100], // k not a multiple of 16: the wasm rescaled kernel on both
  [60, 16, 10], // k not a multiple of 4: dY up, W down (one factor), the wasm kernel
  [7, 16, 16], // m odd: the same
];
const SCALES = [-0.01, -2];

describe('native rescaled products: the bits of the relaxed-SIMD kernels they stand for', async () => {
  for (const module of await relaxedSimdModules()) {
    test('W += scale·xᵀ·dY with subnormals in both factors: gemmAddRescaled on the whole W and on the block that may change', async (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(81);
      const seen = nothingSeen();
      const paths = { gathered: 0, whole: 0, allNegligible: 0, overflowed: 0 };
      for (const [m, k, n] of UPDATE_SHAPES) {
        const sides = updateSides(pair, m, k, n, false);
        for (const [f, flavour] of FLAVOURS.entries()) {
          const inputs = {
            x: drawn(rng, m * k, (i) => flavour.activation(rng, i % k), 2 ** -140),
            dy: drawn(rng, m * n, (i) => flavour.gradient(rng, i % n, n), -3 * 2 ** -149),
            start: drawn(rng, k * n, (i) => flavour.start(rng, Math.floor(i / n), i % n, n)),
          };
          for (const [s, scale] of SCALES.entries()) {
            for (const skip of [true, false]) {
              // The 784-unit shape is the slowest: one scale each way there.
              if (k === 784 && s !== f % 2) continue;
              const label = `W [${k}x${n}] += ${scale}·xᵀ·dY, batch ${m}, ${flavour.name}, negligible updates ${skip ? 'left out' : 'multiplied'}`;
              const moved = compareUpdate(
                pair,
                label,
                sides,
                inputs,
                scale,
                skip,
                (moved) => {
                  // Both factors hold subnormals and scale up by 2^24 (n ≥ 4): the native gemmAddRescaled at any width, on the
                  // kept block (or on nothing where every one of the k·n updates is negligible).
                  assert.equal(moved.sumsScaled, 1, `${label}: both factors scaled up`);
                  return { calls: { gemmAddRescaled: moved.negligibleElements === k * n ? 0 : 1 } };
                },
                seen,
              );
              if (!skip) assert.equal(moved.negligibleProducts, 0, `${label}: every update multiplied`);
              if (moved.negligibleElements === k * n) paths.allNegligible++;
              else if (moved.negligibleProducts === 1) paths.gathered++;
              else paths.whole++;
              // Sums scaled by 2^48 that overflowed: at least 2^80.
              if (countAbove(sides[0].out.data, Math.abs(scale) * 2 ** 81) > 0) paths.overflowed++;
            }
          }
        }
      }
      restoreDefaults(pair);
      assert.ok(paths.gathered >= 20 && paths.whole >= 40, `updates on a gathered block ${paths.gathered} times, on the whole W ${paths.whole}`);
      assert.ok(paths.overflowed >= 10, `updates with scaled sums that overflowed: ${paths.overflowed}`);
      assert.equal(pair.calls.gemmAddRescaled, paths.gathered + paths.whole, 'gemmAddRescaled ran natively for every update not all negligible');
      for (const what of ['negativeZero', 'subnormal'] as const) assert.ok(seen[what] > 20, `${what} reached the outputs: ${seen[what]}`);
    });

    test("the first layer's W += scale·xᵀ·dY from SparseRows with a subnormal dY: its sums rescaled natively (unscaleB 2^−24)", async (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const pair = await backendPair(module, products);
      const { last } = pair;
      const rng = new Rng(82);
      const seen = nothingSeen();
      const paths = { gathered: 0, whole: 0, allNegligible: 0, oneFactor: 0, overflowed: 0 };
      for (const [m, k, n] of SPARSE_SHAPES) {
        const sides = updateSides(pair, m, k, n, true);
        for (const [f, flavour] of FLAVOURS.entries()) {
          const inputs = {
            x: drawn(rng, m * k, () => flavour.pixel(rng)),
            dy: drawn(rng, m * n, (i) => flavour.gradient(rng, i % n, n), 5 * 2 ** -149),
            start: drawn(rng, k * n, (i) => flavour.start(rng, Math.floor(i / n), i % n, n)),
          };
          for (const [s, scale] of SCALES.entries()) {
            for (const skip of [true, false]) {
              if (k === 784 && s !== f % 2) continue;
              const label = `W [${k}x${n}] += ${scale}·xᵀ·dY from SparseRows, batch ${m}, ${flavour.name}, negligible updates ${skip ? 'left out' : 'multiplied'}`;
              const moved = compareUpdate(
                pair,
                label,
                sides,
                inputs,
                scale,
                skip,
                (moved) => {
                  if (n % 4 !== 0) {
                    // dY up and x down (no sums scaled): the native product on the factors as they are now (unscaleB 1; any width).
                    assert.equal(moved.oneFactor, 1, `${label}: one factor up, the other down`);
                    assert.equal(last.matmulTransposeASparseRowsAdd?.args[UNSCALE_B_ARGUMENT], 1, `${label}: unscaleB 1`);
                    return { calls: { matmulTransposeASparseRowsAdd: 1 } };
                  }
                  assert.equal(moved.sumsScaled, 1, `${label}: dY alone scaled up`);
                  if (moved.negligibleElements === k * n) return { calls: {} };
                  assert.equal(last.matmulTransposeASparseRowsAdd?.args[UNSCALE_B_ARGUMENT], UNSCALE, `${label}: unscaleB 2^−24`);
                  return { calls: { matmulTransposeASparseRowsAdd: 1 } };
                },
                seen,
              );
              if (!skip) assert.equal(moved.negligibleProducts, 0, `${label}: every update multiplied`);
              if (moved.oneFactor === 1) paths.oneFactor++;
              else if (moved.negligibleElements === k * n) paths.allNegligible++;
              else if (moved.negligibleProducts === 1) paths.gathered++;
              else paths.whole++;
              // Sums scaled by 2^24 that overflowed: at least 2^104.
              if (moved.sumsScaled === 1 && countAbove(sides[0].out.data, Math.abs(scale) * 2 ** 105) > 0) paths.overflowed++;
            }
          }
        }
      }
      restoreDefaults(pair);
      assert.ok(paths.gathered >= 8 && paths.whole >= 30, `updates on gathered columns ${paths.gathered} times, on the whole W ${paths.whole}`);
      assert.ok(paths.overflowed >= 5, `updates with scaled sums that overflowed: ${paths.overflowed}`);
      assert.ok(paths.oneFactor > 0, 'a width no multiple of 4 rescaled one factor each way');
      for (const what of ['negativeZero', 'subnormal', 'infinite'] as const) assert.ok(seen[what] > 20, `${what} reached the outputs: ${seen[what]}`);
    });

    test('dY·Wᵀ with a subnormal dY, plain and masked: matmulTransposeBRescaled, and the product as it is where a scaled sum overflowed', async (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const pair = await backendPair(module, products);
      const { withNative, wasmOnly, last } = pair;
      const rng = new Rng(83);
      const seen = nothingSeen();
      const rescaled = { native: 0, wasm: 0, overflowed: 0, oneFactor: 0 };
      for (const [m, n, k] of DOT_SHAPES) {
        const sides = [withNative, wasmOnly].map((kernels) => ({
          kernels,
          factors: [kernels.matrix(m, n), kernels.matrix(k, n)],
          out: kernels.matrix(m, k),
          rows: null,
          mask: kernels.matrix(m, k),
        })) as [Side, Side];
        const aAlone = m % 2 === 0 && n >= SHORT_DOT_PRODUCT && n % 4 === 0 && k % 4 === 0;
        const nativeShape = m % 2 === 0 && n >= SHORT_DOT_PRODUCT && n % 4 === 0 && k % 16 === 0;
        for (const flavour of FLAVOURS) {
          const dy = drawn(rng, m * n, (i) => flavour.gradient(rng, i % n, n), -(2 ** -149));
          const w = drawn(rng, k * n, () => flavour.weight(rng));
          // A ReLU's output as the mask: +0, −0, negatives and positives (the sigmoid networks have none; the path is the same).
          const mask = drawn(rng, m * k, () => withZeros(rng, 0.3, () => ordinary(rng)));
          let overflowed: boolean | null = null; // the masked product, first, says whether the wasm kernel overflowed
          for (const masked of [true, false]) {
            const label = `${m}x${n}·(${k}x${n})ᵀ${masked ? ' masked' : ''}, ${flavour.name}`;
            compare(
              pair,
              label,
              sides,
              (s) => {
                s.factors[0]!.data.set(dy);
                s.factors[1]!.data.set(w);
                s.mask!.data.set(mask);
              },
              (s) => s.kernels.matmulTransposeB(s.factors[0]!, s.factors[1]!, s.out, false, masked ? s.mask! : undefined),
              (moved) => {
                if (!aAlone) {
                  // dY up and W down: the same products, multiplied by the wasm kernel (the shape is not the native one's).
                  assert.equal(moved.oneFactor, 1, `${label}: one factor up, the other down`);
                  return { calls: {}, masked: masked ? [1, 1] : [0, 0] };
                }
                assert.equal(moved.sumsScaled, 1, `${label}: dY alone scaled up`);
                // Masked, the wasm backend reaches its masked kernel only after its rescaled sums overflowed (the product as it is).
                if (masked) overflowed = moved.maskedInputGradient === 1;
                if (!nativeShape) return { calls: {}, masked: masked ? [moved.maskedInputGradient, moved.maskedInputGradient] : [0, 0] };
                assert.equal(last.matmulTransposeBRescaled?.result, overflowed ? 1 : 0, `${label}: the native product overflowed where the wasm one did`);
                // Overflowed: the product as it is, the native matmulTransposeB (mask and all).
                if (overflowed) return { calls: { matmulTransposeBRescaled: 1, matmulTransposeB: 1 }, masked: [0, masked ? 1 : 0] };
                return { calls: { matmulTransposeBRescaled: 1 }, masked: [0, 0] };
              },
              seen,
            );
          }
          if (!aAlone) rescaled.oneFactor++;
          else if (overflowed) rescaled.overflowed++;
          else rescaled[nativeShape ? 'native' : 'wasm']++;
        }
      }
      assert.ok(rescaled.native >= 10 && rescaled.overflowed >= 3 && rescaled.wasm >= 2, `dY's sums rescaled: ${JSON.stringify(rescaled)}`);
      // (−0 needs every term of a dot product summed from +0 to round to −0: see the sums set up by hand.)
      for (const what of ['subnormal', 'infinite'] as const) assert.ok(seen[what] > 20, `${what} reached the outputs: ${seen[what]}`);
    });

    test('sums set up by hand: cancelled to below 2^−126, overflowing scaled up, folding to 2^−149, −0 kept and made +0', async (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const pair = await backendPair(module, products);
      const { withNative, wasmOnly, last } = pair;
      const seen = nothingSeen();
      const place = (kernels: WasmKernels, rows: number, cols: number, values: Float32Array) => {
        const matrix = kernels.matrix(rows, cols);
        matrix.data.set(values);
        return matrix;
      };

      // xᵀ·dY set up by hand (test/helpers/rescaled-sums.ts: a cancelled sum, an overflowed one, a −0). With 8 columns every
      // tile is whole; with 6 the last tile overlaps columns 2 and 3 and adds +0 there (−0 becomes +0).
      for (const [n, zeroColumn, expectedZero] of [
        [8, 6, -0],
        [6, 2, 0],
      ] as const) {
        const { xs, dys } = handSetSums(n, zeroColumn);
        // And row 7 of W all −0 against sums of −0 (2^−80·−2^−75 each): −0 kept, but +0 where the last tile overlaps.
        xs[3 * 9 + 7] = 2 ** -80;
        for (let j = 0; j < n; j++) dys[3 * n + j] = -(2 ** -75);
        const start = new Float32Array(9 * n);
        start[4 * n + zeroColumn] = -0;
        for (let j = 0; j < n; j++) start[7 * n + j] = -0;
        for (const skip of [true, false]) {
          const label = `sums set up by hand, ${n} columns, negligible updates ${skip ? 'left out' : 'multiplied'}`;
          const sides = updateSides(pair, 4, 9, n, false);
          compareUpdate(pair, label, sides, { x: xs, dy: dys, start }, 1, skip, () => ({ calls: { gemmAddRescaled: 1 } }), seen);
          const target = sides[0].out.data;
          assert.equal(target[0], -(2 ** -147), `${label}: the cancelled sum`);
          assert.equal(target[8 * n], -(2 ** -147), `${label}: the cancelled sum in the row summed alone`);
          assert.equal(target[3 * n + 5], 2 ** 90, `${label}: the sum that overflows scaled up`);
          assert.ok(Object.is(target[4 * n + zeroColumn], expectedZero), `${label}: the zero, ${Object.is(expectedZero, -0) ? '−0' : '+0'}`);
          // The wasm kernel's last tile starts at n − 4: columns n − 4 up to the last multiple of 4 get + 0 again.
          const overlapped = (j: number) => n % 4 !== 0 && j >= n - 4 && j < n - (n % 4);
          for (let j = 0; j < n; j++) {
            assert.ok(Object.is(target[7 * n + j], overlapped(j) ? 0 : -0), `${label}: −0 + −0 at row 7, column ${j}${overlapped(j) ? ', then + 0' : ''}`);
          }
        }
      }
      restoreDefaults(pair);

      // Sums past float32's range as they are too (1e30·1e30 twice: +∞, overflowed scaled up and summed again as they are; a
      // fused multiply-add never makes ∞ − ∞ from finite factors, so no update is NaN): a NaN weight met by an infinite update keeps
      // its own bits (JavaScript's NaN), and +∞ met by −∞ is x86's default NaN; dense and from SparseRows.
      for (const sparse of [false, true]) {
        const label = `NaN and ∞ weights and infinite updates${sparse ? ', from SparseRows' : ''}`;
        const x = new Float32Array(2 * 4);
        x[0] = 1e30;
        x[4] = 1e30;
        if (!sparse) x[1] = 2 ** -140; // subnormals in both factors (x from SparseRows holds none: dY alone is scaled up)
        const dy = new Float32Array(2 * 4);
        dy[0] = 1e30;
        dy[4] = -1e30;
        dy[2] = 1e30;
        dy[6] = 1e30;
        dy[1] = 2 ** -140;
        const start = new Float32Array(4 * 4);
        new Uint32Array(start.buffer).fill(JS_NAN);
        start[2] = Number.POSITIVE_INFINITY;
        const sides = updateSides(pair, 2, 4, 4, sparse);
        compareUpdate(
          pair,
          label,
          sides,
          { x, dy, start },
          -0.01,
          true,
          (moved) => {
            assert.equal(moved.sumsScaled, 1, `${label}: sums scaled up`);
            return { calls: sparse ? { matmulTransposeASparseRowsAdd: 1 } : { gemmAddRescaled: 1 } };
          },
          seen,
        );
        const expected = new Array(16).fill(JS_NAN);
        expected[2] = DEFAULT_NAN;
        assert.deepStrictEqual(Array.from(bits(sides[0].out)), expected, `${label}: the NaN weights keep their NaN, ∞ − ∞ is x86's`);
      }

      // dY·Wᵀ, W 16 rows (native: k a multiple of 16): a lane's sum cancelled from above 2^−126 to below, 2^−100·1 − 2^−100·(1 −
      // 2^−23)·(1 + 2^−23) = 2^−146, in every output of row 0; lanes 0 and 2 of row 0, 2^−126·(1 + 2^−23) and −2^−126, folding to
      // 2^−149; and a sum whose 2^24 times overflows (2^100·2^20), for which the product is done as it is (matmulTransposeB).
      const dot = (label: string, dys: Float32Array, ws: Float32Array, overflows: boolean) => {
        const sides = [withNative, wasmOnly].map((kernels) => ({
          kernels,
          factors: [place(kernels, 2, 16, dys), place(kernels, 16, 16, ws)],
          out: kernels.matrix(2, 16),
          rows: null,
          mask: null,
        })) as [Side, Side];
        compare(
          pair,
          label,
          sides,
          () => {},
          (s) => s.kernels.matmulTransposeB(s.factors[0]!, s.factors[1]!, s.out),
          (moved) => {
            assert.equal(moved.sumsScaled, 1, `${label}: dY alone scaled up`);
            assert.equal(last.matmulTransposeBRescaled?.result, overflows ? 1 : 0, `${label}: ${overflows ? 'overflowed' : 'no overflow'}`);
            return { calls: overflows ? { matmulTransposeBRescaled: 1, matmulTransposeB: 1 } : { matmulTransposeBRescaled: 1 } };
          },
          seen,
        );
        return sides[0].out.data;
      };
      const cancelling = new Float32Array(2 * 16);
      cancelling[0] = 2 ** -100;
      cancelling[4] = -(2 ** -100) * (1 - 2 ** -23);
      cancelling[16 + 9] = 2 ** -140;
      const cancelled = dot(
        'dY·Wᵀ, a sum cancelled from above 2^−126',
        cancelling,
        new Float32Array(16 * 16).map((_, i) => (i % 16 === 4 ? 1 + 2 ** -23 : 1)),
        false,
      );
      for (let p = 0; p < 16; p++) assert.equal(cancelled[p], 2 ** -146, `dY·Wᵀ, row 0, column ${p}: the cancelled sum`);
      const dys = new Float32Array(2 * 16);
      dys[0] = 2 ** -126 * (1 + 2 ** -23);
      dys[2] = -(2 ** -126);
      dys[16 + 5] = 2 ** -140;
      const ws = new Float32Array(16 * 16);
      ws[0] = 1;
      ws[2] = 1;
      ws[16 + 5] = 1;
      const folded = dot('dY·Wᵀ, lanes that fold to a subnormal', dys, ws, false);
      assert.equal(folded[0], 2 ** -149);
      assert.equal(folded[16 + 1], 2 ** -140);
      dys[1] = 2 ** 100;
      ws[1] = 2 ** 20;
      const overflowed = dot('dY·Wᵀ, a sum that overflows scaled up', dys, ws, true);
      assert.equal(overflowed[0], 2 ** 120);

      // xᵀ·dY from SparseRows: pixel 0 is 1 and 1 + 2^−23 in examples 0 and 1, whose dY are 2^−100 and −2^−100·(1 − 2^−23):
      // 2^−146 left, at columns 0 and 16 of 20 (in wasm one in a block of 16 columns, one in its tail; natively a whole vector and
      // a masked one); then a sum that overflows scaled up (2^60·2^50, 8 columns).
      const sparse = (label: string, m: number, k: number, n: number, xs: Float32Array, dys: Float32Array, start: Float32Array, scale: number) => {
        const sides = updateSides(pair, m, k, n, true);
        compareUpdate(
          pair,
          label,
          sides,
          { x: xs, dy: dys, start },
          scale,
          true,
          (moved) => {
            assert.equal(moved.sumsScaled, 1, `${label}: dY alone scaled up`);
            assert.equal(last.matmulTransposeASparseRowsAdd?.args[UNSCALE_B_ARGUMENT], UNSCALE, `${label}: unscaleB 2^−24`);
            return { calls: { matmulTransposeASparseRowsAdd: 1 } };
          },
          seen,
        );
        return sides[0].out.data;
      };
      const pixels = new Float32Array(3 * 4);
      pixels[0] = 1;
      pixels[4] = 1 + 2 ** -23;
      pixels[8 + 1] = 1;
      const dyCancelling = new Float32Array(3 * 20).map((_, i) =>
        i % 20 === 0 || i % 20 === 16 ? [2 ** -100, -(2 ** -100) * (1 - 2 ** -23), 0][Math.floor(i / 20)]! : 0,
      );
      dyCancelling[2 * 20 + 5] = 2 ** -140;
      const fromRows = sparse('xᵀ·dY from SparseRows, a sum cancelled from above 2^−126', 3, 4, 20, pixels, dyCancelling, new Float32Array(4 * 20), 1);
      assert.equal(fromRows[0], 2 ** -146, 'pixel 0, column 0');
      assert.equal(fromRows[16], 2 ** -146, 'pixel 0, column 16');
      const xs = new Float32Array(6 * 5).map((_, i) => (i % 3 === 0 ? 1 + (i % 4) : 0));
      xs[0] = 2 ** 60;
      const dyHuge = new Float32Array(6 * 8).map((_, i) => (i % 5 === 0 ? 2 ** -140 : 0));
      dyHuge[3] = 2 ** 50;
      const startHuge = new Float32Array(5 * 8).fill(1);
      const overflowedRows = sparse('xᵀ·dY from SparseRows, a sum that overflows scaled up', 6, 5, 8, xs, dyHuge, startHuge, 0.5);
      assert.equal(overflowedRows[3], 1 + 0.5 * 2 ** 110, 'the sum that overflows scaled up');
    });

    test('models 6 and 8 without BN (std 10, sigmoid, lr 0.01 and 2) train to the same loss and weights, through the rescaled products', async (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const data = await loadMnist();
      for (const [model, learningRate] of [
        ['model 6', 0.01],
        ['model 8', 2],
      ] as const) {
        // The sparse xᵀ·dY's calls with dY rescaled (unscaleB ≠ 1) counted apart.
        let rescaledRows = 0;
        const observed: NativeKernels = {
          ...products,
          matmulTransposeASparseRowsAdd: (...args: Parameters<NativeKernels['matmulTransposeASparseRowsAdd']>) => {
            if (args[UNSCALE_B_ARGUMENT] !== 1) rescaledRows++;
            products.matmulTransposeASparseRowsAdd(...args);
          },
        };
        const { withNative, wasmOnly, calls } = await backendPair(module, observed);
        const steps = 200;
        const config = resolveTrainConfig({
          initStd: 10,
          learningRate,
          activation: 'sigmoid',
          seed: 1,
          steps,
          batchNorm: false,
          norm: 'none',
        });
        const runs = [];
        for (const kernels of [withNative, wasmOnly]) {
          const net = buildNetwork(kernels, config, false);
          // Without validation (its passes over 15,000 examples would take most of the time): every step's loss, then the weights.
          const losses: number[] = [];
          const run = new TrainingRun(net, data, config, { onStep: (_step, loss) => losses.push(loss) }, { validate: false });
          run.advance();
          runs.push({ losses, parameters: net.parameters().map(({ name, value }) => ({ name, bits: Array.from(float32Bits(value.data)) })) });
        }
        assert.equal(runs[0]!.losses.length, steps, `${model}: every step ran`);
        assert.deepStrictEqual(runs[0]!.losses, runs[1]!.losses, `${model}: the same loss at every step`);
        assert.deepStrictEqual(runs[0]!.parameters, runs[1]!.parameters, `${model}: the same weights`);
        assert.deepStrictEqual(withNative.subnormalRescales, wasmOnly.subnormalRescales, `${model}: the same rescalings`);
        assert.deepStrictEqual(withNative.negligibleUpdates, wasmOnly.negligibleUpdates, `${model}: the same updates left out`);
        // Every step: the two upper hidden layers' xᵀ·dY (both factors), their dY·Wᵀ (dY alone) and the first layer's xᵀ·dY (dY alone).
        assert.ok(wasmOnly.subnormalRescales.sumsScaled >= 4 * steps, `${model}: sums scaled up ${wasmOnly.subnormalRescales.sumsScaled} times`);
        assert.ok(calls.gemmAddRescaled >= steps, `${model}: gemmAddRescaled ran natively (${calls.gemmAddRescaled} calls)`);
        assert.ok(calls.matmulTransposeBRescaled >= steps, `${model}: matmulTransposeBRescaled ran natively (${calls.matmulTransposeBRescaled} calls)`);
        assert.ok(rescaledRows >= steps / 2, `${model}: matmulTransposeASparseRowsAdd ran natively with dY rescaled (${rescaledRows} calls)`);
        assert.ok(wasmOnly.negligibleUpdates.products > 0, `${model}: updates left out on gathered blocks (${wasmOnly.negligibleUpdates.products})`);
      }
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const products = nativeOrSkip(t, RESCALED);
      if (!products) return;
      const memory = new ArrayBuffer(4096);
      const floats = new Float32Array(memory);
      const words = new Uint32Array(memory);

      // gemmAddRescaled: A [1x2] at 0 (a row stride 8 bytes, a step 4) given as A·2^24, B [2x4] at 64 given as B·2^24, C [1x4] at 128:
      // C += 0.5·(A·B) = 1 + 0.5·(3·[1, 2, 3, 4] + [1, 1, 1, 1]).
      floats.set([3 * 2 ** 24, 2 ** 24]);
      floats.set(
        [1, 2, 3, 4, 1, 1, 1, 1].map((v) => v * 2 ** 24),
        16,
      );
      floats.set([1, 1, 1, 1], 32);
      const gemm = (...args: number[]) => (products.gemmAddRescaled as (...args: unknown[]) => void)(memory, ...args);
      gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE);
      assert.deepStrictEqual(Array.from(floats.subarray(32, 36)), [3, 4.5, 6, 7.5], 'a right call of gemmAddRescaled computes');

      // matmulTransposeBRescaled: a [2x4] at 1024 given as a·2^24, b [16x4] at 1088, out [2x16] at 1536, scratch (16·4 floats) at 2048.
      const a = [1, 2, 3, 4, 0.5, 0, 0, -1];
      floats.set(
        a.map((v) => v * 2 ** 24),
        256,
      );
      for (let p = 0; p < 16; p++) floats.set([p, 1, 0, 0.25], 272 + 4 * p);
      const dot = (i: number, p: number) => (i === 0 ? p + 3 : 0.5 * p - 0.25);
      const dots = (...args: number[]) => (products.matmulTransposeBRescaled as (...args: unknown[]) => number)(memory, ...args);
      assert.equal(dots(1024, 1088, 1536, 2, 4, 16, UNSCALE, 2048), 0, 'no sum overflowed');
      assert.deepStrictEqual(
        Array.from(floats.subarray(384, 416)),
        Array.from({ length: 32 }, (_, e) => dot(e >> 4, e & 15)),
        'a right call of matmulTransposeBRescaled computes',
      );
      floats[256] = 3e38; // 3e38·2^−24 as it is: its sums scaled up overflow
      assert.equal(dots(1024, 1088, 1536, 2, 4, 16, UNSCALE, 2048), 1, 'a sum overflowed scaled up: 1');
      floats[256] = 2 ** 24;

      // matmulTransposeASparseRowsAdd with unscaleB 2^−24: x [1x1] = 2 as SparseRows (rowStart [0, 1] at 2560, index 0 at 2568,
      // value at 2572), dY [1x4] at 2576 given as dY·2^24, W [1x4] at 2592, scratch (k + 4 + 2 entries) at 2608.
      words.set([0, 1, 0], 640);
      floats[643] = 2;
      floats.set(
        [1, 2, 3, 4].map((v) => v * 2 ** 24),
        644,
      );
      floats.set([1, 1, 1, 1], 648);
      const rows = (...args: number[]) => (products.matmulTransposeASparseRowsAdd as (...args: unknown[]) => void)(memory, ...args);
      rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, UNSCALE);
      assert.deepStrictEqual(Array.from(floats.subarray(648, 652)), [2, 3, 4, 5], 'a right call of matmulTransposeASparseRowsAdd with unscaleB computes');

      const before = float32Bits(floats);
      const wrong: Array<[string, () => unknown]> = [
        ['gemmAddRescaled: c beyond the memory', () => gemm(0, 8, 4, 64, 16, 8192, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: c running past the end (300 rows)', () => gemm(0, 0, 4, 64, 16, 128, 16, 300, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: b running past the end (depth 300)', () => gemm(0, 8, 0, 64, 16, 128, 16, 1, 4, 300, 0.5, UNSCALE, UNSCALE)],
        ["gemmAddRescaled: a's second step beyond the end", () => gemm(4000, 8, 400, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: a misaligned offset', () => gemm(0, 8, 4, 66, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: a negative offset', () => gemm(-4, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: a stride not a whole number of floats', () => gemm(0, 6, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: fewer than 4 columns', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 3, 2, 0.5, UNSCALE, UNSCALE)],
        ['gemmAddRescaled: unscaleA not a power of two', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, 3 * UNSCALE, UNSCALE)],
        ['gemmAddRescaled: unscaleB negative', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, -UNSCALE)],
        ['gemmAddRescaled: unscaleA above 1', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, 2, 2 ** -30)],
        ['gemmAddRescaled: 2^E below 2^23 (the grid subnormal)', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, 2 ** -10, 2 ** -12)],
        ['gemmAddRescaled: 2^E above 2^126', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, 2 ** -100, 2 ** -40)],
        ['gemmAddRescaled: unscale 0', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, 0, UNSCALE)],
        ['gemmAddRescaled: unscale NaN', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, Number.NaN, UNSCALE)],
        ['gemmAddRescaled: too few arguments', () => gemm(0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE)],
        [
          'gemmAddRescaled: a typed array for the memory',
          () => (products.gemmAddRescaled as (...args: unknown[]) => void)(floats, 0, 8, 4, 64, 16, 128, 16, 1, 4, 2, 0.5, UNSCALE, UNSCALE),
        ],
        ['matmulTransposeBRescaled: m odd', () => dots(1024, 1088, 1536, 1, 4, 16, UNSCALE, 2048)],
        ['matmulTransposeBRescaled: n not a multiple of 4', () => dots(1024, 1088, 1536, 2, 6, 16, UNSCALE, 2048)],
        ['matmulTransposeBRescaled: k not a multiple of 16', () => dots(1024, 1088, 1536, 2, 4, 8, UNSCALE, 2048)],
        ['matmulTransposeBRescaled: unscaleA not a power of two', () => dots(1024, 1088, 1536, 2, 4, 16, 0.75 * UNSCALE, 2048)],
        ['matmulTransposeBRescaled: unscaleA 2^−10 (E below 23)', () => dots(1024, 1088, 1536, 2, 4, 16, 2 ** -10, 2048)],
        ['matmulTransposeBRescaled: unscaleA 1', () => dots(1024, 1088, 1536, 2, 4, 16, 1, 2048)],
        ['matmulTransposeBRescaled: out beyond the end', () => dots(1024, 1088, 4000, 2, 4, 16, UNSCALE, 2048)],
        ['matmulTransposeBRescaled: scratch running past the end', () => dots(1024, 1088, 1536, 2, 4, 16, UNSCALE, 3900)],
        ['matmulTransposeBRescaled: a misaligned offset', () => dots(1026, 1088, 1536, 2, 4, 16, UNSCALE, 2048)],
        ['matmulTransposeBRescaled: too few arguments', () => dots(1024, 1088, 1536, 2, 4, 16, UNSCALE)],
        ['matmulTransposeASparseRowsAdd: unscaleB 2^−24, n not a multiple of 4', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 6, 0.5, 2608, UNSCALE)],
        ['matmulTransposeASparseRowsAdd: unscaleB 1, out past the end', () => rows(2560, 2568, 2572, 1, 1, 2576, 4084, 4, 0.5, 2608, 1)],
        ['matmulTransposeASparseRowsAdd: unscaleB not a power of two', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, 3 * UNSCALE)],
        ['matmulTransposeASparseRowsAdd: unscaleB 2^−10 (E below 23)', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, 2 ** -10)],
        ['matmulTransposeASparseRowsAdd: unscaleB 2^−127 (E above 126)', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, 2 ** -127)],
        ['matmulTransposeASparseRowsAdd: unscaleB 2', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, 2)],
        ['matmulTransposeASparseRowsAdd: W running past the end', () => rows(2560, 2568, 2572, 1, 1, 2576, 4088, 4, 0.5, 2608, UNSCALE)],
        ['matmulTransposeASparseRowsAdd: dY running past the end (1000 columns)', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 1000, 0.5, 2608, UNSCALE)],
        ['matmulTransposeASparseRowsAdd: too few arguments (no unscaleB)', () => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608)],
      ];
      for (const [what, call] of wrong) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(float32Bits(floats), before, `${what}: nothing written`);
      }
      // An entry's index outside x's k columns (5 of 1): thrown before anything is written.
      words[642] = 5;
      const withBadIndex = float32Bits(floats);
      assert.throws(() => rows(2560, 2568, 2572, 1, 1, 2576, 2592, 4, 0.5, 2608, UNSCALE), RangeError, "an entry's index outside its factor");
      assert.deepStrictEqual(float32Bits(floats), withBadIndex, "an entry's index outside its factor: nothing written");
    });
  }
});
