/**
 * @file The native BatchNorm kernels (native/batch-norm.c) give the wasm kernels' bits
 * (assembly/batch-norm.ts), run side by side on one wasm memory: the training forward pass (mean,
 * variance, invStd, xhat, y) and the backward pass (dx, dGamma, dBeta) over batches of 1, 2, 7, 60
 * and 1,000 rows and 16 to 784 columns, for activations of ordinary size, columns far from zero
 * with a small spread (the two-pass correction at work), constant columns (a variance that rounds
 * below 0 and is clamped), subnormal and huge values, and a column holding ∞ or NaN; with γ and β
 * or without, two eps, in place (y over x, dx over dy) and not. A NaN output is compared as NaN
 * (which NaN the wasm max leaves is V8's choice); every other output bit for bit. The backend runs
 * them where the width is a multiple of 16 and the wasm kernels elsewhere (counted); a wrong call
 * throws a RangeError and writes nothing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { layOutRegions, nativeBackendPair, nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

const METHODS = ['batchNormForwardTrain', 'batchNormBackward'] as const;

/** A column's values by kind: ordinary, far from zero with a small spread, constant, tiny and huge, or with ∞/NaN. */
function columnValues(rng: Rng, kind: number, m: number): number[] {
  const values = Array.from({ length: m }, () => rng.normal());
  switch (kind % 6) {
    case 1:
      return values.map((v) => 1e4 + 1e-2 * v);
    case 2:
      return values.map(() => 0.1);
    case 3:
      return values.map((v) => v * 2 ** -(126 + rng.int(20)));
    case 4:
      return values.map((v) => v * 1e18);
    case 5:
      return values.map((v, i) => (i === m >> 1 ? [Infinity, NaN, -Infinity][rng.int(3)]! : v));
    default:
      return values.map((v) => 3 * v + 0.5);
  }
}

/** Floats as comparable values: a NaN as 'NaN', every other float as its bits. */
function bitsOrNaN(floats: Float32Array): Array<number | string> {
  const bits = new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
  return Array.from(floats, (x, i) => (Number.isNaN(x) ? 'NaN' : bits[i]!));
}

