/**
 * @file The native Group Norm kernels (native/group-norm.c: AVX-512F, or AVX2 with FMA, on the wasm
 * memory) change no bit: two backends from one compiled relaxed-SIMD module, one with the native
 * kernels and one without, run groupNormForward and groupNormBackward on the same inputs and must
 * give the same float32 bits in every output (1/σ, x̂, y, dx, and the dγ and dβ added to), signed
 * zeros included. Shapes the native kernels take: Group Norm's default (32 groups of 4 at 128
 * units: four whole groups to a 512-bit vector, two to a 256-bit one) and other counts of groups of
 * 4 that are a multiple of 4 (4, 12, 20: sixteen or eight groups go at once, in blocks that span
 * rows or end inside one), Layer Norm and RMSNorm (one group, centered or not) at 128, 784 and 16
 * units, and groups a multiple of 16 wide (16, 32, 48, 128: four groups' vectors transposed by
 * quarters, or two side by side by halves); over batches of 1 to 61 rows, with and without γ and β,
 * centered or not; on ordinary values, on −0, subnormals, ±∞, values whose squares overflow, and
 * NaN, on tiny values whose squares are subnormal, and on groups of one value repeated (σ² = 0; eps
 * 0 makes 1/σ infinite). Other shapes (groups of 4 in counts not a multiple of 4, groups of 8, 12
 * or 36, and sizes not a multiple of 4) stay in wasm: the native kernels are not called there, and
 * the backend gives the same bits as without them.
 *
 * NaN: the inputs' NaN is x86's default one, the NaN their arithmetic makes (∞ − ∞, 0·∞), so that
 * every NaN of the forward pass has those bits on both backends, whichever operand a fused
 * multiply-add keeps when two NaNs meet (V8 leaves that to its register allocator). The backward
 * pass negates 1/σ (dx's coefficients are −1/σ·Σ…), so where a group's 1/σ is NaN, dx's fused
 * multiply-adds meet NaNs of both signs: there dx must be NaN on both backends, of either sign.
 *
 * Not vacuous: the native kernels are wrapped to count their calls, each case checks that it
 * reached them exactly where the backend routes it, and the sweep checks that −0, subnormals, ±∞
 * and NaN reached every output. Then model 1 with Group Norm (default), Layer Norm and RMSNorm
 * trains to the same numbers and weights either way, and a wrong call throws a RangeError. Called
 * directly on regions filled to their last float, with sentinel words after each, where a call's
 * last block of instances is short, they write the wasm kernels' bits and nothing past a region.
 * Where the native kernels cannot run here (not built, neither AVX-512F nor AVX2, BNLAB_NATIVE=off)
 * the tests are skipped, saying why; built and yet not loaded fails.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { type NativeKernels, nativeGroupNormTakes } from '../../src/core/wasm/native-products.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { NormKind } from '../../src/nn/spec.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { bitsOf, DEFAULT_NAN, float32Bits, nothingSeen, type Seen, tally } from '../helpers/float-bits.js';
import { layOutRegions, nativeBackendPair, nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';

const KERNELS = ['groupNormForward', 'groupNormBackward'] as const;

/** A native backend counting Group Norm's two kernels' calls, and a wasm-only one. */
const backendPair = (module: WebAssembly.Module, products: NativeKernels) => nativeBackendPair(module, products, KERNELS);

const isNaNBits = (b: number) => (b & 0x7fffffff) > 0x7f800000;

const signed = (rng: Rng, x: number) => (rng.uniform() < 0.5 ? -x : x);

interface Flavour {
  name: string;
  /** The values of one group of `s` units of x or dy, or of γ or β (`s` = n), as float32 bits. */
  group(rng: Rng, s: number): number[];
}

const ordinary = (rng: Rng) => bitsOf(rng.normal() * 2 + 0.5);
const each = (s: number, value: () => number) => Array.from({ length: s }, value);

