/**
 * @file Dense matrix products with register tiles: C (+)= A·B where B is row-major and A is read
 * through two strides, so one family of tiles serves both x·W (A = x) and xᵀ·dY (A = xᵀ, read
 * column by column without a transpose). A 4x8 tile keeps 8 independent accumulators in
 * registers (enough to hide the multiply-add latency, few enough for V8's 15 vector registers)
 * and loads 2 vectors of B and 4 broadcast scalars of A per 8 multiply-adds.
 *
 * Columns past the last multiple of 4 are computed by one more 4-wide tile over the last 4
 * columns that stores only its new lanes (a masked store), rather than one column at a time.
 *
 * Addresses are byte offsets into linear memory. A(i, t) lives at a + i·aRowStride + t·aStep;
 * B[t, j] at b + t·bRowStride + 4j; C[i, j] at c + i·cRowStride + 4j.
 */
import { ALL_LANES, lastLanes, madd } from './simd';

/**
 * C[M,N] = A(M,K)·B[K,N], or C += scale·(A·B) when `accumulate`. The scale lets the weight
 * gradient land in the weights directly (W += −lr·xᵀ·dY, SGD fused into its gradient); with
 * scale 1 the product is added unchanged (multiplying by 1 is exact).
 */
export function gemm(
  a: usize, aRowStride: usize, aStep: usize,
  b: usize, bRowStride: usize,
  c: usize, cRowStride: usize,
  rows: i32, cols: i32, depth: i32, accumulate: bool, scale: f32,
): void {
  const scales = f32x4.splat(scale);
  let i = 0;
  // Where A's rows are 4 bytes apart (A = xᵀ: the weight gradient xᵀ·dY), a tile reads its four
  // rows at constant offsets from one pointer (V8 keeps them as base registers): three adds fewer
  // per step of eight multiply-adds. (x·W, its rows a row of x apart, gained nothing from a
  // constant 512 for 128 columns: its W is read from L2.)
  if (aRowStride == 4) {
    for (; i + 4 <= rows; i += 4) fourRows(a + <usize>i * aRowStride, aRowStride, aStep, b, bRowStride, c + <usize>i * cRowStride, cRowStride, cols, depth, accumulate, scales, scale, true);
  } else {
    for (; i + 4 <= rows; i += 4) fourRows(a + <usize>i * aRowStride, aRowStride, aStep, b, bRowStride, c + <usize>i * cRowStride, cRowStride, cols, depth, accumulate, scales, scale, false);
  }
  for (; i < rows; i++) {
    const aRow = a + <usize>i * aRowStride;
    const cRow = c + <usize>i * cRowStride;
    let j = 0;
    for (; j + 16 <= cols; j += 16) {
      tile1x16(aRow, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), depth, accumulate, scales);
    }
    for (; j + 4 <= cols; j += 4) {
      tile1x4(aRow, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), depth, accumulate, scales, ALL_LANES);
    }
    if (j < cols && cols >= 4) {
      const last = <usize>(cols - 4) << 2;
      tile1x4(aRow, aStep, b + last, bRowStride, cRow + last, depth, accumulate, scales, lastLanes(cols - j));
    } else {
      for (; j < cols; j++) element(aRow, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), depth, accumulate, scale);
    }
  }
}

/** Rows i..i+3 of C, every column: 4x8 tiles, then 4x4, then the last columns. `adjacentRows`: aRowStride is 4. */
// @ts-ignore: decorator
@inline function fourRows(
  aRow: usize, aRowStride: usize, aStep: usize, b: usize, bRowStride: usize, cRow: usize, cRowStride: usize,
  cols: i32, depth: i32, accumulate: bool, scales: v128, scale: f32, adjacentRows: bool,
): void {
  let j = 0;
  for (; j + 8 <= cols; j += 8) {
    tile4x8(aRow, aRowStride, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), cRowStride, depth, accumulate, scales, adjacentRows);
  }
  for (; j + 4 <= cols; j += 4) {
    tile4x4(aRow, aRowStride, aStep, b + (<usize>j << 2), bRowStride, cRow + (<usize>j << 2), cRowStride, depth, accumulate, scales, ALL_LANES, adjacentRows);
  }
  if (j < cols && cols >= 4) {
    // The last 1-3 columns: a tile over the last 4 columns that writes only its new lanes.
    const last = <usize>(cols - 4) << 2;
    tile4x4(aRow, aRowStride, aStep, b + last, bRowStride, cRow + last, cRowStride, depth, accumulate, scales, lastLanes(cols - j), adjacentRows);
  } else {
    for (; j < cols; j++) {
      for (let r = 0; r < 4; r++) {
        element(aRow + <usize>r * aRowStride, aStep, b + (<usize>j << 2), bRowStride, cRow + <usize>r * cRowStride + (<usize>j << 2), depth, accumulate, scale);
      }
    }
  }
}

