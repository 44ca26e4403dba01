/**
 * @file Weight Norm's native kernels (native/weight-norm.c: AVX-512 or AVX2 on the wasm memory)
 * change no bit: two backends from one compiled relaxed-SIMD module, one with the native kernels
 * and one without, run weightNormScale, weightNormBackward (with the batch mean and without),
 * addScaledColumns (into another matrix and into v itself) and scaleShiftColumns on the same inputs
 * and must give the same float32 bits, read as integers (−0 and NaN payloads included). Shapes: 1
 * to 784 rows (fewer than four, the four-row passes and the rows after them) by 16, 32, 128 and 144
 * columns (one vector, two, the article's 128, and 128 + 16); values at the arithmetic's edges (±0,
 * subnormals, sums that overflow, ±∞, NaN: one NaN pattern, x86's default 0xffc00000, which is also
 * what its arithmetic makes, so that NaNs that meet give one answer whatever their order). The
 * kernels are chained as a layer chains them (the backward takes the forward's norms and scale),
 * and the backward runs again on norms and scales drawn from the edges (divisions by ±0, ±∞, NaN).
 * Then each kernel is called directly, natively and in wasm, on one memory whose regions are
 * exactly full with gaps between them (16, 48 and 80 columns: 1, 3 and 5 vectors of 16 floats, 2, 6
 * and 10 of 8, no multiple of 32 columns, so that a block of columns would leave a remainder; 1 to
 * 9 rows and 60), and every byte of it, the gaps included, must end the same (a store before a
 * region or past its end shows). Widths the native kernels do not take (not a multiple of 16: the
 * wasm kernels' scalar tails multiply and add unfused) stay in wasm. Then the article's network
 * with Weight Norm (784-128-128-128-10, batches of 60; plain and mean-only) trains 200 steps to the
 * same numbers and weights either way, and a wrong call throws a RangeError and writes nothing.
 *
 * Not vacuous: the native kernels are wrapped to count their calls, every case checks that exactly
 * the native kernels the backend routes it to ran (or none, where it must stay in wasm), and the
 * sweep checks that −0, subnormals, ±∞ and NaN reached the outputs. Where the native kernels cannot
 * run here (not built, neither AVX-512F nor AVX2, BNLAB_NATIVE=off) the tests are skipped, saying
 * why; built and yet not loaded fails.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import type { NativeKernels } from '../../src/core/wasm/native-products.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { bitsOf, DEFAULT_NAN, nothingSeen, type Seen, tally } from '../helpers/float-bits.js';
import {
  assertCalls as assertKernelCalls,
  layOutRegions,
  type Calls as NativeCalls,
  nativeBackendPair,
  nativeOrSkip,
  relaxedSimdModules,
} from '../helpers/native-backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';

const KERNELS = ['weightNormScale', 'weightNormBackward', 'addScaledColumns', 'scaleShiftColumns'] as const;
type Kernel = (typeof KERNELS)[number];
type Calls = NativeCalls<Kernel>;

/** A native backend counting Weight Norm's four kernels' calls, and a wasm-only one. */
const backendPair = (module: WebAssembly.Module, products: NativeKernels) => nativeBackendPair(module, products, KERNELS);
const assertCalls = (calls: Calls, before: Calls, expected: Partial<Calls>, message: string) => assertKernelCalls(KERNELS, calls, before, expected, message);

type Pair = Awaited<ReturnType<typeof backendPair>>;

/** A matrix's float32 bits as they lie in memory (never read as numbers, which could change a NaN's payload). */
const bitsOfMatrix = (matrix: Matrix) => new Uint32Array(matrix.data.buffer, matrix.data.byteOffset, matrix.size).slice();
/** Bits put into a matrix as they are. */
function setBits(matrix: Matrix, bits: Uint32Array): void {
  new Uint32Array(matrix.data.buffer, matrix.data.byteOffset, matrix.size).set(bits);
}

const signed = (rng: Rng, x: number) => (rng.uniform() < 0.5 ? -x : x);
/** ±(1 to 2)·2^e, e from −6 to 5: ordinary values whose sums round. */
const ordinary = (rng: Rng) => signed(rng, (1 + rng.uniform()) * 2 ** (rng.int(12) - 6));
/** ±m·2^e, m from 1 to 7 and e from `lowest` to `highest`: across the subnormals, products on halves of their spacing (ties). */
const awkward = (rng: Rng, lowest: number, highest: number) => signed(rng, (1 + rng.int(7)) * 2 ** (lowest + rng.int(highest - lowest + 1)));

