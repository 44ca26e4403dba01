/**
 * @file SparseRows on every backend: rows kept as their nonzeros give the bits of the products
 * that find the nonzeros themselves. packRows keeps every nonzero (NaN included) in column order;
 * gatherSparseRows from a dataset's bytes holds exactly what gatherBytesToFloats writes; x·W and
 * W −= lr·xᵀ·dY on them equal matmul and matmulTransposeAAdd with the zeros of x skipped, for the
 * first layer's shape (784 inputs, 400 kB weights), a hidden layer's (128x128, sums in registers)
 * and the output layer's (10 columns); an all-zero dY leaves W alone; bad shapes and foreign rows
 * are refused.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

/** The bit patterns of a matrix's values (NaNs and signed zeros compare by their bits too). */
function bits(matrix: Matrix): Uint32Array {
  return float32Bits(matrix.data);
}

function placed(kernels: Kernels, rows: number, cols: number, data: ArrayLike<number>): Matrix {
  const matrix = kernels.matrix(rows, cols);
  matrix.data.set(data);
  return matrix;
}

/** Pixel-like rows: 81% zeros, the rest in (0, 1], as MNIST's. */
function pixels(rng: Rng, length: number): Float32Array {
  return Float32Array.from({ length }, () => (rng.uniform() < 0.81 ? 0 : Math.fround((1 + rng.int(255)) / 255)));
}

function normals(rng: Rng, length: number): Float32Array {
  return Float32Array.from({ length }, () => rng.normal());
}

