/**
 * @file One suite over every kernel backend (the reference in float32, the wasm backend in each
 * build that validates here): every kernel against the reference computed in float64 on the same
 * float32 inputs, over shapes that hit every tile edge (sizes not multiples of 4, 8 or 16, one
 * row, one column, empty), the sparse paths on ~80% zeros, the accumulate semantics of the *Add
 * kernels, in-place activations, and the slow path for matrices outside wasm memory. Then whole
 * training steps of the MLP on wasm against the JS backend, and what `createKernels` picks.
 *
 * Tolerance: float32 rounding, |x − ref| ≤ 1e-5·|ref| + 1e-5·max|ref| (the FMA build rounds once
 * per multiply-add, the reference twice, and sums run in other orders).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKernels, pickKernelModule } from '../../src/core/backend.js';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { ActivationKind, Kernels } from '../../src/core/kernels.js';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { makeSpec } from '../../src/nn/spec.js';
import { readKernelModules } from '../../src/node/wasm-files.js';
import { assertAllClose, maxAbs } from '../helpers/assert-close.js';
import { backendsUnderTest, wasmBuildsHere } from '../helpers/backends.js';

const RTOL = 1e-5;
const oracle = new JsKernels('float64');
const ACTIVATIONS: ActivationKind[] = ['relu', 'sigmoid', 'tanh', 'identity'];

/** [m, k, n]: the article's layers, then every tile edge the kernels have. */
const MATMUL_SHAPES: Array<[number, number, number]> = [
  [60, 784, 128],
  [60, 128, 128],
  [60, 128, 10],
  [60, 10, 128],
  [1, 1, 1],
  [1, 37, 1],
  [1, 5, 19],
  [19, 5, 1],
  [2, 3, 4],
  [3, 17, 33],
  [5, 31, 7],
  [7, 16, 9],
  [9, 8, 17],
  [13, 29, 36],
  [4, 0, 5],
  [0, 3, 4],
];

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assertAllClose(actual, expected, { rtol: RTOL, atol: RTOL * maxAbs(expected) }, what);
}

/** Random float32 values, N(0, 1), with a fraction of exact zeros. */
function randomValues(rng: Rng, length: number, zeroFraction = 0): Float32Array {
  const values = new Float32Array(length);
  rng.fillNormal(values, 1);
  if (zeroFraction > 0) for (let i = 0; i < length; i++) if (rng.uniform() < zeroFraction) values[i] = 0;
  return values;
}

/** A matrix of `kernels`' own memory holding `values`. */
function place(kernels: Kernels, rows: number, cols: number, values: ArrayLike<number>): Matrix {
  const matrix = kernels.matrix(rows, cols);
  matrix.data.set(values);
  return matrix;
}

/** The float64 oracle's copy of the same float32 values. */
function exact(rows: number, cols: number, values: ArrayLike<number>): Matrix {
  return place(oracle, rows, cols, values);
}

const backends = await backendsUnderTest();

test('the wasm kernel modules are built and at least one validates here (run `npm run build`)', () => {
  const modules = readKernelModules();
  assert.ok(modules.relaxedSimd && modules.simd128, 'build/ lacks a kernel module: run `npm run build`');
  assert.ok(wasmBuildsHere().length > 0, 'no wasm build validates on this Node');
  assert.ok(backends.some((kernels) => kernels.name === 'wasm'));
});

