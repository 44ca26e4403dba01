/**
 * @file A rescaled weight update (xᵀ·dY with subnormals, assembly/rescaled-gemm.ts and the first
 * layer's sparse xᵀ·dY) multiplies only the rows and columns of W whose update may change their
 * bits: |scale|·Σ_t|x|·max_t|dY|·2^27 < |w| (assembly/negligible-updates.ts derives it) leaves w
 * as it is. The weights must come out with the bits of the whole product, and of the product
 * multiplied as it is, on data made to straddle that line: weights from 2^−4 to 2^4 against
 * updates whose size varies by 2^60 from column to column (so that some columns sit within a few
 * factors of two of half their weights' float spacing) and a third of the rows saturated, with
 * zeros of both signs, weights under the test's floor (2^−60), ∞ and NaN among them. Loosening
 * the test by 2^3 makes these fail.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { placedMatrix, wasmBuildsHere } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

const SMALLEST_NORMAL = 2 ** -126;

/** A saturated sigmoid's outputs [m, k]: 0, 1, in between, 10% subnormal; a third of the units (columns) saturated at 0 throughout (0 or subnormal). */
function activations(rng: Rng, m: number, k: number): Float32Array {
  const saturated = Array.from({ length: k }, () => rng.uniform() < 0.3);
  return new Float32Array(m * k).map((_, i) => {
    const u = rng.uniform();
    if (saturated[i % k]) return u < 0.5 ? 0 : SMALLEST_NORMAL * rng.uniform();
    return u < 0.1 ? SMALLEST_NORMAL * rng.uniform() : u < 0.4 ? 0 : u < 0.7 ? 1 : rng.uniform();
  });
}

/** Gradients [m, n] whose column j is about 2^−(j·60/n) in size, 10% of them subnormal, both signs. */
function gradients(rng: Rng, m: number, n: number): Float32Array {
  return new Float32Array(m * n).map((_, i) => {
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    if (rng.uniform() < 0.1) return sign * SMALLEST_NORMAL * rng.uniform();
    return sign * rng.uniform() * 2 ** -Math.floor(((i % n) * 60) / n);
  });
}

/** Weights from 2^−4 to 2^4 (log-uniform, both signs), as a std-10 network's, with ±0, ones under 2^−60, ∞ and NaN among them. */
function weights(rng: Rng, length: number): Float32Array {
  const out = new Float32Array(length).map(() => (rng.uniform() < 0.5 ? -1 : 1) * (1 + rng.uniform()) * 2 ** (-4 + rng.int(8)));
  const specials = [0, -0, 2 ** -61, -(2 ** -60) * 0.75, Number.POSITIVE_INFINITY, Number.NaN];
  specials.forEach((value, i) => {
    out[(i * 997) % length] = value;
  });
  return out;
}

describe('negligible weight updates left out: the same bits as the whole product (wasm)', async () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant);
    const matrix = (rows: number, cols: number, data: ArrayLike<number>) => placedMatrix(kernels, rows, cols, data);
    /**
     * Runs `update` (which sets `target` to `start` and adds to it) three ways: multiplied as it
     * is, rescaled on the whole product, rescaled on the kept block; the same bits each time.
     * Returns how many elements the last left out.
     */
    const compare = (label: string, target: Matrix, start: Float32Array, update: () => void): number => {
      const run = (rescale: boolean, skip: boolean) => {
        kernels.rescaleSubnormals = rescale;
        kernels.skipNegligibleUpdates = skip;
        target.data.set(start);
        update();
        return float32Bits(target.data);
      };
      const plain = run(false, false);
      assert.deepStrictEqual(run(true, false), plain, `${label}: rescaled, the whole product`);
      const before = kernels.negligibleUpdates.elements;
      assert.deepStrictEqual(run(true, true), plain, `${label}: rescaled, the kept block`);
      kernels.rescaleSubnormals = true;
      kernels.skipNegligibleUpdates = true;
      return kernels.negligibleUpdates.elements - before;
    };

    test(`${variant}: a hidden layer's W −= lr·xᵀ·dY`, () => {
      const rng = new Rng(21);
      for (const [m, k, n] of [
        [60, 128, 128],
        [60, 128, 10],
        [13, 37, 6],
      ] as const) {
        const x = matrix(m, k, activations(rng, m, k));
        const dy = matrix(m, n, gradients(rng, m, n));
        const start = weights(rng, k * n);
        const target = kernels.matrix(k, n);
        const left = compare(`${m}×${k}ᵀ · ${m}×${n}`, target, start, () => kernels.matmulTransposeAAdd(x, dy, target, false, -2 / 60));
        if (kernels.fusedMultiplyAdd) {
          // Only the rescaled sums (both factors up) take the kept block.
          assert.ok(left > 0 && left < k * n, `${m}×${k}ᵀ · ${m}×${n}: some elements left out (${left} of ${k * n}), not all`);
        }
      }
    });

    test(`${variant}: a hidden layer's W −= lr·xᵀ·dY where the test's bound is reached`, () => {
      // x 1 but for saturated units, and each column of dY one value: every sum is then m·x·dY, the
      // bound itself, so the columns whose update is near half a weight's spacing decide.
      const rng = new Rng(24);
      const [m, k, n] = [60, 128, 128];
      const x = matrix(
        m,
        k,
        activations(rng, m, k).map((v) => (v >= SMALLEST_NORMAL ? 1 : v)),
      );
      const columnValues = gradients(rng, 1, n);
      const dy = matrix(
        m,
        n,
        new Float32Array(m * n).map((_, i) => (i === 7 ? SMALLEST_NORMAL / 3 : columnValues[i % n]!)),
      );
      const start = weights(rng, k * n);
      const target = kernels.matrix(k, n);
      const left = compare('sums at the bound', target, start, () => kernels.matmulTransposeAAdd(x, dy, target, false, -2 / 60));
      if (kernels.fusedMultiplyAdd) assert.ok(left > 0 && left < k * n, `some elements left out (${left} of ${k * n}), not all`);
    });

    test(`${variant}: the first layer's W −= lr·xᵀ·dY from its nonzero pixels`, () => {
      const rng = new Rng(22);
      const pixels = new Float32Array(60 * 784).map(() => (rng.uniform() < 0.8 ? 0 : (1 + rng.int(255)) / 255));
      const rows = kernels.sparseRows(60, 784);
      kernels.packRows(matrix(60, 784, pixels), rows);
      const dy = matrix(60, 128, gradients(rng, 60, 128));
      const start = weights(rng, 784 * 128);
      const target = kernels.matrix(784, 128);
      const left = compare('784 pixels × 128', target, start, () => kernels.matmulTransposeAAddSparseRows(rows, dy, target, -2 / 60));
      if (kernels.fusedMultiplyAdd) assert.ok(left > 0 && left < 784 * 128, `some elements left out (${left}), not all`);
    });

    test(`${variant}: past the test's limits (|scale| above 2^20) every element is multiplied`, () => {
      const rng = new Rng(23);
      const x = matrix(60, 128, activations(rng, 60, 128));
      const dy = matrix(60, 128, gradients(rng, 60, 128));
      const start = weights(rng, 128 * 128);
      const target = kernels.matrix(128, 128);
      const left = compare('scale 2^21', target, start, () => kernels.matmulTransposeAAdd(x, dy, target, false, 2 ** 21));
      assert.equal(left, 0);
    });
  }
});