/** What the inputs hold, each aimed at one edge of the arithmetic (as float32 bits). */
const FLAVOURS: Array<{ name: string; value(rng: Rng): number }> = [
  { name: 'ordinary values', value: (rng) => bitsOf(ordinary(rng)) },
  // ±0 in most entries: columns of zeros (‖v‖ = 0, g/0), −0 products and differences, few terms a sum.
  { name: 'signed zeros', value: (rng) => bitsOf(signed(rng, rng.uniform() < 0.6 ? 0 : 1 + rng.int(2))) },
  {
    // Subnormal operands, squares, products and sums (1e-40, 2^−149, ties at their spacing).
    name: 'subnormals',
    value: (rng) => bitsOf(rng.uniform() < 0.3 ? signed(rng, rng.uniform() < 0.5 ? 1e-40 : 2 ** -149) : awkward(rng, -153, -2)),
  },
  // 3e38 and its kin: squares and sums overflow to ∞, ∞ − ∞ is NaN.
  { name: 'huge values', value: (rng) => bitsOf(rng.uniform() < 0.4 ? signed(rng, 1e38 * (1 + rng.int(3))) : ordinary(rng)) },
  {
    name: '±∞ and NaN',
    value: (rng) => {
      const u = rng.uniform();
      return u < 0.03 ? DEFAULT_NAN : bitsOf(u < 0.06 ? signed(rng, Number.POSITIVE_INFINITY) : u < 0.2 ? signed(rng, 0) : ordinary(rng));
    },
  },
  {
    name: 'everything mixed',
    value: (rng) => {
      const u = rng.uniform();
      if (u < 0.01) return DEFAULT_NAN;
      const special = u < 0.02 ? Number.POSITIVE_INFINITY : u < 0.08 ? 1e38 : u < 0.2 ? 0 : u < 0.3 ? 1e-40 : null;
      return bitsOf(special === null ? (u < 0.5 ? awkward(rng, -149, 4) : ordinary(rng)) : signed(rng, special));
    },
  },
];

/** A flavour's values drawn once (each case takes a window at a random offset): at least 784·144. */
const POOL = 2 ** 18;
const pools = new Map<number, Uint32Array>();
function poolOf(f: number): Uint32Array {
  let pool = pools.get(f);
  if (!pool) {
    const rng = new Rng(900 + f);
    pool = new Uint32Array(POOL);
    for (let i = 0; i < POOL; i++) pool[i] = FLAVOURS[f]!.value(rng);
    pools.set(f, pool);
  }
  return pool;
}
function windowOf(pool: Uint32Array, length: number, rng: Rng): Uint32Array {
  const start = rng.int(pool.length - length + 1);
  return pool.subarray(start, start + length);
}

/** One backend's matrices for v [k×n] and a batch [m×n] of its layer's outputs. */
interface Side {
  kernels: WasmKernels;
  v: Matrix;
  out: Matrix;
  g: Matrix;
  norms: Matrix;
  scale: Matrix;
  shift: Matrix;
  mean: Matrix;
  t: Matrix;
  y: Matrix;
  dy: Matrix;
  dt: Matrix;
  dg: Matrix;
  coefficient: Matrix;
}

function sidesFor({ withNative, wasmOnly }: Pair, k: number, m: number, n: number): [Side, Side] {
  return [withNative, wasmOnly].map((kernels) => {
    const row = () => kernels.matrix(1, n);
    return {
      kernels,
      v: kernels.matrix(k, n),
      out: kernels.matrix(k, n),
      g: row(),
      norms: row(),
      scale: row(),
      shift: row(),
      mean: row(),
      t: kernels.matrix(m, n),
      y: kernels.matrix(m, n),
      dy: kernels.matrix(m, n),
      dt: kernels.matrix(m, n),
      dg: row(),
      coefficient: row(),
    };
  }) as [Side, Side];
}

type Inputs = Partial<Record<Exclude<keyof Side, 'kernels'>, Uint32Array>>;