for (const kernels of await backendsUnderTest()) {
  describe(`SparseRows [${kernels.name}: ${kernels.variant}]`, () => {
    test('packRows keeps every nonzero, NaN included, and nothing else', () => {
      const rng = new Rng(41);
      const values = pixels(rng, 7 * 33);
      values[5] = Number.NaN;
      values[40] = -0; // a zero, whatever its sign
      const x = placed(kernels, 7, 33, values);
      const rows = kernels.sparseRows(9, 33);
      kernels.packRows(x, rows);
      assert.equal(rows.rows, 7);
      assert.equal(rows.entries, values.filter((v) => v !== 0).length);
      const back = kernels.matrix(7, 33);
      kernels.unpackRows(rows, back);
      const expected = Float32Array.from(values, (v) => (v === 0 ? 0 : v));
      assert.deepStrictEqual(bits(back), new Uint32Array(expected.buffer));
    });

    test('gatherSparseRows holds what gatherBytesToFloats writes, from its own bytes and from foreign ones', () => {
      const rng = new Rng(42);
      for (const width of [16, 30, 784]) {
        const count = 40;
        const dataset = Uint8Array.from({ length: count * width }, () => (rng.uniform() < 0.8 ? 0 : rng.int(256)));
        const own = kernels.byteBuffer(dataset.length);
        own.data.set(dataset);
        const picked = Array.from({ length: 25 }, () => rng.int(count));
        const expected = kernels.matrix(picked.length, width);
        kernels.gatherBytesToFloats(dataset, picked, 1 / 255, expected);
        for (const bytes of [own.data, dataset]) {
          const rows = kernels.sparseRows(30, width);
          kernels.gatherSparseRows(bytes, picked, 1 / 255, rows);
          const back = kernels.matrix(picked.length, width);
          kernels.unpackRows(rows, back);
          assert.deepStrictEqual(bits(back), bits(expected), `width ${width}`);
          assert.equal(rows.entries, expected.data.filter((v) => v !== 0).length);
        }
      }
    });

    for (const [k, n] of [
      [784, 128],
      [128, 128],
      [128, 10],
    ] as const) {
      test(`x·W and W −= lr·xᵀ·dY from packed rows equal the products skipping x's zeros, x [60x${k}], W [${k}x${n}]`, () => {
        const rng = new Rng(43 + k + n);
        const x = placed(kernels, 60, k, pixels(rng, 60 * k));
        const w = placed(kernels, k, n, normals(rng, k * n));
        const dy = placed(kernels, 60, n, normals(rng, 60 * n));
        const rows = kernels.sparseRows(60, k);
        kernels.packRows(x, rows);

        const expected = kernels.matrix(60, n),
          actual = kernels.matrix(60, n);
        kernels.matmul(x, w, expected, true);
        kernels.matmulSparseRows(rows, w, actual);
        assert.deepStrictEqual(bits(actual), bits(expected), 'x·W');

        for (const scale of [1, -0.01]) {
          const updated = placed(kernels, k, n, w.data),
            fromRows = placed(kernels, k, n, w.data);
          kernels.matmulTransposeAAdd(x, dy, updated, true, scale);
          kernels.matmulTransposeAAddSparseRows(rows, dy, fromRows, scale);
          assert.deepStrictEqual(bits(fromRows), bits(updated), `xᵀ·dY scaled by ${scale}`);
          assert.notDeepStrictEqual(bits(fromRows), bits(w), 'the update changed W');
        }
      });
    }

    test('the packed products equal the reference on the same rows (float32, within rounding of another order)', () => {
      const rng = new Rng(44);
      const reference = new JsKernels();
      const x = pixels(rng, 60 * 784),
        w = normals(rng, 784 * 128);
      const rows = kernels.sparseRows(60, 784);
      kernels.packRows(placed(kernels, 60, 784, x), rows);
      const out = kernels.matrix(60, 128);
      kernels.matmulSparseRows(rows, placed(kernels, 784, 128, w), out);
      const expected = reference.matrix(60, 128);
      reference.matmul(placed(reference, 60, 784, x), placed(reference, 784, 128, w), expected);
      for (let i = 0; i < expected.size; i++) assert.ok(Math.abs(out.data[i]! - expected.data[i]!) <= 1e-4 * (1 + Math.abs(expected.data[i]!)), `entry ${i}`);
    });

    test("an all-zero dY ('measure') leaves W as it is", () => {
      const rng = new Rng(45);
      const rows = kernels.sparseRows(60, 784);
      kernels.packRows(placed(kernels, 60, 784, pixels(rng, 60 * 784)), rows);
      const w = placed(kernels, 784, 128, normals(rng, 784 * 128));
      const before = bits(w);
      const skips = kernels instanceof WasmKernels ? kernels.zeroSkips.vanishedGradient : 0;
      kernels.matmulTransposeAAddSparseRows(rows, kernels.matrix(60, 128), w, -0.01, 'measure');
      assert.deepStrictEqual(bits(w), before);
      if (kernels instanceof WasmKernels) assert.equal(kernels.zeroSkips.vanishedGradient, skips + 1, 'the product was skipped');
    });

    test('shapes that do not fit, rows of another backend and bad row indices are refused', () => {
      const rows = kernels.sparseRows(4, 10);
      assert.throws(() => kernels.packRows(kernels.matrix(5, 10), rows), /packRows/);
      assert.throws(() => kernels.packRows(kernels.matrix(4, 11), rows), /packRows/);
      kernels.packRows(kernels.matrix(4, 10), rows);
      assert.throws(() => kernels.matmulSparseRows(rows, kernels.matrix(11, 3), kernels.matrix(4, 3)), /matmulSparseRows/);
      assert.throws(() => kernels.matmulTransposeAAddSparseRows(rows, kernels.matrix(5, 3), kernels.matrix(10, 3)), /matmulTransposeAAddSparseRows/);
      assert.throws(() => kernels.gatherSparseRows(new Uint8Array(30), [0, 3], 1, rows), /row index 3 at 1 is outside the 3 rows/);
      assert.throws(() => kernels.gatherSparseRows(new Uint8Array(100), [0, 1, 2, 3, 4], 1, rows), /room for 4/);
      const foreign = new JsKernels('float64').sparseRows(4, 10);
      assert.throws(() => kernels.matmulSparseRows(foreign, kernels.matrix(10, 3), kernels.matrix(4, 3)), /another backend/);
    });
  });
}
