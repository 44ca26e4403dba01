/**
 * @file dY·Wᵀ through a ReLU (`matmulTransposeB` with an output mask): only the outputs where the
 * ReLU's output y is > 0 are summed, +0 elsewhere, which is what that ReLU's backward makes of the
 * whole product (`dy ⊙ [y > 0]` keeps bits or writes +0). So the masked product must equal, bit for
 * bit, the whole product passed through the ReLU backward kernel, on every backend: at every share
 * of positive y (so that row pairs take both of the kernel's paths: the whole pair tile masked
 * after, and the column lists: both rows' by the tile, one row's eight at a time), in shapes with a lone last row, columns past the last
 * multiple of 4, vector tails, short dot products (the transposed path), with y holding NaN, −0,
 * +0 and negatives (none passes), and ∞ and NaN in dY and W, and with subnormal factors (the
 * rescaled products). On random normal data a different summation order changes many bits.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { backendsUnderTest, placedMatrix } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

/** Shares of y above 0: none, sparse, the ReLU's usual half, around the kernel's switch to the whole tile (about 0.83: where the lists cost 90% of it), all. */
const POSITIVE_SHARES = [0, 0.1, 0.5, 0.75, 0.85, 1];
/** [m, n, k]: the article's hidden layers, odd m, k and n past multiples of 4, short n (the transposed path), n = 16. */
const SHAPES: Array<[number, number, number]> = [
  [60, 128, 128],
  [7, 128, 131],
  [5, 21, 10],
  [4, 10, 128],
  [3, 16, 6],
];

/** A ReLU output [length]: positive at `share`, else one of 0, −0, a negative or NaN (none of which passes). */
function reluOutput(rng: Rng, length: number, share: number): Float32Array {
  const blocked = [0, -0, -1.5, Number.NaN];
  return new Float32Array(length).map(() => (rng.uniform() < share ? Math.abs(rng.normal()) + 2 ** -20 : blocked[rng.int(blocked.length)]!));
}

function normals(rng: Rng, length: number, scale = 1): Float32Array {
  return new Float32Array(length).map(() => rng.normal() * scale);
}

/** The masked product and the whole product through the ReLU backward, as bits. */
function bothWays(kernels: Kernels, m: number, n: number, k: number, dy: Float32Array, w: Float32Array, y: Float32Array) {
  const a = placedMatrix(kernels, m, n, dy),
    b = placedMatrix(kernels, k, n, w),
    mask = placedMatrix(kernels, m, k, y);
  const whole = kernels.matrix(m, k),
    masked = kernels.matrix(m, k);
  masked.data.fill(Number.NaN); // every output must be written
  kernels.matmulTransposeB(a, b, whole);
  kernels.activationBackward('relu', mask, whole, whole);
  kernels.matmulTransposeB(a, b, masked, false, mask);
  return { masked: float32Bits(masked.data), whole: float32Bits(whole.data) };
}

describe('dY·Wᵀ through a ReLU: the bits of the whole product passed through its backward', async () => {
  for (const kernels of await backendsUnderTest()) {
    const name = kernels instanceof WasmKernels ? kernels.variant : 'js reference';
    test(`${name}: every share of positive y, every shape`, () => {
      const rng = new Rng(15);
      for (const [m, n, k] of SHAPES) {
        for (const share of POSITIVE_SHARES) {
          const { masked, whole } = bothWays(kernels, m, n, k, normals(rng, m * n), normals(rng, k * n), reluOutput(rng, m * k, share));
          assert.deepStrictEqual(masked, whole, `[${m}x${n}]·[${k}x${n}]ᵀ with ${share} of y positive`);
        }
      }
    });

    test(`${name}: ∞ and NaN in dY and W reach only the outputs that pass`, () => {
      const rng = new Rng(16);
      const [m, n, k] = [8, 128, 128];
      const dy = normals(rng, m * n),
        w = normals(rng, k * n);
      dy[3] = Number.POSITIVE_INFINITY;
      dy[n + 5] = Number.NaN;
      w[7 * n + 2] = Number.NEGATIVE_INFINITY;
      const { masked, whole } = bothWays(kernels, m, n, k, dy, w, reluOutput(rng, m * k, 0.5));
      assert.deepStrictEqual(masked, whole);
      assert.ok(Array.from(new Float32Array(masked.buffer)).some(Number.isNaN), 'NaN reached some kept outputs');
    });

    test(`${name}: subnormal factors (the rescaled products) keep their bits`, () => {
      const rng = new Rng(17);
      const [m, n, k] = [60, 128, 128];
      const { masked, whole } = bothWays(kernels, m, n, k, normals(rng, m * n, 2 ** -130), normals(rng, k * n), reluOutput(rng, m * k, 0.5));
      assert.deepStrictEqual(masked, whole);
    });
  }

  test('wasm: dot products of 16 floats or more run the masked kernel; shorter ones are multiplied whole and masked after', async () => {
    for (const kernels of await backendsUnderTest()) {
      if (!(kernels instanceof WasmKernels)) continue;
      const rng = new Rng(18);
      const before = kernels.zeroSkips.maskedInputGradient;
      bothWays(kernels, 60, 128, 128, normals(rng, 60 * 128), normals(rng, 128 * 128), reluOutput(rng, 60 * 128, 0.5));
      bothWays(kernels, 4, 10, 128, normals(rng, 40), normals(rng, 1280), reluOutput(rng, 4 * 128, 0.5));
      assert.equal(kernels.zeroSkips.maskedInputGradient - before, 1, 'n = 128 masked; n = 10 multiplied whole and masked after');
    }
  });
});