/** A(row r, t) broadcast: 4r bytes past row 0's pointer when the rows are adjacent, else from row r's own pointer. */
// @ts-ignore: decorator
@inline function rowOf(a0: usize, ar: usize, r: i32, adjacentRows: bool): v128 {
  if (!adjacentRows) return v128.load32_splat(ar);
  return r == 1 ? v128.load32_splat(a0, 4) : r == 2 ? v128.load32_splat(a0, 8) : v128.load32_splat(a0, 12);
}

// @ts-ignore: decorator
@inline function storeTile(c: usize, value: v128, accumulate: bool, scales: v128): void {
  v128.store(c, accumulate ? f32x4.add(v128.load(c), f32x4.mul(scales, value)) : value);
}

/** Stores the lanes of `value` that `mask` keeps (scaled and added to c when accumulating); c's other lanes stay as they are. */
// @ts-ignore: decorator
@inline function storeLanes(c: usize, value: v128, accumulate: bool, scales: v128, mask: v128): void {
  const old = v128.load(c);
  v128.store(c, accumulate ? f32x4.add(old, v128.and(f32x4.mul(scales, value), mask)) : v128.bitselect(value, old, mask));
}

// @ts-ignore: decorator
@inline function tile4x8(
  a: usize, aRowStride: usize, aStep: usize, b: usize, bRowStride: usize,
  c: usize, cRowStride: usize, depth: i32, accumulate: bool, scales: v128, adjacentRows: bool,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let a0 = a, a1 = a + aRowStride, a2 = a1 + aRowStride, a3 = a2 + aRowStride;
  let pb = b;
  for (let t = 0; t < depth; t++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = rowOf(a0, a1, 1, adjacentRows);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = rowOf(a0, a2, 2, adjacentRows);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = rowOf(a0, a3, 3, adjacentRows);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += aStep; pb += bRowStride;
    if (!adjacentRows) { a1 += aStep; a2 += aStep; a3 += aStep; }
  }
  storeTile(c, c00, accumulate, scales); storeTile(c + 16, c01, accumulate, scales); c += cRowStride;
  storeTile(c, c10, accumulate, scales); storeTile(c + 16, c11, accumulate, scales); c += cRowStride;
  storeTile(c, c20, accumulate, scales); storeTile(c + 16, c21, accumulate, scales); c += cRowStride;
  storeTile(c, c30, accumulate, scales); storeTile(c + 16, c31, accumulate, scales);
}

// @ts-ignore: decorator
@inline function tile4x4(
  a: usize, aRowStride: usize, aStep: usize, b: usize, bRowStride: usize,
  c: usize, cRowStride: usize, depth: i32, accumulate: bool, scales: v128, mask: v128, adjacentRows: bool,
): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
  let a0 = a, a1 = a + aRowStride, a2 = a1 + aRowStride, a3 = a2 + aRowStride;
  let pb = b;
  for (let t = 0; t < depth; t++) {
    const b0 = v128.load(pb);
    c0 = madd(v128.load32_splat(a0), b0, c0);
    c1 = madd(rowOf(a0, a1, 1, adjacentRows), b0, c1);
    c2 = madd(rowOf(a0, a2, 2, adjacentRows), b0, c2);
    c3 = madd(rowOf(a0, a3, 3, adjacentRows), b0, c3);
    a0 += aStep; pb += bRowStride;
    if (!adjacentRows) { a1 += aStep; a2 += aStep; a3 += aStep; }
  }
  storeLanes(c, c0, accumulate, scales, mask); c += cRowStride;
  storeLanes(c, c1, accumulate, scales, mask); c += cRowStride;
  storeLanes(c, c2, accumulate, scales, mask); c += cRowStride;
  storeLanes(c, c3, accumulate, scales, mask);
}

// @ts-ignore: decorator
@inline function tile1x16(a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, depth: i32, accumulate: bool, scales: v128): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    const s = v128.load32_splat(pa);
    c0 = madd(s, v128.load(pb), c0);
    c1 = madd(s, v128.load(pb, 16), c1);
    c2 = madd(s, v128.load(pb, 32), c2);
    c3 = madd(s, v128.load(pb, 48), c3);
    pa += aStep; pb += bRowStride;
  }
  storeTile(c, c0, accumulate, scales); storeTile(c + 16, c1, accumulate, scales); storeTile(c + 32, c2, accumulate, scales); storeTile(c + 48, c3, accumulate, scales);
}

// @ts-ignore: decorator
@inline function tile1x4(a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, depth: i32, accumulate: bool, scales: v128, mask: v128): void {
  let c0 = f32x4.splat(0);
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
    pa += aStep; pb += bRowStride;
  }
  storeLanes(c, c0, accumulate, scales, mask);
}

/** One element: a column of B that does not fill a vector. */
// @ts-ignore: decorator
@inline function element(a: usize, aStep: usize, b: usize, bRowStride: usize, c: usize, depth: i32, accumulate: bool, scale: f32): void {
  let sum: f32 = 0;
  let pa = a, pb = b;
  for (let t = 0; t < depth; t++) {
    sum += load<f32>(pa) * load<f32>(pb);
    pa += aStep; pb += bRowStride;
  }
  store<f32>(c, accumulate ? load<f32>(c) + scale * sum : sum);
}