/**
 * The four kernels on both backends, chained as a layer chains them, each from the same bits:
 * the same output bits after each, and exactly the native kernels the backend routes it to
 * (`native`: the width is whole vectors) or none.
 */
function compareChain({ calls }: Pair, sides: [Side, Side], inputs: Inputs, factor: number, native: boolean, label: string, seen: Seen | null): void {
  const check = (what: string, kernel: Kernel, run: (side: Side) => void, outputs: Array<keyof Inputs>, fill: Array<keyof Inputs> = []) => {
    const before = { ...calls };
    for (const side of sides) {
      for (const name of fill) setBits(side[name], inputs[name]!);
      run(side);
    }
    for (const name of outputs) {
      const bits = bitsOfMatrix(sides[0][name]);
      assert.deepStrictEqual(bits, bitsOfMatrix(sides[1][name]), `${what}, ${label}: the same bits in ${name}`);
      if (seen) tally(seen, bits);
    }
    assertCalls(calls, before, native ? { [kernel]: 1 } : {}, `${what}, ${label}: ${native ? 'the native kernel ran' : 'no native kernel ran'}`);
  };
  check('‖v‖ and g/‖v‖', 'weightNormScale', (s) => s.kernels.weightNormScale(s.v, s.g, s.norms, s.scale), ['norms', 'scale'], ['v', 'g']);
  check('y = s·t + b', 'scaleShiftColumns', (s) => s.kernels.scaleShiftColumns(s.t, s.scale, s.shift, s.y), ['y'], ['t', 'shift']);
  // The forward's norms and scale, then norms and scale from the inputs (±0, ∞, NaN, negative: the divisions' edges).
  for (const drawn of [false, true]) {
    for (const withMean of [false, true]) {
      const fill: Array<keyof Inputs> = ['dy', 'mean', 'dt', 'dg', 'coefficient'];
      check(
        `the backward ${withMean ? 'with the batch mean' : 'without the mean'}${drawn ? ', drawn norms and scale' : ''}`,
        'weightNormBackward',
        (s) => s.kernels.weightNormBackward(s.dy, s.t, withMean ? s.mean : null, s.norms, s.scale, s.g, s.dt, s.dg, s.coefficient),
        ['dt', 'dg', 'coefficient'],
        drawn ? [...fill, 'norms', 'scale'] : fill,
      );
    }
  }
  check(`out += ${factor}·c·v`, 'addScaledColumns', (s) => s.kernels.addScaledColumns(s.v, s.coefficient, factor, s.out), ['out'], ['out']);
  check(`v += ${factor}·c·v in place`, 'addScaledColumns', (s) => s.kernels.addScaledColumns(s.v, s.coefficient, factor, s.v), ['v']);
}

/** The inputs of a case: every matrix's bits from one flavour's pool. */
function drawInputs(pool: Uint32Array, k: number, m: number, n: number, rng: Rng): Inputs {
  const big = (length: number) => windowOf(pool, length, rng);
  return {
    v: big(k * n),
    out: big(k * n),
    g: big(n),
    shift: big(n),
    mean: big(n),
    t: big(m * n),
    dy: big(m * n),
    dt: big(m * n),
    dg: big(n),
    coefficient: big(n),
    norms: big(n),
    scale: big(n),
  };
}

const ROWS = [1, 2, 3, 4, 5, 7, 8, 60, 61, 128, 784];
const COLUMNS = [16, 32, 128, 144];
/** Widths that stay in wasm: scalar tails (n mod 4 ≠ 0), whole 4-float vectors that are no whole 16-float ones, and the output layer's 10. */
const WASM_COLUMNS = [1, 3, 4, 8, 10, 12, 20, 130];
/** addScaledColumns' factor: −1 (the gradient), a learning rate, and edges (the others' products against c). */
const FACTORS = [-1, 0.01, 2, -0, 1e-40, 3e38, Number.NEGATIVE_INFINITY];