for (const kernels of backends) {
  describe(`kernels on ${kernels.name} (${kernels.variant})`, () => {
    test('matmul, dense and sparse, over every tile edge', () => {
      const rng = new Rng(11);
      for (const [m, k, n] of MATMUL_SHAPES) {
        for (const sparse of [false, true]) {
          const aValues = randomValues(rng, m * k, sparse ? 0.8 : 0.1),
            bValues = randomValues(rng, k * n);
          const out = place(kernels, m, n, new Float32Array(m * n).fill(7)); // overwritten, not added to
          kernels.matmul(place(kernels, m, k, aValues), place(kernels, k, n, bValues), out, sparse);
          const expected = oracle.matrix(m, n);
          oracle.matmul(exact(m, k, aValues), exact(k, n, bValues), expected);
          assertClose(out.data, expected.data, `matmul ${m}x${k}x${n}${sparse ? ' sparse' : ''}`);
        }
      }
    });

    test('matmul with a sparse input that has all-zero rows and a lone nonzero per 16-pixel block', () => {
      const m = 6,
        k = 50,
        n = 20;
      const aValues = new Float32Array(m * k);
      for (let p = 3; p < k; p += 16) aValues[2 * k + p] = 1.5; // row 2 only; rows 0, 1, 3.. stay zero
      aValues[5 * k + k - 1] = -2; // the scalar tail of the last row
      const bValues = randomValues(new Rng(3), k * n);
      const out = kernels.matrix(m, n);
      kernels.matmul(place(kernels, m, k, aValues), place(kernels, k, n, bValues), out, true);
      const expected = oracle.matrix(m, n);
      oracle.matmul(exact(m, k, aValues), exact(k, n, bValues), expected);
      assertClose(out.data, expected.data, 'sparse matmul, structured zeros');
    });

    test('matmulTransposeAAdd adds aᵀ·b into out, dense and sparse', () => {
      const rng = new Rng(12);
      for (const [m, k, n] of MATMUL_SHAPES) {
        for (const sparse of [false, true]) {
          const aValues = randomValues(rng, m * k, sparse ? 0.8 : 0.1),
            bValues = randomValues(rng, m * n);
          const initial = randomValues(rng, k * n);
          const out = place(kernels, k, n, initial);
          kernels.matmulTransposeAAdd(place(kernels, m, k, aValues), place(kernels, m, n, bValues), out, sparse);
          const expected = exact(k, n, initial);
          oracle.matmulTransposeAAdd(exact(m, k, aValues), exact(m, n, bValues), expected);
          assertClose(out.data, expected.data, `matmulTransposeAAdd ${m}x${k}x${n}${sparse ? ' sparse' : ''}`);
        }
      }
    });

    test('matmulTransposeB over every tile edge', () => {
      const rng = new Rng(13);
      for (const [m, n, k] of MATMUL_SHAPES) {
        const aValues = randomValues(rng, m * n),
          bValues = randomValues(rng, k * n);
        const out = place(kernels, m, k, new Float32Array(m * k).fill(7));
        kernels.matmulTransposeB(place(kernels, m, n, aValues), place(kernels, k, n, bValues), out);
        const expected = oracle.matrix(m, k);
        oracle.matmulTransposeB(exact(m, n, aValues), exact(k, n, bValues), expected);
        assertClose(out.data, expected.data, `matmulTransposeB ${m}x${n} · (${k}x${n})ᵀ`);
      }
    });

    test('addRowVector and addColumnSums (which accumulates)', () => {
      const rng = new Rng(14);
      for (const [m, n] of [
        [60, 128],
        [1, 1],
        [3, 5],
        [7, 17],
        [2, 70],
        [5, 0],
      ] as const) {
        const xValues = randomValues(rng, m * n),
          vValues = randomValues(rng, n),
          sumsBefore = randomValues(rng, n);
        const x = place(kernels, m, n, xValues);
        kernels.addRowVector(x, place(kernels, 1, n, vValues));
        const expectedX = exact(m, n, xValues);
        oracle.addRowVector(expectedX, exact(1, n, vValues));
        if (m * n > 0) assertClose(x.data, expectedX.data, `addRowVector ${m}x${n}`);

        const sums = place(kernels, 1, n, sumsBefore);
        kernels.addColumnSums(place(kernels, m, n, xValues), sums);
        const expectedSums = exact(1, n, sumsBefore);
        oracle.addColumnSums(exact(m, n, xValues), expectedSums);
        if (n > 0) assertClose(sums.data, expectedSums.data, `addColumnSums ${m}x${n}`);
      }
    });

    test('activations forward, into another matrix and in place, with NaN, ±0 and large inputs', () => {
      const rng = new Rng(15);
      const special = [Number.NaN, 0, -0, 100, -100, 1e-30, -1e-30, 20, -20];
      for (const kind of ACTIVATIONS) {
        for (const size of [1, 3, 7, 64, 130]) {
          const values = randomValues(rng, size);
          values.set(special.slice(0, size));
          const expected = exact(1, size, values);
          oracle.activationForward(kind, expected, expected);
          const out = kernels.matrix(1, size);
          kernels.activationForward(kind, place(kernels, 1, size, values), out);
          const inPlace = place(kernels, 1, size, values);
          kernels.activationForward(kind, inPlace, inPlace);
          for (const [what, actual] of [
            ['into out', out],
            ['in place', inPlace],
          ] as const) {
            const nanAt = Array.from(expected.data, Number.isNaN);
            assert.deepEqual(Array.from(actual.data, Number.isNaN), nanAt, `${kind} ${what}: NaN where the reference has NaN`);
            assertClose(
              actual.data.map((v, i) => (nanAt[i] ? 0 : v)),
              expected.data.map((v, i) => (nanAt[i] ? 0 : v)),
              `${kind} ${what} (${size})`,
            );
          }
          if (kind === 'relu') assert.ok(!Object.is(out.data[2], -0), 'relu(−0) is +0, as `x > 0 ? x : 0` gives');
        }
      }
    });

    test('activations backward, into another matrix and with dx = dy', () => {
      const rng = new Rng(16);
      for (const kind of ACTIVATIONS) {
        for (const size of [1, 5, 64, 131]) {
          const xValues = randomValues(rng, size),
            dyValues = randomValues(rng, size);
          const y = exact(1, size, xValues);
          oracle.activationForward(kind, y, y);
          const yValues = Float32Array.from(y.data); // y as float32, what a float32 backend keeps
          const expected = exact(1, size, dyValues);
          oracle.activationBackward(kind, exact(1, size, yValues), expected, expected);
          const dx = kernels.matrix(1, size);
          kernels.activationBackward(kind, place(kernels, 1, size, yValues), place(kernels, 1, size, dyValues), dx);
          assertClose(dx.data, expected.data, `${kind}' into dx (${size})`);
          const dy = place(kernels, 1, size, dyValues);
          kernels.activationBackward(kind, place(kernels, 1, size, yValues), dy, dy);
          assertClose(dy.data, expected.data, `${kind}' in place (${size})`);
        }
      }
    });

    test('batchNormForwardTrain: mean, variance, invStd, xhat and y, with and without gamma and beta', () => {
      const rng = new Rng(17);
      for (const [m, n] of [
        [60, 128],
        [2, 1],
        [7, 13],
        [3, 4],
        [60, 10],
        [5, 9],
      ] as const) {
        for (const affine of [false, true]) {
          const xValues = randomValues(rng, m * n).map((v, i) => 3 * v + (i % n) - 2); // per-column offsets
          const gammaValues = randomValues(rng, n),
            betaValues = randomValues(rng, n);
          const outputs = (k: Kernels): Matrix[] => [k.matrix(1, n), k.matrix(1, n), k.matrix(1, n), k.matrix(m, n), k.matrix(m, n)];
          const [mean, variance, invStd, xhat, y] = outputs(kernels) as [Matrix, Matrix, Matrix, Matrix, Matrix];
          kernels.batchNormForwardTrain(
            place(kernels, m, n, xValues),
            1e-3,
            affine ? place(kernels, 1, n, gammaValues) : null,
            affine ? place(kernels, 1, n, betaValues) : null,
            mean,
            variance,
            invStd,
            xhat,
            y,
          );
          const [eMean, eVariance, eInvStd, eXhat, eY] = outputs(oracle) as [Matrix, Matrix, Matrix, Matrix, Matrix];
          oracle.batchNormForwardTrain(
            exact(m, n, xValues),
            1e-3,
            affine ? exact(1, n, gammaValues) : null,
            affine ? exact(1, n, betaValues) : null,
            eMean,
            eVariance,
            eInvStd,
            eXhat,
            eY,
          );
          const what = `BN forward ${m}x${n}${affine ? ' with gamma, beta' : ''}`;
          assertClose(mean.data, eMean.data, `${what}: mean`);
          assertClose(variance.data, eVariance.data, `${what}: variance`);
          assertClose(invStd.data, eInvStd.data, `${what}: invStd`);
          assertClose(xhat.data, eXhat.data, `${what}: xhat`);
          assertClose(y.data, eY.data, `${what}: y`);
        }
      }
    });

    test('batchNormBackward: dx through mean and variance, dGamma and dBeta accumulate', () => {
      const rng = new Rng(18);
      for (const [m, n] of [
        [60, 128],
        [2, 1],
        [7, 13],
        [3, 4],
        [5, 9],
      ] as const) {
        for (const affine of [false, true]) {
          const dyValues = randomValues(rng, m * n),
            xhatValues = randomValues(rng, m * n);
          const invStdValues = randomValues(rng, n).map((v) => 0.5 + Math.abs(v)),
            gammaValues = randomValues(rng, n);
          const dGammaBefore = randomValues(rng, n),
            dBetaBefore = randomValues(rng, n);
          const dx = kernels.matrix(m, n);
          const dGamma = affine ? place(kernels, 1, n, dGammaBefore) : null,
            dBeta = affine ? place(kernels, 1, n, dBetaBefore) : null;
          kernels.batchNormBackward(
            place(kernels, m, n, dyValues),
            place(kernels, m, n, xhatValues),
            place(kernels, 1, n, invStdValues),
            affine ? place(kernels, 1, n, gammaValues) : null,
            dx,
            dGamma,
            dBeta,
          );
          const eDx = oracle.matrix(m, n);
          const eDGamma = exact(1, n, dGammaBefore),
            eDBeta = exact(1, n, dBetaBefore);
          oracle.batchNormBackward(
            exact(m, n, dyValues),
            exact(m, n, xhatValues),
            exact(1, n, invStdValues),
            affine ? exact(1, n, gammaValues) : null,
            eDx,
            affine ? eDGamma : null,
            affine ? eDBeta : null,
          );
          const what = `BN backward ${m}x${n}${affine ? ' with gamma' : ''}`;
          assertClose(dx.data, eDx.data, `${what}: dx`);
          if (dGamma && dBeta) {
            assertClose(dGamma.data, eDGamma.data, `${what}: dGamma`);
            assertClose(dBeta.data, eDBeta.data, `${what}: dBeta`);
          }
        }
      }
    });

    test('scaleShiftColumns and sgdStep', () => {
      const rng = new Rng(19);
      for (const [m, n] of [
        [60, 128],
        [1, 1],
        [3, 7],
        [9, 6],
      ] as const) {
        const xValues = randomValues(rng, m * n),
          scaleValues = randomValues(rng, n),
          shiftValues = randomValues(rng, n);
        const y = kernels.matrix(m, n);
        kernels.scaleShiftColumns(place(kernels, m, n, xValues), place(kernels, 1, n, scaleValues), place(kernels, 1, n, shiftValues), y);
        const eY = oracle.matrix(m, n);
        oracle.scaleShiftColumns(exact(m, n, xValues), exact(1, n, scaleValues), exact(1, n, shiftValues), eY);
        assertClose(y.data, eY.data, `scaleShiftColumns ${m}x${n}`);

        const gradValues = randomValues(rng, m * n);
        const param = place(kernels, m, n, xValues);
        kernels.sgdStep(param, place(kernels, m, n, gradValues), 0.05);
        const eParam = exact(m, n, xValues);
        oracle.sgdStep(eParam, exact(m, n, gradValues), 0.05);
        assertClose(param.data, eParam.data, `sgdStep ${m}x${n}`);
      }
    });

    test('bytesToFloats equals the float32 reference bit for bit, over every vector edge, from its own and from foreign bytes', () => {
      const rng = new Rng(21);
      const reference = new JsKernels();
      // 47,040 = one batch of 60 MNIST images; the rest hit the 16-byte blocks' edges.
      for (const length of [0, 1, 3, 15, 16, 17, 31, 33, 784, 47040]) {
        for (const scale of [Math.fround(1 / 255), 0.3, 1, -2.5e-3]) {
          const values = Uint8Array.from({ length }, () => (rng.uniform() < 0.8 ? 0 : rng.int(256)));
          if (length >= 2) values.set([0, 255]); // the ends of the range
          const expected = reference.matrix(1, length);
          reference.bytesToFloats(values, scale, expected);
          const own = kernels.byteBuffer(length);
          own.data.set(values);
          const out = place(kernels, 1, length, new Float32Array(length).fill(7)); // overwritten
          kernels.bytesToFloats(own.data, scale, out);
          assert.deepEqual(out.data, expected.data, `length ${length}, scale ${scale}, the backend's bytes`);
          const foreign = Matrix.from(1, length, new Float32Array(length));
          kernels.bytesToFloats(values, scale, foreign);
          assert.deepEqual(foreign.data, expected.data, `length ${length}, scale ${scale}, foreign bytes and output`);
        }
      }
      // TensorFlow's pixel values (numpy's float32 product, see the data tests' tensorflowPixel) for all 256 bytes.
      const allBytes = Uint8Array.from({ length: 256 }, (_, byte) => byte);
      const out = kernels.matrix(16, 16);
      kernels.bytesToFloats(allBytes, 1 / 255, out);
      assert.deepEqual(
        Array.from(out.data),
        Array.from(allBytes, (byte) => Math.fround(byte * Math.fround(1 / 255))),
      );
      assert.throws(() => kernels.bytesToFloats(new Uint8Array(5), 1, kernels.matrix(2, 3)), /bytesToFloats: 5 bytes for a 2x3 matrix/);
    });

    test("matrices outside the backend's memory work (copied in and out), in place too", () => {
      const rng = new Rng(20);
      const aValues = randomValues(rng, 6 * 9, 0.8),
        bValues = randomValues(rng, 9 * 5);
      const out = Matrix.from(6, 5, new Float32Array(30));
      kernels.matmul(Matrix.from(6, 9, aValues), Matrix.from(9, 5, bValues), out, true);
      const expected = oracle.matrix(6, 5);
      oracle.matmul(exact(6, 9, aValues), exact(9, 5, bValues), expected);
      assertClose(out.data, expected.data, 'matmul on plain arrays');

      const gradient = Matrix.from(9, 5, bValues);
      kernels.matmulTransposeAAdd(place(kernels, 6, 9, aValues), Matrix.from(6, 5, expected.data), gradient);
      const eGradient = exact(9, 5, bValues);
      oracle.matmulTransposeAAdd(exact(6, 9, aValues), expected, eGradient);
      assertClose(gradient.data, eGradient.data, 'matmulTransposeAAdd into a plain array');

      const x = Matrix.from(1, 4, [-1, 2, -3, 4]);
      kernels.activationForward('relu', x, x);
      assert.deepEqual(Array.from(x.data), [0, 2, 0, 4]);
    });

    if (kernels instanceof WasmKernels) {
      test('a float64 matrix is refused with a sentence that says to use the js backend', () => {
        const x = new Matrix(1, 2, new Float64Array([1, 2]));
        assert.throws(() => kernels.activationForward('relu', x, x), /computes in float32.*use the js backend/);
      });
    }
  });
}

