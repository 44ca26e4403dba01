/**
 * @file dot-matmul.ts's out[m,k] = a[m,n]·b[k,n]ᵀ (dY·Wᵀ) for an `a` whose subnormals were scaled
 * away beforehand (a·2^E, b as it is: the host's `scaleAwaySubnormals`), with its bits: the same
 * 2x4 tiles, each lane's partial sums stepped by rescaled-sums.ts's `step`, folded by sumLanes4,
 * then divided by 2^E. For m even and n and k multiples of 4, where matmulTransposeB takes only
 * that tile.
 */
import { smallestSum, step, takeCancelled } from './rescaled-sums';
import { notFinite, sumLanes4 } from './simd';

/**
 * out = a·bᵀ for a given as a·2^E (unscaleA = 2^−E, E from 23 to 126). Returns 1 when a sum
 * overflowed scaled up (out is then incomplete: the host multiplies as it is instead), else 0.
 */
export function matmulTransposeBRescaled(a: usize, b: usize, out: usize, m: i32, n: i32, k: i32, unscaleA: f32): i32 {
  const smallest = smallestSum(unscaleA, 1);
  const unscale = f32x4.splat(unscaleA);
  const rowBytes = <usize>n << 2;
  const outRowBytes = <usize>k << 2;
  let overflowed = i32x4.splat(0);
  for (let i = 0; i < m; i += 2) {
    const a0 = a + <usize>i * rowBytes, a1 = a0 + rowBytes;
    const o0 = out + <usize>i * outRowBytes, o1 = o0 + outRowBytes;
    for (let p = 0; p < k; p += 4) {
      const b0 = b + <usize>p * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
      let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (let j: usize = 0; j < rowBytes; j += 16) {
        const x0 = v128.load(a0 + j), x1 = v128.load(a1 + j);
        let w = v128.load(b0 + j);
        s00 = step(x0, w, s00, smallest, unscaleA, 1, true); s10 = step(x1, w, s10, smallest, unscaleA, 1, true);
        w = v128.load(b1 + j);
        s01 = step(x0, w, s01, smallest, unscaleA, 1, true); s11 = step(x1, w, s11, smallest, unscaleA, 1, true);
        w = v128.load(b2 + j);
        s02 = step(x0, w, s02, smallest, unscaleA, 1, true); s12 = step(x1, w, s12, smallest, unscaleA, 1, true);
        w = v128.load(b3 + j);
        s03 = step(x0, w, s03, smallest, unscaleA, 1, true); s13 = step(x1, w, s13, smallest, unscaleA, 1, true);
      }
      if (takeCancelled()) {
        s00 = f32x4.splat(0); s01 = s00; s02 = s00; s03 = s00; s10 = s00; s11 = s00; s12 = s00; s13 = s00;
        for (let j: usize = 0; j < rowBytes; j += 16) {
          const x0 = v128.load(a0 + j), x1 = v128.load(a1 + j);
          let w = v128.load(b0 + j);
          s00 = step(x0, w, s00, smallest, unscaleA, 1); s10 = step(x1, w, s10, smallest, unscaleA, 1);
          w = v128.load(b1 + j);
          s01 = step(x0, w, s01, smallest, unscaleA, 1); s11 = step(x1, w, s11, smallest, unscaleA, 1);
          w = v128.load(b2 + j);
          s02 = step(x0, w, s02, smallest, unscaleA, 1); s12 = step(x1, w, s12, smallest, unscaleA, 1);
          w = v128.load(b3 + j);
          s03 = step(x0, w, s03, smallest, unscaleA, 1); s13 = step(x1, w, s13, smallest, unscaleA, 1);
        }
      }
      // Adding two sums on the grid 2^(−149+E) is exact below 2^−126·2^E, and scales above: plain adds keep the bits.
      const r0 = sumLanes4(s00, s01, s02, s03), r1 = sumLanes4(s10, s11, s12, s13);
      overflowed = v128.or(overflowed, v128.or(notFinite(r0), notFinite(r1)));
      v128.store(o0 + (<usize>p << 2), f32x4.mul(r0, unscale));
      v128.store(o1 + (<usize>p << 2), f32x4.mul(r1, unscale));
    }
  }
  return v128.any_true(overflowed) ? 1 : 0;
}