describe("Weight Norm's native kernels: the bits of the relaxed-SIMD kernels they stand for", async () => {
  for (const module of await relaxedSimdModules()) {
    test('the four kernels over shapes and edge values, chained as a layer chains them', async (t) => {
      const products = nativeOrSkip(t, KERNELS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(2016);
      const seen: Seen = nothingSeen();
      let cases = 0;
      for (const [ki, k] of ROWS.entries()) {
        for (const [ni, n] of COLUMNS.entries()) {
          // The batch: as many rows as v (v's rows walk the four-row passes; the batch's, the backward's sums), at most 128.
          const m = Math.min(k, 128);
          const sides = sidesFor(pair, k, m, n);
          // Every flavour on every shape; the factors in turn.
          for (let f = 0; f < FLAVOURS.length; f++) {
            const factor = FACTORS[(ki + ni + f) % FACTORS.length]!;
            compareChain(pair, sides, drawInputs(poolOf(f), k, m, n, rng), factor, true, `${k}x${n} (batch ${m}), ${FLAVOURS[f]!.name}`, seen);
            cases++;
          }
        }
      }
      assert.equal(cases, ROWS.length * COLUMNS.length * FLAVOURS.length);
      const { calls } = pair;
      assert.deepStrictEqual(calls, { weightNormScale: cases, weightNormBackward: 4 * cases, addScaledColumns: 2 * cases, scaleShiftColumns: cases });
      t.diagnostic(`specials in the outputs: ${JSON.stringify(seen)}`);
      for (const [what, count] of Object.entries(seen)) assert.ok(count > 100, `${what} reached the outputs: ${count}`);
    });

    test('the article’s shapes with ordinary weights: v 784×128 and 128×128, batches of 60', async (t) => {
      const products = nativeOrSkip(t, KERNELS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(2017);
      // Weights of std ~0.05 and a layer's outputs, every value ordinary: the sums' roundings are all there is to compare.
      const normal = (std: number) => () => {
        const x = new Float32Array(1);
        x[0] = std * (rng.uniform() + rng.uniform() + rng.uniform() - 1.5) * 2;
        return new Uint32Array(x.buffer)[0]!;
      };
      for (const k of [784, 128]) {
        const n = 128,
          m = 60;
        const draw = (length: number, std: number) => Uint32Array.from({ length }, normal(std));
        const inputs: Inputs = {
          v: draw(k * n, 0.05),
          out: draw(k * n, 0.01),
          g: draw(n, 1),
          shift: draw(n, 0.1),
          mean: draw(n, 1),
          t: draw(m * n, 1),
          dy: draw(m * n, 0.01),
          dt: draw(m * n, 1),
          dg: draw(n, 1),
          coefficient: draw(n, 1),
          norms: draw(n, 1),
          scale: draw(n, 1),
        };
        for (const factor of [-1, 0.01]) compareChain(pair, sidesFor(pair, k, m, n), inputs, factor, true, `${k}x${n}, batch ${m}`, null);
      }
    });

    test('widths that are not whole 16-float vectors stay in wasm (the same kernels both ways)', async (t) => {
      const products = nativeOrSkip(t, KERNELS);
      if (!products) return;
      const pair = await backendPair(module, products);
      const rng = new Rng(2018);
      for (const k of [1, 5, 60, 128]) {
        for (const n of WASM_COLUMNS) {
          const m = Math.min(k, 60);
          for (const f of [0, 5]) {
            compareChain(pair, sidesFor(pair, k, m, n), drawInputs(poolOf(f), k, m, n, rng), -1, false, `${k}x${n}, ${FLAVOURS[f]!.name}`, null);
          }
        }
      }
      assert.deepStrictEqual(pair.calls, { weightNormScale: 0, weightNormBackward: 0, addScaledColumns: 0, scaleShiftColumns: 0 });
    });

    test('each kernel called directly on one memory, its regions exactly full: every byte the same, the gaps between them included', async (t) => {
      const native = nativeOrSkip(t, KERNELS);
      if (!native) return;
      const memory = new WebAssembly.Memory({ initial: 64 });
      const wasm = await instantiateKernelModule(module, memory);
      const words = () => new Uint32Array(memory.buffer);
      // A gap before the first region too (the regions start 64 bytes into the compared span).
      const start = wasm.heapBase() + 64;
      const rng = new Rng(2019);
      let cases = 0;
      for (const k of [1, 2, 3, 4, 5, 6, 7, 8, 9, 60]) {
        for (const n of [16, 48, 80]) {
          const m = k;
          const names = ['v', 'out', 'g', 'norms', 'scale', 'shift', 'mean', 't', 'y', 'dy', 'dt', 'dg', 'coefficient'];
          const sizes = [k * n, k * n, n, n, n, n, n, m * n, m * n, m * n, m * n, n, n] as const;
          const { offsets, end } = layOutRegions(start + 64, sizes);
          const [v, out, g, norms, scale, shift, mean, tAt, y, dy, dt, dg, coefficient] = offsets;
          /** The region a byte lies in, or the gap after which, for the message. */
          const placeOf = (at: number) => {
            let i = offsets.length - 1;
            while (i >= 0 && offsets[i]! > at) i--;
            if (i < 0) return 'the gap before v';
            return at < offsets[i]! + 4 * sizes[i]! ? names[i] : `the gap after ${names[i]}`;
          };
          for (let f = 0; f < FLAVOURS.length; f++) {
            const label = `${k}x${n}, ${FLAVOURS[f]!.name}`;
            // Every byte of the span, regions and gaps, from the flavour's bits.
            words().set(windowOf(poolOf(f), (end - start) / 4, rng), start / 4);
            /** `call` natively, then in wasm from the same bytes: the span's bits after each, compared word for word; the wasm run's left in place. */
            const bothWays = (what: string, call: (useNative: boolean) => void) => {
              const before = words().slice(start / 4, end / 4);
              call(true);
              const afterNative = words().slice(start / 4, end / 4);
              words().set(before, start / 4);
              call(false);
              const afterWasm = words().slice(start / 4, end / 4);
              const first = afterNative.findIndex((bits, i) => bits !== afterWasm[i]);
              if (first >= 0) {
                const at = start + 4 * first;
                assert.fail(
                  `${what}, ${label}: byte ${at} (${placeOf(at)}) is ${afterNative[first]!.toString(16)} natively, ${afterWasm[first]!.toString(16)} in wasm`,
                );
              }
            };
            bothWays('‖v‖ and g/‖v‖', (useNative) =>
              useNative ? native.weightNormScale(memory.buffer, v, k, n, g, norms, scale) : wasm.weightNormScale(v, k, n, g, norms, scale),
            );
            bothWays('y = s·t + b', (useNative) =>
              useNative ? native.scaleShiftColumns(memory.buffer, tAt, scale, shift, y, m, n) : wasm.scaleShiftColumns(tAt, scale, shift, y, m, n),
            );
            for (const tMean of [mean, 0]) {
              bothWays(`the backward ${tMean ? 'with the batch mean' : 'without the mean'}`, (useNative) =>
                useNative
                  ? native.weightNormBackward(memory.buffer, dy, tAt, tMean, norms, scale, g, m, n, dt, dg, coefficient)
                  : wasm.weightNormBackward(dy, tAt, tMean, norms, scale, g, m, n, dt, dg, coefficient),
              );
            }
            const factor = FACTORS[(k + n + f) % FACTORS.length]!;
            bothWays(`out += ${factor}·c·v`, (useNative) =>
              useNative ? native.addScaledColumns(memory.buffer, v, coefficient, factor, out, k, n) : wasm.addScaledColumns(v, coefficient, factor, out, k, n),
            );
            bothWays(`v += ${factor}·c·v in place`, (useNative) =>
              useNative ? native.addScaledColumns(memory.buffer, v, coefficient, factor, v, k, n) : wasm.addScaledColumns(v, coefficient, factor, v, k, n),
            );
            cases++;
          }
        }
      }
      assert.equal(cases, 10 * 3 * FLAVOURS.length);
    });

    for (const meanOnly of [false, true]) {
      test(`the article’s network with Weight Norm${meanOnly ? ' (mean-only BN)' : ''} trains 200 steps to the same numbers and weights either way`, async (t) => {
        const products = nativeOrSkip(t, KERNELS);
        if (!products) return;
        const data = await loadMnist();
        const { withNative, wasmOnly, calls } = await backendPair(module, products);
        const config = resolveTrainConfig({
          initStd: 0.05,
          learningRate: 0.01,
          activation: 'relu',
          seed: 1,
          steps: 200,
          validateEvery: 100,
          norm: 'wn',
          wnMeanOnly: meanOnly,
        });
        const runs = [];
        for (const kernels of [withNative, wasmOnly]) {
          const net = buildNetwork(kernels, config, 'wn');
          // 784-128-128-128-10: three Weight Norm layers (v 784×128, 128×128, 128×128), then the output layer (128×10, plain).
          assert.deepStrictEqual(
            net.parameters().map(({ name, value }) => [name, value.rows, value.cols]),
            [
              ...[784, 128, 128].flatMap((inputs, i) => [
                [`wn.${i}.v`, inputs, 128],
                [`wn.${i}.g`, 1, 128],
                [`wn.${i}.bias`, 1, 128],
              ]),
              ['dense.3.weight', 128, 10],
              ['dense.3.bias', 1, 10],
            ],
          );
          const numbers = trainNumbers(await train(net, data, config));
          runs.push({ numbers, parameters: net.parameters().map(({ name, value }) => ({ name, bits: Array.from(bitsOfMatrix(value)) })) });
        }
        assert.ok(runs[0]!.numbers.validation.accuracy > 0.5, `the network learned (${runs[0]!.numbers.validation.accuracy})`);
        assert.deepStrictEqual(runs[0]!.numbers, runs[1]!.numbers, 'the same numbers');
        assert.deepStrictEqual(runs[0]!.parameters, runs[1]!.parameters, 'the same weights');
        // Three Weight Norm layers (128 columns each): a backward and a fused update of v every step, and a forward (‖v‖, y = s·t + b) every step and evaluation.
        const layers = 3;
        assert.equal(calls.weightNormBackward, layers * config.steps, `weightNormBackward ran natively in every layer every step: ${calls.weightNormBackward}`);
        assert.equal(calls.addScaledColumns, layers * config.steps, `addScaledColumns ran natively in every layer every step: ${calls.addScaledColumns}`);
        assert.ok(calls.weightNormScale > layers * config.steps, `weightNormScale ran natively: ${calls.weightNormScale}`);
        assert.ok(calls.scaleShiftColumns > layers * config.steps, `scaleShiftColumns ran natively: ${calls.scaleShiftColumns}`);
      });
    }

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const products = nativeOrSkip(t, KERNELS);
      if (!products) return;
      // 2 KiB of "memory": v [2x16] at 0, g [16] at 128, norms at 192, scale at 256, out [2x16] at 320, c at 448;
      // the backward's dy [2x16] at 512, t at 640, mean at 768, dt at 832, dg at 960, coefficient at 1024; y at 1088.
      const memory = new ArrayBuffer(2048);
      const floats = new Float32Array(memory);
      for (let j = 0; j < 16; j++) {
        floats[j] = 3;
        floats[16 + j] = 4;
        floats[32 + j] = 10; // g
        floats[112 + j] = 0.5; // c
        floats[128 + j] = j; // dy row 0
        floats[144 + j] = -j; // dy row 1
        floats[160 + j] = 1; // t row 0
        floats[176 + j] = 3; // t row 1
        floats[192 + j] = 2; // mean
      }
      products.weightNormScale(memory, 0, 2, 16, 128, 192, 256);
      assert.deepStrictEqual(Array.from(floats.subarray(48, 64)), Array(16).fill(5), 'a right call computes ‖v‖');
      assert.deepStrictEqual(Array.from(floats.subarray(64, 80)), Array(16).fill(2), 'and g/‖v‖');
      products.addScaledColumns(memory, 0, 448, 2, 320, 2, 16);
      assert.deepStrictEqual(Array.from(floats.subarray(80, 112)), [...Array(16).fill(3), ...Array(16).fill(4)], 'a right call of addScaledColumns computes');
      products.weightNormBackward(memory, 512, 640, 768, 192, 256, 128, 2, 16, 832, 960, 1024);
      // Σ dy·(t − 2) = j·(−1) + (−j)·1 = −2j; dg = −2j/5; Σdy/2 = 0, dt = 2·dy; c = 10·dg/25.
      assert.deepStrictEqual(
        Array.from(floats.subarray(240, 256)),
        Array.from({ length: 16 }, (_, j) => Math.fround((-2 * j) / 5) + 0),
        'a right backward computes dg',
      );
      assert.deepStrictEqual(
        Array.from(floats.subarray(208, 240)),
        [...Array.from({ length: 16 }, (_, j) => 2 * j), ...Array.from({ length: 16 }, (_, j) => -2 * j)],
        'and dt = s·(dy − mean(dy))',
      );
      // c = g·dg/‖v‖² = 10·dg/25.
      assert.deepStrictEqual(
        Array.from(floats.subarray(256, 272)),
        Array.from({ length: 16 }, (_, j) => Math.fround(Math.fround(10 * Math.fround((-2 * j) / 5)) / 25) + 0),
        'and the coefficient',
      );
      products.scaleShiftColumns(memory, 0, 256, 128, 1088, 2, 16);
      assert.deepStrictEqual(
        Array.from(floats.subarray(272, 304)),
        [...Array(16).fill(16), ...Array(16).fill(18)],
        'a right call of scaleShiftColumns computes',
      );
      const before = new Uint32Array(memory).slice();
      const wrong: Array<[string, () => void]> = [
        ['weightNormScale: v beyond the memory', () => products.weightNormScale(memory, 4096, 2, 16, 128, 192, 256)],
        ['weightNormScale: v running past the end (100 rows)', () => products.weightNormScale(memory, 0, 100, 16, 128, 192, 256)],
        ['weightNormScale: scale past the end', () => products.weightNormScale(memory, 0, 2, 16, 128, 192, 2040)],
        ['weightNormScale: a misaligned offset', () => products.weightNormScale(memory, 0, 2, 16, 130, 192, 256)],
        ['weightNormScale: a negative offset', () => products.weightNormScale(memory, 0, 2, 16, -128, 192, 256)],
        ['weightNormScale: n not a multiple of 16', () => products.weightNormScale(memory, 0, 2, 12, 128, 192, 256)],
        ['weightNormScale: a fractional count', () => products.weightNormScale(memory, 0, 1.5, 16, 128, 192, 256)],
        ['weightNormScale: a typed array for the memory', () => products.weightNormScale(floats as unknown as ArrayBuffer, 0, 2, 16, 128, 192, 256)],
        ['weightNormScale: too few arguments', () => (products.weightNormScale as (...args: unknown[]) => void)(memory, 0, 2, 16, 128, 192)],
        ['weightNormBackward: dy past the end', () => products.weightNormBackward(memory, 2000, 640, 768, 192, 256, 128, 2, 16, 832, 960, 1024)],
        ['weightNormBackward: the mean past the end', () => products.weightNormBackward(memory, 512, 640, 2040, 192, 256, 128, 2, 16, 832, 960, 1024)],
        ['weightNormBackward: dt past the end', () => products.weightNormBackward(memory, 512, 640, 768, 192, 256, 128, 2, 16, 1960, 960, 1024)],
        ['weightNormBackward: coefficient past the end', () => products.weightNormBackward(memory, 512, 640, 768, 192, 256, 128, 2, 16, 832, 960, 2040)],
        ['weightNormBackward: a misaligned offset', () => products.weightNormBackward(memory, 512, 642, 768, 192, 256, 128, 2, 16, 832, 960, 1024)],
        ['weightNormBackward: n not a multiple of 16', () => products.weightNormBackward(memory, 512, 640, 768, 192, 256, 128, 2, 8, 832, 960, 1024)],
        [
          'weightNormBackward: too few arguments',
          () => (products.weightNormBackward as (...args: unknown[]) => void)(memory, 512, 640, 768, 192, 256, 128, 2, 16, 832, 960),
        ],
        ['addScaledColumns: out past the end (60 rows)', () => products.addScaledColumns(memory, 1024, 448, 2, 320, 60, 16)],
        ['addScaledColumns: c past the end', () => products.addScaledColumns(memory, 0, 2040, 2, 320, 2, 16)],
        ['addScaledColumns: n not a multiple of 16', () => products.addScaledColumns(memory, 0, 448, 2, 320, 2, 10)],
        ['addScaledColumns: a misaligned offset', () => products.addScaledColumns(memory, 1, 448, 2, 320, 2, 16)],
        ['scaleShiftColumns: y past the end', () => products.scaleShiftColumns(memory, 0, 256, 128, 2000, 2, 16)],
        ['scaleShiftColumns: n not a multiple of 16', () => products.scaleShiftColumns(memory, 0, 256, 128, 1088, 2, 20)],
        ['scaleShiftColumns: an offset not a u32', () => products.scaleShiftColumns(memory, 2 ** 32, 256, 128, 1088, 2, 16)],
      ];
      for (const [what, call] of wrong) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(new Uint32Array(memory), before, `${what}: nothing written`);
      }
    });
  }
});