/** A finite value at the arithmetic's edges: ±0, subnormals, values whose squares overflow (σ² = ∞: 1/σ = 0) or whose sums do. */
function edge(rng: Rng): number {
  const u = rng.uniform();
  if (u < 0.06) return bitsOf(signed(rng, 3e38 * rng.uniform()));
  if (u < 0.12) return bitsOf(signed(rng, 1e19 * (1 + rng.uniform())));
  if (u < 0.25) return bitsOf(signed(rng, 0));
  if (u < 0.35) return bitsOf(signed(rng, rng.uniform() < 0.5 ? 1e-40 : (1 + rng.int(7)) * 2 ** -149));
  return ordinary(rng);
}

const FLAVOURS: Flavour[] = [
  { name: 'ordinary values', group: (rng, s) => each(s, () => ordinary(rng)) },
  {
    // Edge values everywhere; in a fifth of the groups one or two ±∞ (∞ − ∞ = NaN in the sums) or NaNs among them.
    name: 'special values',
    group: (rng, s) => {
      const values = each(s, () => edge(rng));
      if (rng.uniform() < 0.2) {
        for (let k = 0; k < 1 + rng.int(2); k++) values[rng.int(s)] = rng.uniform() < 0.4 ? DEFAULT_NAN : bitsOf(signed(rng, Number.POSITIVE_INFINITY));
      }
      return values;
    },
  },
  {
    // ±m·2^e, e from −80 to −55: sums exact, squares subnormal, rounded at the subnormals' spacing, or 0 (with eps 0: 1/σ = ∞).
    name: 'tiny values',
    group: (rng, s) => each(s, () => bitsOf(signed(rng, (1 + rng.int(7)) * 2 ** (-80 + rng.int(26))))),
  },
  {
    // A third of the groups one value repeated: σ² = 0 exactly (x̂ = ±0, or NaN with eps 0 and 1/σ = ∞).
    name: 'constant groups',
    group: (rng, s) => {
      if (rng.uniform() < 0.33) return Array(s).fill(bitsOf(signed(rng, rng.int(3))));
      return each(s, () => bitsOf(rng.normal() + 0.25));
    },
  },
];

interface Shape {
  n: number;
  groups: number;
}

/** Shapes the native kernels take: groups of 4 in a count that is a multiple of 4, or groups a multiple of 16 wide. */
const TAKEN: Shape[] = [
  { n: 128, groups: 32 }, // Group Norm's default: four whole groups to a vector
  { n: 16, groups: 4 }, // one vector a row: a block's sixteen groups span four rows
  { n: 48, groups: 12 }, // three vectors a row: blocks end inside rows
  { n: 80, groups: 20 }, // five vectors a row
  { n: 128, groups: 1 }, // Layer Norm, RMSNorm
  { n: 784, groups: 1 },
  { n: 16, groups: 1 },
  { n: 128, groups: 8 }, // groups of 16
  { n: 128, groups: 4 }, // 32
  { n: 96, groups: 2 }, // 48
  { n: 256, groups: 2 }, // 128
];
/** Shapes the wasm kernels run. */
const NOT_TAKEN: Shape[] = [
  { n: 20, groups: 5 }, // groups of 4, five a row (the wasm kernel takes the fifth alone)
  { n: 8, groups: 2 },
  { n: 4, groups: 1 },
  { n: 128, groups: 16 }, // groups of 8
  { n: 60, groups: 5 }, // 12
  { n: 36, groups: 1 }, // 36
  { n: 128, groups: 64 }, // groups of 2
  { n: 30, groups: 10 }, // 3
  { n: 10, groups: 1 }, // Layer Norm over 10 units
  { n: 130, groups: 1 },
];
const ROWS = [1, 3, 16, 60, 61];

type Affine = 'none' | 'gamma' | 'gamma and beta';
const VARIANTS: Array<{ centered: boolean; affine: Affine }> = [
  { centered: true, affine: 'gamma and beta' }, // Group Norm, Layer Norm
  { centered: false, affine: 'gamma' }, // RMSNorm
  { centered: true, affine: 'none' },
  { centered: false, affine: 'none' },
  { centered: true, affine: 'gamma' },
  { centered: false, affine: 'gamma and beta' },
];
const EPSILONS = [1e-5, 1e-3, 0];