describe('wasm memory growth', () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    test(`matrices stay valid and usable after memory grows (${variant})`, async () => {
      const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant, { initialMemoryBytes: 65536 });
      const before = kernels.memoryBytes;
      const a = place(kernels, 3, 4, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const b = place(kernels, 4, 2, [1, 0, 0, 1, 1, 0, 0, 1]);
      const big = kernels.matrix(1000, 100); // 400 kB: more than the 64 kB reserved
      assert.ok(kernels.memoryBytes > before, 'memory grew');
      assert.equal(a.data.buffer, big.data.buffer, 'old matrices were rebound to the grown memory');
      assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const out = kernels.matrix(3, 2);
      kernels.matmul(a, b, out);
      assert.deepEqual(out.toArrays(), [
        [4, 6],
        [12, 14],
        [20, 22],
      ]);
      assert.ok(
        big.data.every((v) => v === 0),
        'fresh memory is zeroed',
      );
    });

    test(`byte buffers stay valid and usable after memory grows (${variant})`, async () => {
      const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant, { initialMemoryBytes: 65536 });
      const pixels = kernels.byteBuffer(20);
      pixels.data.set(Array.from({ length: 20 }, (_, i) => 10 * i));
      const kept = pixels.data;
      const big = kernels.matrix(1000, 100); // 400 kB: more than the 64 kB reserved
      assert.equal(pixels.data.buffer, big.data.buffer, 'the byte buffer was rebound to the grown memory');
      assert.deepEqual(
        Array.from(pixels.data),
        Array.from({ length: 20 }, (_, i) => 10 * i),
      );
      const out = kernels.matrix(4, 5);
      kernels.bytesToFloats(pixels.data, 0.5, out);
      assert.deepEqual(
        Array.from(out.data),
        Array.from({ length: 20 }, (_, i) => 5 * i),
      );
      assert.throws(() => kernels.bytesToFloats(kept, 0.5, out), /detached.*read byteBuffer\.data at each use/);
    });
  }
});

