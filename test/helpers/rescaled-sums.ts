/**
 * @file Factors of W += xᵀ·dY set up by hand for the rescaled sums' paths (assembly/rescaled-sums.ts,
 * rescaled-gemm.ts), shared by the wasm kernels' test (test/core/subnormal-rescaling.test.ts) and
 * the native code's (native-rescaled.test.ts). x is 4×9 and dY 4×n; element (p, j) of xᵀ·dY sums
 * x[t, p]·dY[t, j] over t:
 * - (0, 0): 2^−102·(1 + 2^−22 + 2^−23) cancelled by (1 + 2^−22)·−2^−102·(1 + 2^−23) to −2^−147,
 *   where the previous sum is too large to round against 2^−126·2^48 exactly (the cancelled step);
 *   row 8 of W sums it again alone (x has 9 columns: rows 0-7 in tiles of four, row 8 alone);
 * - (3, 5): 2^60·2^30, whose sum 2^48 times larger overflows (the overflowed sum, done again);
 * - (4, zeroColumn): one product, −2^−155, whose sum rounds to −0 (added to the −0 a test starts
 *   it at: −0 kept, or +0 where the last tile of a width that is no multiple of 4 overlaps);
 * - (1, 1): subnormals in both factors.
 */
export function handSetSums(n: number, zeroColumn: number): { xs: Float32Array; dys: Float32Array } {
  const xs = new Float32Array(4 * 9);
  const dys = new Float32Array(4 * n);
  xs[0] = 1;
  xs[9] = 1 + 2 ** -22;
  xs[8] = 1;
  xs[9 + 8] = 1 + 2 ** -22;
  dys[0] = 2 ** -102 * (1 + 2 ** -22 + 2 ** -23);
  dys[n] = -(2 ** -102) * (1 + 2 ** -23);
  xs[3] = 2 ** 60;
  dys[5] = 2 ** 30;
  xs[3 * 9 + 4] = 2 ** -80;
  dys[3 * n + zeroColumn] = -(2 ** -75);
  xs[2 * 9 + 1] = 2 ** -135;
  dys[2 * n + 1] = 2 ** -140;
  return { xs, dys };
}
