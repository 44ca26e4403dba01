/**
 * @file The wasm backend's zero skipping is exact: a product asked to measure the zeros of its
 * left factor ('measure') or to skip them (true) gives the bits of the product that multiplies
 * them (false), at every zero fraction from dense to all zeros, for the shapes where it may skip
 * (hidden layers: 128 columns) and where it must not (10 columns: the sparse kernels' scalar
 * tail sums differently, so only an all-zero factor, which has no term to sum, skips), with NaN in the sparse factor and ∞ in the other (0·∞ is NaN, so the
 * dense product must be taken). The counters show which path ran, so these tests cannot pass
 * without the skipping paths running.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZeroSkipping } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { placedMatrix, wasmBuildsHere } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

const ZERO_FRACTIONS = [0, 0.3, 0.5, 0.7, 0.9, 0.99, 1];

/** [rows, cols] values: ReLU-like (≥ 0) or signed, with exactly-zero entries at `zeroFraction`. */
function values(rng: Rng, length: number, zeroFraction: number, signed: boolean): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.uniform() < zeroFraction ? 0 : signed ? rng.normal() : Math.abs(rng.normal());
  return out;
}

/** The bit patterns of a float32 matrix's values (NaNs compare by their bits too). */
describe('zero skipping: the same bits as multiplying the zeros (wasm)', async () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant);
    const matrix = (rows: number, cols: number, data: ArrayLike<number>) => placedMatrix(kernels, rows, cols, data);

    for (const n of [128, 10]) {
      test(`${variant}: x·W and W −= lr·xᵀ·dY with x [60x128] at each zero fraction, W with ${n} columns`, () => {
        const rng = new Rng(5);
        const before = { ...kernels.zeroSkips };
        for (const zeros of ZERO_FRACTIONS) {
          const x = matrix(60, 128, values(rng, 60 * 128, zeros, false));
          const w = matrix(128, n, values(rng, 128 * n, 0, true));
          const dy = matrix(60, n, values(rng, 60 * n, 0, true));
          const forward = (skip: ZeroSkipping) => {
            const out = kernels.matrix(60, n);
            kernels.matmul(x, w, out, skip);
            return float32Bits(out.data);
          };
          const update = (skip: ZeroSkipping) => {
            const out = matrix(128, n, w.data);
            kernels.matmulTransposeAAdd(x, dy, out, skip, -0.01);
            return float32Bits(out.data);
          };
          assert.deepStrictEqual(forward('measure'), forward(false), `x·W, ${zeros * 100}% zeros, measured`);
          assert.deepStrictEqual(update('measure'), update(false), `xᵀ·dY, ${zeros * 100}% zeros, measured`);
          if (n % 4 === 0) {
            assert.deepStrictEqual(forward(true), forward(false), `x·W, ${zeros * 100}% zeros, skipped`);
            assert.deepStrictEqual(update(true), update(false), `xᵀ·dY, ${zeros * 100}% zeros, skipped`);
          }
        }
        const skipped = kernels.zeroSkips.forward - before.forward + kernels.zeroSkips.weightGradient - before.weightGradient;
        if (n % 4 === 0) assert.ok(skipped >= 8, `the sparse fractions took the skipping path: ${skipped}`);
        else assert.equal(skipped, 2, 'where the sparse kernels would sum their tail differently, only the all-zero x skips (both products)');
      });
    }

    test(`${variant}: NaN among the activations is multiplied; ∞ in the other factor forbids skipping`, () => {
      const rng = new Rng(6);
      const xValues = values(rng, 60 * 128, 0.9, false);
      xValues[7] = Number.NaN;
      const x = matrix(60, 128, xValues);
      const infinite = values(rng, 128 * 128, 0, true);
      infinite[3 * 128 + 5] = Number.POSITIVE_INFINITY;
      const w = matrix(128, 128, infinite);
      for (const skip of ['measure', false] as const) {
        const out = kernels.matrix(60, 128);
        kernels.matmul(x, w, out, skip);
        assert.ok(Number.isNaN(out.data[0]), 'the NaN of row 0 reaches its outputs');
      }
      const dense = kernels.matrix(60, 128),
        measured = kernels.matrix(60, 128);
      const before = kernels.zeroSkips.forward;
      kernels.matmul(x, w, dense, false);
      kernels.matmul(x, w, measured, 'measure');
      assert.deepStrictEqual(float32Bits(measured.data), float32Bits(dense.data));
      assert.equal(kernels.zeroSkips.forward, before, 'W holds ∞: multiplied in full');
      assert.ok(dense.data.some(Number.isNaN) && dense.data.filter(Number.isNaN).length > 60, 'rows with x[·,3] = 0 got 0·∞ = NaN');
    });

    test(`${variant}: W += scale·xᵀ·dY on a W holding −0, with a positive scale too: the skipping paths give the dense bits`, () => {
      // A row of W whose column of x is all zero, or an all-zero dY, gets scale·(+0) from the dense product: −0 for a
      // negative scale (W as it is) but +0 for a positive one, which turns W's −0 into +0; the skipping paths must do the same.
      const rng = new Rng(8);
      const xValues = values(rng, 60 * 128, 0.9, false);
      for (let i = 0; i < 60; i++) xValues[i * 128 + 3] = 0; // x's column 3 all zero: W's row 3 gets no term
      const x = matrix(60, 128, xValues);
      const wValues = values(rng, 128 * 128, 0, true);
      for (let j = 0; j < 128; j += 3) wValues[3 * 128 + j] = -0;
      for (let j = 0; j < 128 * 128; j += 97) wValues[j] = -0;
      for (const dyZero of [false, true]) {
        const dy = matrix(60, 128, dyZero ? new Float32Array(60 * 128) : values(rng, 60 * 128, 0, true));
        for (const scale of [1, 0.01, -0.01]) {
          const update = (aZeros: ZeroSkipping, bZeros: ZeroSkipping) => {
            const out = matrix(128, 128, wValues);
            kernels.matmulTransposeAAdd(x, dy, out, aZeros, scale, bZeros);
            return float32Bits(out.data);
          };
          const dense = update(false, false);
          const what = `${dyZero ? 'dY all zero' : 'dY dense'}, scale ${scale}`;
          assert.deepStrictEqual(update(true, false), dense, `${what}: x's zeros skipped`);
          assert.deepStrictEqual(update('measure', 'measure'), dense, `${what}: both measured`);
          const minusZeros = dense.filter((bits) => bits === 0x80000000).length;
          if (scale > 0) assert.equal(minusZeros, 0, `${what}: every −0 of W became +0`);
          else assert.ok(minusZeros >= 40, `${what}: W's −0 where nothing was added stayed (${minusZeros})`);
        }
      }
    });

    test(`${variant}: an all-zero dY (a dead layer's gradient) gives dY·Wᵀ = 0 and leaves W as it is, unless W or x holds ∞`, () => {
      const rng = new Rng(7);
      const dy = matrix(60, 128, new Float32Array(60 * 128));
      const x = matrix(60, 128, values(rng, 60 * 128, 0.5, false));
      for (const finite of [true, false]) {
        const wValues = values(rng, 128 * 128, 0, true);
        if (!finite) wValues[100] = Number.NEGATIVE_INFINITY;
        const w = matrix(128, 128, wValues);
        const before = kernels.zeroSkips.vanishedGradient;
        const gradient = (skip: ZeroSkipping) => {
          const out = matrix(60, 128, values(rng, 60 * 128, 0, true)); // stale values: the product must overwrite them
          kernels.matmulTransposeB(dy, w, out, skip);
          return float32Bits(out.data);
        };
        assert.deepStrictEqual(gradient('measure'), gradient(false), `dY·Wᵀ, W ${finite ? 'finite' : 'with −∞'}`);
        const update = (skip: ZeroSkipping) => {
          const out = matrix(128, 128, w.data);
          kernels.matmulTransposeAAdd(x, dy, out, false, -0.01, skip);
          return float32Bits(out.data);
        };
        assert.deepStrictEqual(update('measure'), update(false), 'xᵀ·dY with dY = 0');
        assert.equal(kernels.zeroSkips.vanishedGradient - before, finite ? 2 : 1, 'skipped where W (and x) are finite');
      }
    });
  }
});