const OUTPUTS = ['1/σ', 'x̂', 'y', 'dx', 'dγ', 'dβ'] as const;
type Output = (typeof OUTPUTS)[number];

/** One case's inputs, as bits: x, dy [m×n], γ, β, and the dγ and dβ added to [n]. */
interface Inputs {
  x: Uint32Array;
  dy: Uint32Array;
  gamma: Uint32Array;
  beta: Uint32Array;
  dGamma: Uint32Array;
  dBeta: Uint32Array;
}

function drawInputs(rng: Rng, flavour: Flavour, m: number, { n, groups }: Shape): Inputs {
  const s = n / groups;
  const rows = () => Uint32Array.from(Array.from({ length: m * groups }, () => flavour.group(rng, s)).flat());
  // dγ and dβ from ±0 in places: −0 + −0 and −0 + dy·x̂ = −0 reach them.
  const start = () => Uint32Array.from({ length: n }, () => bitsOf(rng.uniform() < 0.3 ? signed(rng, 0) : rng.normal()));
  return {
    x: rows(),
    dy: rows(),
    gamma: Uint32Array.from(flavour.group(rng, n)),
    beta: Uint32Array.from(flavour.group(rng, n)),
    dGamma: start(),
    dBeta: start(),
  };
}

const floats = (bits: Uint32Array) => new Float32Array(bits.buffer, bits.byteOffset, bits.length);

/** The forward and backward pass of one case on one backend: every output's bits. */
function run(
  kernels: WasmKernels,
  inputs: Inputs,
  m: number,
  { n, groups }: Shape,
  centered: boolean,
  affine: Affine,
  eps: number,
): Record<Output, Uint32Array> {
  const placed = (rows: number, cols: number, bits: Uint32Array) => {
    const matrix = kernels.matrix(rows, cols);
    matrix.data.set(floats(bits));
    return matrix;
  };
  const x = placed(m, n, inputs.x),
    dy = placed(m, n, inputs.dy);
  const gamma = affine === 'none' ? null : placed(1, n, inputs.gamma),
    beta = affine === 'gamma and beta' ? placed(1, n, inputs.beta) : null;
  const dGamma = gamma ? placed(1, n, inputs.dGamma) : null,
    dBeta = beta ? placed(1, n, inputs.dBeta) : null;
  const invStd = kernels.matrix(m, groups),
    xhat = kernels.matrix(m, n),
    y = kernels.matrix(m, n),
    dx = kernels.matrix(m, n);
  kernels.groupNormForward(x, groups, centered, eps, gamma, beta, invStd, xhat, y);
  kernels.groupNormBackward(dy, xhat, invStd, groups, centered, gamma, dx, dGamma, dBeta);
  const bits = (matrix: Matrix | null) => (matrix ? float32Bits(matrix.data) : new Uint32Array(0));
  return { '1/σ': bits(invStd), x̂: bits(xhat), y: bits(y), dx: bits(dx), dγ: bits(dGamma), dβ: bits(dBeta) };
}