describe('native BatchNorm kernels: the bits of the relaxed-SIMD kernels', async () => {
  for (const module of await relaxedSimdModules()) {
    const memory = new WebAssembly.Memory({ initial: 256 });
    const wasm = await instantiateKernelModule(module, memory);
    const base = wasm.heapBase() + 64;
    const layout = <const S extends readonly number[]>(sizes: S) => layOutRegions(base, sizes);
    const floats = (at: number, count: number) => new Float32Array(memory.buffer, at, count);
    /** Runs `call` natively and in wasm from the same memory; the memory after each, as floats compared NaN for NaN. */
    const bothWays = (end: number, call: (native: boolean) => void) => {
      const start = new Uint8Array(memory.buffer).slice(base, end);
      call(true);
      const afterNative = bitsOrNaN(floats(base, (end - base) / 4).slice());
      new Uint8Array(memory.buffer).set(start, base);
      call(false);
      return [afterNative, bitsOrNaN(floats(base, (end - base) / 4).slice())] as const;
    };

    test('forward and backward: the same floats over shapes, value kinds, with and without γ and β, in place and not', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const rng = new Rng(31);
      let cases = 0;
      for (const [m, n] of [
        [60, 128],
        [60, 16],
        [1, 32],
        [2, 48],
        [7, 64],
        [1000, 16],
        [60, 784],
      ] as const) {
        for (const affine of [true, false]) {
          for (const eps of [1e-3, 1e-5]) {
            for (const inPlace of [false, true]) {
              const { offsets, end } = layout([m * n, n, n, n, n, n, m * n, m * n, m * n, m * n, n, n]);
              const [x, gamma, beta, mean, variance, invStd, xhat, y, dy, dx, dGamma, dBeta] = offsets;
              const columns = Array.from({ length: n }, (_, j) => columnValues(rng, j, m));
              floats(x, m * n).set(Array.from({ length: m * n }, (_, i) => columns[i % n]![Math.floor(i / n)]!));
              floats(gamma, n).set(Array.from({ length: n }, () => 1 + 0.5 * rng.normal()));
              floats(beta, n).set(Array.from({ length: n }, () => 0.5 * rng.normal()));
              floats(dy, m * n).set(Array.from({ length: m * n }, (_, i) => (i % 97 === 3 ? 2 ** -140 : rng.normal() * 0.01)));
              floats(dGamma, n).set(Array.from({ length: n }, () => rng.normal()));
              floats(dBeta, n).set(Array.from({ length: n }, () => rng.normal()));
              const [g, b, dg, db] = affine ? [gamma, beta, dGamma, dBeta] : [0, 0, 0, 0];
              const out = inPlace ? x : y;
              const label = `${m}×${n}${affine ? ', γ and β' : ''}, eps ${eps}${inPlace ? ', in place' : ''}`;
              const [forwardNative, forwardWasm] = bothWays(end, (useNative) =>
                useNative
                  ? native.batchNormForwardTrain(memory.buffer, x, m, n, eps, g, b, mean, variance, invStd, xhat, out)
                  : wasm.batchNormForwardTrain(x, m, n, eps, g, b, mean, variance, invStd, xhat, out),
              );
              assert.deepStrictEqual(forwardNative, forwardWasm, `forward ${label}`);
              // Backward from the forward's xhat and invStd (as left by the wasm run).
              const target = inPlace ? dy : dx;
              const [backwardNative, backwardWasm] = bothWays(end, (useNative) =>
                useNative
                  ? native.batchNormBackward(memory.buffer, dy, xhat, invStd, g, m, n, target, dg, db)
                  : wasm.batchNormBackward(dy, xhat, invStd, g, m, n, target, dg, db),
              );
              assert.deepStrictEqual(backwardNative, backwardWasm, `backward ${label}`);
              cases++;
            }
          }
        }
      }
      assert.equal(cases, 7 * 2 * 2 * 2);
    });

    test('the backend runs them where the width is a multiple of 16, and the wasm kernels elsewhere', async (t) => {
      const products = nativeOrSkip(t, METHODS);
      if (!products) return;
      const { withNative, wasmOnly, calls } = await nativeBackendPair(module, products, METHODS);
      const rng = new Rng(32);
      for (const [n, expected] of [
        [128, 1],
        [100, 0],
      ] as const) {
        const before = { ...calls };
        const inputs = Array.from({ length: 60 * n }, () => rng.normal());
        const results = [withNative, wasmOnly].map((kernels) => {
          const columnsOf = () => new Matrix(1, n, new Float32Array(n));
          const x = Matrix.from(60, n, inputs);
          const [gamma, beta, mean, variance, invStd, dGamma, dBeta] = [1, 0, 0, 0, 0, 0, 0].map((v) => {
            const c = columnsOf();
            c.data.fill(v);
            return c;
          }) as [Matrix, Matrix, Matrix, Matrix, Matrix, Matrix, Matrix];
          const xhat = new Matrix(60, n, new Float32Array(60 * n)),
            y = new Matrix(60, n, new Float32Array(60 * n)),
            dx = new Matrix(60, n, new Float32Array(60 * n));
          kernels.batchNormForwardTrain(x, 1e-3, gamma, beta, mean, variance, invStd, xhat, y);
          kernels.batchNormBackward(y, xhat, invStd, gamma, dx, dGamma, dBeta);
          return [y, dx, dGamma, dBeta, mean, variance].map((matrix) => Array.from(new Uint32Array(Float32Array.from(matrix.data).buffer)));
        });
        assert.deepStrictEqual(results[0], results[1], `${n} columns: the same y, dx, dγ, dβ, mean and variance`);
        assert.deepStrictEqual(
          {
            batchNormForwardTrain: calls.batchNormForwardTrain - before.batchNormForwardTrain,
            batchNormBackward: calls.batchNormBackward - before.batchNormBackward,
          },
          { batchNormForwardTrain: expected, batchNormBackward: expected },
          `${n} columns: native ${expected ? 'once each way' : 'not at all'}`,
        );
      }
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const { offsets, end } = layout([60 * 32, 32, 32, 32, 60 * 32]);
      const [x, mean, variance, invStd, xhat] = offsets;
      floats(x, 60 * 32).fill(0.25);
      const before = new Uint8Array(memory.buffer).slice(base, end);
      const outside = memory.buffer.byteLength - 8;
      for (const [what, call] of [
        ['a width that is no multiple of 16', () => native.batchNormForwardTrain(memory.buffer, x, 60, 20, 1e-3, 0, 0, mean, variance, invStd, xhat, xhat)],
        ['y outside memory', () => native.batchNormForwardTrain(memory.buffer, x, 60, 32, 1e-3, 0, 0, mean, variance, invStd, xhat, outside)],
        ['γ outside memory', () => native.batchNormForwardTrain(memory.buffer, x, 60, 32, 1e-3, outside, 0, mean, variance, invStd, xhat, xhat)],
        ['dx misaligned', () => native.batchNormBackward(memory.buffer, x, xhat, invStd, 0, 60, 32, xhat + 2, 0, 0)],
        ['dBeta outside memory', () => native.batchNormBackward(memory.buffer, x, xhat, invStd, 0, 60, 32, xhat, 0, outside)],
        ['a width that is no multiple of 16', () => native.batchNormBackward(memory.buffer, x, xhat, invStd, 0, 60, 8, xhat, 0, 0)],
      ] as const) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(new Uint8Array(memory.buffer).slice(base, end), before, `${what}: nothing written`);
      }
    });
  }
});