describe('a training step on wasm matches the JS backend', () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    for (const batchNorm of [false, true]) {
      test(`MLP 784-128-128-128-10 ${batchNorm ? 'with' : 'without'} BN, 5 SGD steps (${variant})`, async () => {
        const wasm = await WasmKernels.create(await compileKernelModule(bytes), variant);
        const js = new JsKernels();
        const spec = makeSpec({ batchNorm });
        const weights = drawInitialWeights(spec, 0.1, new Rng(5));
        const networks = [new MLP(js, spec, weights), new MLP(wasm, spec, weights)] as const;
        const rng = new Rng(6);
        for (let step = 0; step < 5; step++) {
          const pixels = randomValues(rng, 60 * 784, 0.81).map(Math.abs);
          const labels = Array.from({ length: 60 }, () => rng.int(10));
          const losses = networks.map((network) => {
            network.sparseInput = true;
            const x = network.inputFor(60);
            x.data.set(pixels);
            return network.trainStep(x, labels, new Sgd(network.kernels, 0.5));
          });
          assert.ok(Math.abs(losses[1]! - losses[0]!) <= 1e-4 * Math.abs(losses[0]!), `step ${step}: loss ${losses[1]} on wasm, ${losses[0]} on js`);
        }
        const [jsParameters, wasmParameters] = networks.map((network) => network.parameters());
        for (let i = 0; i < jsParameters!.length; i++) {
          const expected = jsParameters![i]!,
            actual = wasmParameters![i]!;
          assert.equal(actual.name, expected.name);
          assertAllClose(actual.value.data, expected.value.data, { rtol: 1e-4, atol: 1e-4 * maxAbs(expected.value.data) }, actual.name);
        }
      });
    }
  }
});

describe('createKernels', () => {
  test('auto picks the wasm backend here, in its best build', async () => {
    const kernels = await createKernels('auto', readKernelModules());
    assert.equal(kernels.name, 'wasm');
    assert.equal(kernels.variant, `wasm ${pickKernelModule(readKernelModules())!.variant}`);
    assert.equal(kernels.variant, 'wasm relaxed-simd', 'Node 20 runs relaxed SIMD once enableRelaxedSimd() set its flag');
  });

  test('auto without modules falls back to the reference; wasm without them says to build', async () => {
    assert.equal((await createKernels('auto', null)).name, 'js');
    await assert.rejects(createKernels('wasm', null), /no kernel module was found; run `npm run build`/);
    await assert.rejects(createKernels('wasm', { relaxedSimd: null, simd128: new Uint8Array([0, 1, 2]) }), /cannot run WebAssembly SIMD.*--backend js/);
  });

  test('js means the reference whatever modules are given', async () => {
    assert.equal((await createKernels('js', readKernelModules())).name, 'js');
  });
});
