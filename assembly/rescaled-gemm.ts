/**
 * @file C += scale·(A·B) for factors that both held subnormal floats (a saturated sigmoid's xᵀ·dY)
 * and were both multiplied by powers of two (2^E in all) beforehand (the host's
 * `scaleAwaySubnormals`), so that no multiply sees a subnormal operand, with gemm's bits: each
 * element summed as gemm sums it (`madd` from +0, t = 0 … depth−1) by rescaled-sums.ts's `step`,
 * then divided by 2^E. An element whose scaled sum overflowed (never finite again) is summed
 * again from the factors scaled back, as gemm sums it.
 */
import { smallestSum, step, takeCancelled } from './rescaled-sums';
import { ALL_LANES, lastLanes, madd, notFinite } from './simd';

/**
 * gemm's C += scale·(A·B) (A(i,t) at a + i·aRowStride + t·aStep, B[t,j] at b + t·bRowStride + 4j,
 * C[i,j] at c + i·cRowStride + 4j; cols ≥ 4) for A·2^ea and B·2^eb as given, `unscaleA` = 2^−ea and
 * `unscaleB` = 2^−eb (ea + eb from 23, so that the grid 2^(−149+E) is normal, to 126).
 */
export function gemmAddRescaled(
  a: usize, aRowStride: usize, aStep: usize,
  b: usize, bRowStride: usize,
  c: usize, cRowStride: usize,
  rows: i32, cols: i32, depth: i32, scale: f32, unscaleA: f32, unscaleB: f32,
): void {
  const smallest = smallestSum(unscaleA, unscaleB);
  const last = <usize>(cols - 4) << 2;
  const lastMask = lastLanes(cols & 3);
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const aRow = a + <usize>i * aRowStride;
    const cRow = c + <usize>i * cRowStride;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      tile4(aRow, aRowStride, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), cRowStride, depth, scale, unscaleA, unscaleB, smallest, ALL_LANES);
    }
    if (j < cols) tile4(aRow, aRowStride, aStep, b + last, bRowStride, cRow + last, cRowStride, depth, scale, unscaleA, unscaleB, smallest, lastMask);
  }
  for (; i < rows; i++) {
    const aRow = a + <usize>i * aRowStride;
    const cRow = c + <usize>i * cRowStride;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      tile1(aRow, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), depth, scale, unscaleA, unscaleB, smallest, ALL_LANES);
    }
    if (j < cols) tile1(aRow, aStep, b + last, bRowStride, cRow + last, depth, scale, unscaleA, unscaleB, smallest, lastMask);
  }
}

/**
 * Rows i … i+3 by 4 columns (four sums in flight, to hide each step's latency). The lanes `mask`
 * keeps get old + scale·sum; the others old + 0, as gemm's storeLanes gives them.
 */