describe('native Group Norm kernels: the wasm kernels’ bits', async () => {
  const [module] = await relaxedSimdModules();
  if (!module) return;

  test('the shapes the backend routes to the native kernels: groups of 4 in fours, or a multiple of 16 wide', () => {
    for (const { n, groups } of TAKEN) assert.ok(nativeGroupNormTakes(n, groups), `${groups} groups of ${n} units`);
    for (const { n, groups } of NOT_TAKEN) assert.ok(!nativeGroupNormTakes(n, groups), `${groups} groups of ${n} units`);
  });

  test('forward and backward over shapes, batches, γ/β, centered or not, and the arithmetic’s edges: the same bits', async (t) => {
    const products = nativeOrSkip(t, KERNELS);
    if (!products) return;
    const pair = await backendPair(module, products);
    const rng = new Rng(4242);
    const seen = Object.fromEntries(OUTPUTS.map((output) => [output, nothingSeen()])) as Record<Output, Seen>;
    let nanGroups = 0;
    let cases = 0;
    for (const shape of [...TAKEN, ...NOT_TAKEN]) {
      const taken = nativeGroupNormTakes(shape.n, shape.groups),
        s = shape.n / shape.groups;
      for (const m of ROWS) {
        for (const [v, { centered, affine }] of VARIANTS.entries()) {
          // Every (rows, variant) meets one flavour and one eps; every shape meets them all.
          const flavour = FLAVOURS[(v + ROWS.indexOf(m)) % FLAVOURS.length]!;
          const eps = EPSILONS[(v + 2 * ROWS.indexOf(m)) % EPSILONS.length]!;
          const label = `${shape.groups} groups of ${s} (n ${shape.n}), ${m} rows, ${centered ? 'centered' : 'not centered'}, ${affine}, eps ${eps}, ${flavour.name}`;
          const inputs = drawInputs(rng, flavour, m, shape);
          const before = { ...pair.calls };
          const fromNative = run(pair.withNative, inputs, m, shape, centered, affine, eps);
          const fromWasm = run(pair.wasmOnly, inputs, m, shape, centered, affine, eps);
          assert.deepStrictEqual(
            { forward: pair.calls.groupNormForward - before.groupNormForward, backward: pair.calls.groupNormBackward - before.groupNormBackward },
            taken ? { forward: 1, backward: 1 } : { forward: 0, backward: 0 },
            `${label}: the native kernels ran ${taken ? 'once each' : 'not at all'}`,
          );
          // dx where a group's 1/σ is NaN: NaN for NaN (NaNs of both signs meet in its multiply-adds).
          const invStd = fromWasm['1/σ'];
          const nanDx = (i: number) => isNaNBits(invStd[Math.floor(i / shape.n) * shape.groups + Math.floor((i % shape.n) / s)]!);
          for (const output of OUTPUTS) {
            let native = fromNative[output],
              wasm = fromWasm[output];
            if (output === 'dx') {
              const loose = (bits: Uint32Array) => bits.map((b, i) => (nanDx(i) && isNaNBits(b) ? DEFAULT_NAN : b));
              native = loose(native);
              wasm = loose(wasm);
            }
            if (!arraysEqual(native, wasm)) {
              const i = native.findIndex((b, j) => b !== wasm[j]);
              assert.fail(
                `${output}, ${label}: ${native.filter((b, j) => b !== wasm[j]).length} differ, first at ${i}: native ${hex(native[i]!)}, wasm ${hex(wasm[i]!)}`,
              );
            }
            if (taken) tally(seen[output], fromNative[output]);
          }
          if (taken) nanGroups += invStd.filter(isNaNBits).length;
          cases++;
        }
      }
    }
    assert.equal(cases, (TAKEN.length + NOT_TAKEN.length) * ROWS.length * VARIANTS.length);
    for (const output of OUTPUTS) {
      for (const [what, count] of Object.entries(seen[output])) {
        // 1/σ is never −0 nor subnormal (1/√(σ² + eps) ≥ 0, 0 where σ² = ∞) and infinite only with eps 0.
        if (output === '1/σ' && (what === 'negativeZero' || what === 'subnormal')) continue;
        assert.ok(count > 10, `${what} reached ${output}: ${count}`);
      }
    }
    assert.ok(nanGroups > 20, `groups whose 1/σ is NaN: ${nanGroups}`);
  });

  test('NaNs of other bits meeting: the wasm kernels’ NaN where their operand order says which, else NaN where theirs is', async (t) => {
    const products = nativeOrSkip(t, KERNELS);
    if (!products) return;
    const pair = await backendPair(module, products);
    const rng = new Rng(77);
    // Quiet NaNs of five payloads (and both signs), ±∞ (∞ − ∞: x86's NaN). Sums, the fold, x − μ, (x − μ)·(1/σ), γ·x̂ + β and
    // dβ + dy keep their first operand's NaN, in the wasm kernels as here; which NaN a fused multiply-add keeps (Σ(x − μ)²,
    // so 1/σ; dγ; dx) V8 leaves to its register allocator, so there NaN for NaN. So too x̂ and y where the wasm kernel
    // takes groups one at a time (fewer than 4 to a row, or the last of a count not a multiple of 4): its fold ends in a
    // scalar add, (l0 + l2) + (l1 + l3), whose operands V8's optimizing tier swaps (its baseline code keeps them, as the
    // vector adds of four groups at once do, and this file's); μ's NaN is the one of the two that the tier keeps.
    const nans = [0x7fc00001, 0xffc00002, 0x7fc00003, 0x7fe00000, 0xffd00000];
    const nanOrInf = () => (rng.uniform() < 0.75 ? nans[rng.int(nans.length)]! : bitsOf(signed(rng, Number.POSITIVE_INFINITY)));
    const flavour: Flavour = {
      name: 'NaNs of other bits',
      group: (rng, s) => {
        const values = each(s, () => (rng.uniform() < 0.1 ? nanOrInf() : ordinary(rng)));
        if (rng.uniform() < 0.5) for (let k = 0; k < 1 + rng.int(3); k++) values[rng.int(s)] = nanOrInf();
        return values;
      },
    };
    let payloads = 0;
    for (const shape of TAKEN) {
      for (const m of [2, 17]) {
        for (const { centered, affine } of VARIANTS) {
          const inputs = drawInputs(rng, flavour, m, shape);
          inputs.dBeta = Uint32Array.from(inputs.dBeta, (b) => (rng.uniform() < 0.2 ? nans[rng.int(nans.length)]! : b));
          const label = `${shape.groups} groups of ${shape.n / shape.groups}, ${m} rows, ${centered ? 'centered' : 'not centered'}, ${affine}`;
          const fromNative = run(pair.withNative, inputs, m, shape, centered, affine, 1e-5);
          const fromWasm = run(pair.wasmOnly, inputs, m, shape, centered, affine, 1e-5);
          const fourAtOnce = shape.groups % 4 === 0;
          for (const output of OUTPUTS) {
            const exact = output === 'dβ' || ((output === 'x̂' || output === 'y') && fourAtOnce);
            const seen = (bits: Uint32Array) => (exact ? bits : bits.map((b) => (isNaNBits(b) ? DEFAULT_NAN : b)));
            const native = seen(fromNative[output]),
              wasm = seen(fromWasm[output]);
            if (!arraysEqual(native, wasm)) {
              const i = native.findIndex((b, j) => b !== wasm[j]);
              assert.fail(
                `${output}, ${label}: ${native.filter((b, j) => b !== wasm[j]).length} differ, first at ${i}: native ${hex(native[i]!)}, wasm ${hex(wasm[i]!)}`,
              );
            }
            if (exact) payloads += fromWasm[output].filter((b) => isNaNBits(b) && b !== DEFAULT_NAN).length;
          }
        }
      }
    }
    assert.ok(payloads > 1000, `NaNs of the inputs' payloads reached x̂, y and dβ: ${payloads}`);
  });

  test('regions filled to their last float, the last block of instances short: the wasm kernels’ bits, and not a word past a region', async (t) => {
    const products = nativeOrSkip(t, KERNELS);
    if (!products) return;
    // Both kernels on one memory, each region followed by sentinel words (16 or more): a vector stored whole where
    // its last lanes lie past the region (1/σ of a block of instances cut short, x̂, y or dx of a vector past the rows) lands
    // on them. Instances m·groups: not a multiple of 8 or 16 (the last block short: 4, 12, 36, 68, 100; 1, 5, 9, 61, 6), one
    // block or chunk of blocks exactly (64, 24), and shapes from one vector a row to 784 floats.
    const memory = new WebAssembly.Memory({ initial: 64 });
    const wasm = await instantiateKernelModule(module, memory);
    const base = wasm.heapBase() + 64;
    const SENTINEL = 0xdeadbeef;
    const words = (at: number, count: number) => new Uint32Array(memory.buffer, at, count);
    const rng = new Rng(99);
    const SHAPES: Array<[Shape, number]> = [
      [{ n: 16, groups: 4 }, 1],
      [{ n: 16, groups: 4 }, 3],
      [{ n: 16, groups: 4 }, 17],
      [{ n: 48, groups: 12 }, 3],
      [{ n: 128, groups: 32 }, 2],
      [{ n: 80, groups: 20 }, 5],
      [{ n: 16, groups: 1 }, 1],
      [{ n: 16, groups: 1 }, 5],
      [{ n: 16, groups: 1 }, 9],
      [{ n: 128, groups: 1 }, 61],
      [{ n: 96, groups: 2 }, 3],
      [{ n: 128, groups: 8 }, 3],
      [{ n: 784, groups: 1 }, 3],
    ];
    let cases = 0;
    for (const [shape, m] of SHAPES) {
      const { n, groups } = shape;
      assert.ok(nativeGroupNormTakes(n, groups));
      for (const { centered, affine } of VARIANTS) {
        for (const flavour of [FLAVOURS[0]!, FLAVOURS[3]!]) {
          const sizes = [m * n, n, n, m * groups, m * n, m * n, m * n, m * n, n, n] as const;
          const { offsets, end } = layOutRegions(base, sizes);
          const [x, gamma, beta, invStd, xhat, y, dy, dx, dGamma, dBeta] = offsets;
          const inputs = drawInputs(rng, flavour, m, shape);
          words(base, (end - base) / 4).fill(SENTINEL);
          for (const [at, bits] of [
            [x, inputs.x],
            [gamma, inputs.gamma],
            [beta, inputs.beta],
            [dy, inputs.dy],
            [dGamma, inputs.dGamma],
            [dBeta, inputs.dBeta],
          ] as const) {
            words(at, bits.length).set(bits);
          }
          const [g, b] = [affine === 'none' ? 0 : gamma, affine === 'gamma and beta' ? beta : 0];
          const [dg, db] = [g ? dGamma : 0, b ? dBeta : 0];
          const c = centered ? 1 : 0;
          const label = `${groups} groups of ${n / groups}, ${m} rows, ${centered ? 'centered' : 'not centered'}, ${affine}, ${flavour.name}`;
          const start = words(base, (end - base) / 4).slice();
          products.groupNormForward(memory.buffer, x, m, n, groups, c, 1e-5, g, b, invStd, xhat, y);
          products.groupNormBackward(memory.buffer, dy, xhat, invStd, groups, c, g, m, n, dx, dg, db);
          const fromNative = words(base, (end - base) / 4).slice();
          words(base, (end - base) / 4).set(start);
          wasm.groupNormForward(x, m, n, groups, c, 1e-5, g, b, invStd, xhat, y);
          wasm.groupNormBackward(dy, xhat, invStd, groups, c, g, m, n, dx, dg, db);
          const fromWasm = words(base, (end - base) / 4);
          sizes.forEach((size, r) => {
            const gap = fromNative.subarray((offsets[r] - base) / 4 + size, ((offsets[r + 1] ?? end) - base) / 4);
            assert.ok(gap.length >= 16 && gap.every((bits) => bits === SENTINEL), `${label}: nothing written past region ${r}`);
          });
          if (!arraysEqual(fromNative, fromWasm)) {
            const i = fromNative.findIndex((bits, j) => bits !== fromWasm[j]);
            const differ = fromNative.filter((bits, j) => bits !== fromWasm[j]).length;
            assert.fail(`${label}: ${differ} words differ, first at ${i}: native ${hex(fromNative[i]!)}, wasm ${hex(fromWasm[i]!)}`);
          }
          cases++;
        }
      }
    }
    assert.equal(cases, SHAPES.length * VARIANTS.length * 2);
  });

  /** Model 1 with `norm` trained on both backends: the same numbers and weights (asserted), and the native calls. */
  const trainBothWays = async (products: NativeKernels, norm: NormKind, normGroups: number, hiddenSizes = [128, 128, 128]) => {
    const data = await loadMnist();
    const { withNative, wasmOnly, calls } = await backendPair(module, products);
    const config = resolveTrainConfig({
      initStd: 0.05,
      learningRate: 0.01,
      activation: 'relu',
      seed: 1,
      steps: 200,
      validateEvery: 100,
      norm,
      normGroups,
      hiddenSizes,
    });
    const runs = [];
    for (const kernels of [withNative, wasmOnly]) {
      const net = buildNetwork(kernels, config, norm);
      const numbers = trainNumbers(await train(net, data, config));
      runs.push({ numbers, parameters: net.parameters().map(({ name, value }) => ({ name, bits: Array.from(float32Bits(value.data)) })) });
    }
    assert.ok(runs[0]!.numbers.validation.accuracy > 0.2, `${norm}: the network learned (${runs[0]!.numbers.validation.accuracy})`);
    assert.deepStrictEqual(runs[0]!.numbers, runs[1]!.numbers, `${norm}: the same numbers`);
    assert.deepStrictEqual(runs[0]!.parameters, runs[1]!.parameters, `${norm}: the same weights`);
    return { calls, steps: config.steps, layers: config.hiddenSizes.length };
  };

  for (const [norm, normGroups, what] of [
    ['gn', 32, 'Group Norm (32 groups of 4)'],
    ['ln', 32, 'Layer Norm'],
    ['rms', 32, 'RMSNorm'],
  ] as const) {
    test(`model 1 with ${what} trains to the same numbers and weights either way, its norms native`, async (t) => {
      const products = nativeOrSkip(t, KERNELS);
      if (!products) return;
      const { calls, steps, layers } = await trainBothWays(products, norm, normGroups);
      assert.ok(calls.groupNormBackward === layers * steps, `every hidden layer's backward ran natively: ${calls.groupNormBackward} calls`);
      assert.ok(calls.groupNormForward >= layers * steps, `every hidden layer's forward ran natively (evaluation too): ${calls.groupNormForward} calls`);
    });
  }

  test('model 1 (120 units a layer) with Group Norm in groups of 5 trains in wasm alone', async (t) => {
    const products = nativeOrSkip(t, KERNELS);
    if (!products) return;
    const { calls } = await trainBothWays(products, 'gn', 24, [120, 120, 120]);
    assert.deepStrictEqual(calls, { groupNormForward: 0, groupNormBackward: 0 });
  });

  test('a wrong call throws a RangeError and writes nothing', (t) => {
    const products = nativeOrSkip(t, KERNELS);
    if (!products) return;
    // 1 KiB of "memory" (byte offsets): x [2×16] at 64, γ [16] at 192, β at 256, invStd [2] at 320, x̂ at 384, y at 512,
    // dy at 640, dx at 768, dγ at 896, dβ at 960 (to the end).
    const memory = new ArrayBuffer(1024);
    const f = new Float32Array(memory);
    const at = (byte: number, length: number) => f.subarray(byte / 4, byte / 4 + length);
    at(64, 32).set([...Array.from({ length: 16 }, (_, j) => j + 1), ...Array(16).fill(-1)]);
    at(192, 16).set(Array.from({ length: 16 }, (_, j) => (j === 1 ? -1 : 1)));
    at(256, 16).set(Array.from({ length: 16 }, (_, j) => (j === 2 ? 0.5 : 0)));
    at(640, 16).set(Array.from({ length: 16 }, (_, j) => (j === 0 ? 1 : 0)));
    products.groupNormForward(memory, 64, 2, 16, 1, 1, 0, 192, 256, 320, 384, 512);
    // Row 0: μ 8.5, σ² 340/16 = 21.25; row 1: σ² 0, 1/σ = 1/√0 = ∞ and x̂ = 0·∞ = NaN.
    const inv = Math.fround(1 / Math.fround(Math.sqrt(21.25)));
    assert.deepStrictEqual(Array.from(at(320, 2)), [inv, Number.POSITIVE_INFINITY], 'a right call computes 1/σ');
    const xhat = Array.from({ length: 16 }, (_, j) => Math.fround((j + 1 - 8.5) * inv));
    assert.deepStrictEqual(Array.from(at(384, 16)), xhat, 'and x̂');
    assert.deepStrictEqual(
      Array.from(at(512, 16)),
      xhat.map((h, j) => (j === 1 ? -h : j === 2 ? Math.fround(h + 0.5) : h)),
      'and y = γ·x̂ + β',
    );
    assert.ok(at(384 + 64, 16).every(Number.isNaN), 'x̂ of a row whose σ is 0 with eps 0: NaN');
    products.groupNormBackward(memory, 640, 384, 320, 1, 0, 192, 1, 16, 768, 896, 960);
    assert.deepStrictEqual(Array.from(at(896, 16)), [xhat[0]!, ...Array(15).fill(0)], 'a right call of the backward adds dy·x̂ to dγ');
    assert.deepStrictEqual(Array.from(at(960, 16)), [1, ...Array(15).fill(0)], 'and dy to dβ');
    const before = float32Bits(f);
    type Call = (memory: ArrayBuffer, ...rest: number[]) => void;
    const forward =
      (...args: number[]) =>
      () =>
        (products.groupNormForward as Call)(memory, ...args);
    const backward =
      (...args: number[]) =>
      () =>
        (products.groupNormBackward as Call)(memory, ...args);
    const wrong: Array<[string, () => void]> = [
      ['groups of 8', forward(64, 2, 16, 2, 1, 0, 192, 256, 320, 384, 512)],
      ['groups of 4, two to a row', forward(64, 2, 8, 2, 1, 0, 192, 256, 320, 384, 512)],
      ['groups of 4, one to a row', forward(64, 2, 4, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['groups of 3', forward(64, 2, 6, 2, 1, 0, 192, 256, 320, 384, 512)],
      ['groups that do not divide n', forward(64, 1, 16, 3, 1, 0, 192, 256, 320, 384, 512)],
      ['no groups', forward(64, 1, 16, 0, 1, 0, 192, 256, 320, 384, 512)],
      ['no units', forward(64, 1, 0, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['x beyond the memory', forward(2048, 2, 16, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['y running past the end', forward(64, 2, 16, 1, 1, 0, 192, 256, 320, 384, 960)],
      ['γ beyond the end', forward(64, 2, 16, 1, 1, 0, 1024, 256, 320, 384, 512)],
      ['invStd running past the end', forward(64, 2, 16, 1, 1, 0, 192, 256, 1020, 384, 512)],
      ['a misaligned offset', forward(66, 2, 16, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['a negative offset', forward(-4, 2, 16, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['a typed array for the memory', () => products.groupNormForward(f as unknown as ArrayBuffer, 64, 2, 16, 1, 1, 0, 192, 256, 320, 384, 512)],
      ['too few arguments', () => (products.groupNormForward as (...args: unknown[]) => void)(memory, 64, 2, 16, 1, 1, 0, 192, 256, 320, 384)],
      ['backward: groups of 8', backward(640, 384, 320, 2, 1, 192, 1, 16, 768, 896, 960)],
      ['backward: dβ beyond the end', backward(640, 384, 320, 1, 1, 192, 1, 16, 768, 896, 1024)],
      ['backward: dx running past the end', backward(640, 384, 320, 1, 1, 192, 1, 16, 1000, 896, 960)],
      ['backward: a misaligned offset', backward(640, 386, 320, 1, 1, 192, 1, 16, 768, 896, 960)],
      ['backward: too few arguments', () => (products.groupNormBackward as (...args: unknown[]) => void)(memory, 640, 384, 320, 1, 1, 192, 1, 16, 768, 896)],
    ];
    for (const [what, call] of wrong) {
      assert.throws(call, RangeError, what);
      assert.deepStrictEqual(float32Bits(f), before, `${what}: nothing written`);
    }
  });
});

function arraysEqual(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const hex = (b: number) => b.toString(16).padStart(8, '0');
