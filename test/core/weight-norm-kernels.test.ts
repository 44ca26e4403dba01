/**
 * @file Weight Norm's wasm kernels walk the rows of v four at a time, and every column's float32
 * sum must still take the rows one after another in order: ‖v[:,j]‖ = √(((v₀² + v₁²) + v₂²) + …)
 * and out += (factor·c[j])·v, row by row, with any number of rows and columns (the rows after the
 * last four, the columns after the last vector). The entries have at most 12 significant bits, so
 * every product is exact in float32 and the fused and unfused builds round only the sums: a
 * float32 walk in JavaScript (Math.fround after each addition) gives the bits both must produce.
 * The sums reach past 2^24 so that their roundings depend on the order: summing the four rows of
 * a pass in pairs, or a row of the pass skipped or repeated, changes bits. (The reference backend
 * sums in float64, so it is not compared here.)
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { backendsUnderTest, placedMatrix } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

const ROW_COUNTS = [1, 3, 4, 5, 8, 11, 130];
const COLUMN_COUNTS = [1, 3, 4, 5, 9, 128, 130];

/** A whole number below 2^12 times 2^e, e in [−4, 4], with a random sign: exact squares and products in float32. */
function shortFloat(rng: Rng): number {
  return (rng.uniform() < 0.5 ? -1 : 1) * (1 + rng.int(4095)) * 2 ** (rng.int(9) - 4);
}

function expectedNorms(v: Float32Array, k: number, n: number, g: Float32Array): { norms: Float32Array; scale: Float32Array } {
  const norms = new Float32Array(n),
    scale = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < k; i++) sum = Math.fround(sum + v[i * n + j]! * v[i * n + j]!);
    norms[j] = Math.sqrt(sum);
    scale[j] = g[j]! / norms[j]!;
  }
  return { norms, scale };
}

function expectedScaledColumns(v: Float32Array, c: Float32Array, factor: number, out: Float32Array, n: number): Float32Array {
  return out.map((o, at) => Math.fround(o + Math.fround(factor * c[at % n]!) * v[at]!));
}

describe('Weight Norm kernels: each column summed over the rows in order', async () => {
  for (const kernels of await backendsUnderTest()) {
    if (kernels.name !== 'wasm') continue;
    test(`${kernels.name}: ${kernels.variant}`, () => {
      const rng = new Rng(2016);
      for (const k of ROW_COUNTS) {
        for (const n of COLUMN_COUNTS) {
          const shape = `${k}×${n}`;
          const vData = Float32Array.from({ length: k * n }, () => shortFloat(rng));
          const gData = Float32Array.from({ length: n }, () => shortFloat(rng));
          const v = placedMatrix(kernels, k, n, vData),
            g = placedMatrix(kernels, 1, n, gData),
            norms = kernels.matrix(1, n),
            scale = kernels.matrix(1, n);
          kernels.weightNormScale(v, g, norms, scale);
          const want = expectedNorms(vData, k, n, gData);
          assert.deepEqual(float32Bits(norms.data), float32Bits(want.norms), `‖v‖ of ${shape}`);
          assert.deepEqual(float32Bits(scale.data), float32Bits(want.scale), `g/‖v‖ of ${shape}`);

          // factor·c has at most 12 significant bits too (factor a power of two), so (factor·c)·v is exact.
          const cData = Float32Array.from({ length: n }, () => (1 + rng.int(2047)) * (rng.uniform() < 0.5 ? -1 : 1));
          const outData = Float32Array.from({ length: k * n }, () => shortFloat(rng) * 2 ** 12);
          const c = placedMatrix(kernels, 1, n, cData),
            out = placedMatrix(kernels, k, n, outData);
          kernels.addScaledColumns(v, c, 0.25, out);
          assert.deepEqual(float32Bits(out.data), float32Bits(expectedScaledColumns(vData, cData, 0.25, outData, n)), `out += (f·c)·v, ${shape}`);
          kernels.addScaledColumns(v, c, -0.5, v); // out is v: the SGD step's form
          assert.deepEqual(float32Bits(v.data), float32Bits(expectedScaledColumns(vData, cData, -0.5, vData, n)), `v += (f·c)·v, ${shape}`);
        }
      }
    });
  }
});