// @ts-ignore: decorator
@inline function tile4(
  a: usize, aRowStride: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, cRowStride: usize, depth: i32,
  scale: f32, unscaleA: f32, unscaleB: f32, smallest: v128, mask: v128,
): void {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    const row = v128.load(pb);
    s0 = step(v128.load32_splat(pa), row, s0, smallest, unscaleA, unscaleB, true);
    s1 = step(v128.load32_splat(pa + aRowStride), row, s1, smallest, unscaleA, unscaleB, true);
    s2 = step(v128.load32_splat(pa + 2 * aRowStride), row, s2, smallest, unscaleA, unscaleB, true);
    s3 = step(v128.load32_splat(pa + 3 * aRowStride), row, s3, smallest, unscaleA, unscaleB, true);
    pa += aStep; pb += bRowStride;
  }
  if (takeCancelled()) {
    // A sum cancelled to below 2^−126·2^E (rare): the tile again, such steps done as they are.
    s0 = f32x4.splat(0); s1 = s0; s2 = s0; s3 = s0;
    pa = a; pb = b;
    for (let t = 0; t < depth; t++) {
      const row = v128.load(pb);
      s0 = step(v128.load32_splat(pa), row, s0, smallest, unscaleA, unscaleB);
      s1 = step(v128.load32_splat(pa + aRowStride), row, s1, smallest, unscaleA, unscaleB);
      s2 = step(v128.load32_splat(pa + 2 * aRowStride), row, s2, smallest, unscaleA, unscaleB);
      s3 = step(v128.load32_splat(pa + 3 * aRowStride), row, s3, smallest, unscaleA, unscaleB);
      pa += aStep; pb += bRowStride;
    }
  }
  store4(a, aStep, b, bRowStride, c, s0, depth, scale, unscaleA, unscaleB, mask);
  store4(a + aRowStride, aStep, b, bRowStride, c + cRowStride, s1, depth, scale, unscaleA, unscaleB, mask);
  store4(a + 2 * aRowStride, aStep, b, bRowStride, c + 2 * cRowStride, s2, depth, scale, unscaleA, unscaleB, mask);
  store4(a + 3 * aRowStride, aStep, b, bRowStride, c + 3 * cRowStride, s3, depth, scale, unscaleA, unscaleB, mask);
}

/** One row by 4 columns, as tile4 (for the last 1-3 rows). */
// @ts-ignore: decorator
@inline function tile1(
  a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, depth: i32,
  scale: f32, unscaleA: f32, unscaleB: f32, smallest: v128, mask: v128,
): void {
  let sum = sumRow(a, aStep, b, bRowStride, depth, smallest, unscaleA, unscaleB, true);
  if (takeCancelled()) sum = sumRow(a, aStep, b, bRowStride, depth, smallest, unscaleA, unscaleB, false);
  store4(a, aStep, b, bRowStride, c, sum, depth, scale, unscaleA, unscaleB, mask);
}

/** One row's 4 sums, as tile4 steps them (`deferCancelled` a constant: see `step`). */
// @ts-ignore: decorator
@inline function sumRow(
  a: usize, aStep: usize, b: usize, bRowStride: usize, depth: i32, smallest: v128, unscaleA: f32, unscaleB: f32, deferCancelled: bool,
): v128 {
  let sum = f32x4.splat(0);
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    sum = step(v128.load32_splat(pa), v128.load(pb), sum, smallest, unscaleA, unscaleB, deferCancelled);
    pa += aStep; pb += bRowStride;
  }
  return sum;
}

/** c += scale·(sum scaled back) in the lanes `mask` keeps (the others + 0); a lane whose sum overflowed is summed again as gemm sums it. */
// @ts-ignore: decorator
@inline function store4(
  a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, sum: v128, depth: i32,
  scale: f32, unscaleA: f32, unscaleB: f32, mask: v128,
): void {
  const old = v128.load(c);
  const unscale = f32x4.splat(unscaleA * unscaleB);
  v128.store(c, f32x4.add(old, v128.and(f32x4.mul(f32x4.splat(scale), f32x4.mul(sum, unscale)), mask)));
  const overflowed = v128.and(mask, notFinite(sum));
  if (v128.any_true(overflowed)) sumAgain(a, aStep, b, bRowStride, c, old, overflowed, depth, scale, unscaleA, unscaleB);
}

/** The lanes `redo` of c (whose value before the tile was `old`) summed again from the factors scaled back, as gemm sums them. */
function sumAgain(a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, old: v128, redo: v128, depth: i32, scale: f32, unscaleA: f32, unscaleB: f32): void {
  let sum = f32x4.splat(0);
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    sum = madd(f32x4.splat(load<f32>(pa) * unscaleA), f32x4.mul(v128.load(pb), f32x4.splat(unscaleB)), sum);
    pa += aStep; pb += bRowStride;
  }
  v128.store(c, v128.bitselect(f32x4.add(old, f32x4.mul(f32x4.splat(scale), sum)), v128.load(c), redo));
}
