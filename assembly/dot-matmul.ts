/**
 * @file out[m,k] = a[m,n]·b[k,n]ᵀ (the input gradient dY·Wᵀ) as dot products of rows, both
 * read contiguously. A 2x4 tile (2 rows of a against 4 rows of b) keeps 8 vector accumulators of
 * partial sums, loads 6 vectors per 8 multiply-adds, and folds its accumulators into one vector of
 * 4 outputs per row at the end. The masked form computes only the outputs a ReLU will pass on,
 * each summed in the order the plain form sums it.
 */
import { reluBackward } from './elementwise';
import { madd, packLanes, sumLanes, sumLanes4 } from './simd';

export function matmulTransposeB(a: usize, b: usize, out: usize, m: i32, n: i32, k: i32): void {
  const rowBytes = <usize>n << 2; // a and b rows
  const outRowBytes = <usize>k << 2;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * rowBytes, o0 = out + <usize>i * outRowBytes;
    rowPair(a0, a0 + rowBytes, b, o0, o0 + outRowBytes, n, k);
  }
  for (; i < m; i++) {
    const aRow = a + <usize>i * rowBytes;
    const oRow = out + <usize>i * outRowBytes;
    for (let p = 0; p < k; p++) store<f32>(oRow + (<usize>p << 2), dot(aRow, b + <usize>p * rowBytes, n));
  }
}

/**
 * matmulTransposeB's out where mask[m,k] > 0, +0 elsewhere (NaN and −0 in mask count as not
 * above 0): dY·Wᵀ through a ReLU whose output is mask, as that ReLU's backward would leave it.
 * Each row pair runs the pair tile of matmulTransposeB on the columns both rows need, and each
 * row alone the columns only it needs, eight at a time: every output computed is summed as
 * matmulTransposeB sums it (one accumulator per output over the vectors, sumLanes4, the tail),
 * so kept outputs have its bits. A pair whose columns would cost more than MASKED_PAIR_SHARE of
 * the whole tile runs the whole tile and is masked after (picking costs more).
 * `indices`: 3·(k + 8) i32s of scratch (the three column lists).
 */
export function matmulTransposeBMasked(a: usize, b: usize, mask: usize, out: usize, m: i32, n: i32, k: i32, indices: usize): void {
  const rowBytes = <usize>n << 2;
  const outRowBytes = <usize>k << 2;
  const tileColumns = k & ~3; // the pair tile's columns; the rest are dot products
  const listBytes = (<usize>k + 8) << 2;
  const only0 = indices + listBytes, only1 = only0 + listBytes;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * rowBytes, a1 = a0 + rowBytes;
    const o0 = out + <usize>i * outRowBytes, o1 = o0 + outRowBytes;
    const mask0 = mask + <usize>i * outRowBytes, mask1 = mask0 + outRowBytes;
    neededColumns(mask0, mask1, tileColumns, indices, only0, only1);
    const both = load<i32>(NEEDED), just0 = load<i32>(NEEDED, 4), just1 = load<i32>(NEEDED, 8);
    // A column both rows need costs the tile what a whole column does; one row's, about 3/4 of that.
    if (<f64>both + ONE_ROW_COST * <f64>(just0 + just1) > MASKED_PAIR_SHARE * <f64>tileColumns) {
      rowPair(a0, a1, b, o0, o1, n, k);
      reluBackward(mask0, o0, o0, k);
      reluBackward(mask1, o1, o1, k);
      continue;
    }
    memory.fill(o0, 0, <usize>tileColumns << 2);
    memory.fill(o1, 0, <usize>tileColumns << 2);
    for (let q = 0; q < both; q += 4) {
      // A last quad short of columns repeats one, whose lanes then store the same bits twice.
      const at = indices + (<usize>q << 2);
      const p0 = load<i32>(at), p1 = load<i32>(at, 4), p2 = load<i32>(at, 8), p3 = load<i32>(at, 12);
      pairQuad(a0, a1, b + <usize>p0 * rowBytes, b + <usize>p1 * rowBytes, b + <usize>p2 * rowBytes, b + <usize>p3 * rowBytes, n);
      storeLanes(o0, v128.load(PAIR_SUMS), p0, p1, p2, p3);
      storeLanes(o1, v128.load(PAIR_SUMS, 16), p0, p1, p2, p3);
    }
    columnsOfRow(a0, b, o0, only0, just0, n);
    columnsOfRow(a1, b, o1, only1, just1, n);
    for (let p = tileColumns; p < k; p++) {
      const offset = <usize>p << 2, bRow = b + <usize>p * rowBytes;
      store<f32>(o0 + offset, load<f32>(mask0 + offset) > 0 ? dot(a0, bRow, n) : 0);
      store<f32>(o1 + offset, load<f32>(mask1 + offset) > 0 ? dot(a1, bRow, n) : 0);
    }
  }
  for (; i < m; i++) { // a lone last row: matmulTransposeB sums all of it with `dot`
    const aRow = a + <usize>i * rowBytes, oRow = out + <usize>i * outRowBytes, maskRow = mask + <usize>i * outRowBytes;
    for (let p = 0; p < k; p++) {
      const offset = <usize>p << 2;
      store<f32>(oRow + offset, load<f32>(maskRow + offset) > 0 ? dot(aRow, b + <usize>p * rowBytes, n) : 0);
    }
  }
}

/** Above this share of the whole tile's cost, the whole tile is cheaper than picking the columns (bench/zero-skipping.ts measures). */
const MASKED_PAIR_SHARE: f64 = 0.9;
/** An output of one row alone (9 loads per 8 multiply-adds) against the pair tile's two (6 per 8): 3/4 of a tile column. */
const ONE_ROW_COST: f64 = 0.75;

/**
 * The columns p < count (a multiple of 4) that both rows need (mask0[p] > 0 and mask1[p] > 0),
 * that only row 0 needs, and only row 1, as i32s into the three lists, each followed by 7 copies
 * of its last (so groups need no tail); the three counts into NEEDED.
 */
// @ts-ignore: decorator
@inline function neededColumns(mask0: usize, mask1: usize, count: i32, both: usize, only0: usize, only1: usize): void {
  const zero = f32x4.splat(0);
  let nBoth: u32 = 0, n0: u32 = 0, n1: u32 = 0;
  let columns = i32x4(0, 1, 2, 3);
  for (let p = 0; p < count; p += 4) {
    const offset = <usize>p << 2;
    const g0 = f32x4.gt(v128.load(mask0 + offset), zero), g1 = f32x4.gt(v128.load(mask1 + offset), zero);
    // Each list's columns moved to the front and stored whole: its count moves past the kept ones only.
    const bitsBoth = i32x4.bitmask(v128.and(g0, g1)), bits0 = i32x4.bitmask(v128.andnot(g0, g1)), bits1 = i32x4.bitmask(v128.andnot(g1, g0));
    v128.store(both + (<usize>nBoth << 2), packLanes(columns, bitsBoth));
    v128.store(only0 + (<usize>n0 << 2), packLanes(columns, bits0));
    v128.store(only1 + (<usize>n1 << 2), packLanes(columns, bits1));
    nBoth += popcnt(bitsBoth);
    n0 += popcnt(bits0);
    n1 += popcnt(bits1);
    columns = i32x4.add(columns, i32x4.splat(4));
  }
  repeatLast(both, nBoth);
  repeatLast(only0, n0);
  repeatLast(only1, n1);
  store<u32>(NEEDED, nBoth);
  store<u32>(NEEDED, n0, 4);
  store<u32>(NEEDED, n1, 8);
}

/** neededColumns' three counts (u32): columns both rows need, only row 0, only row 1. */
const NEEDED = memory.data(12, 4);

/** 7 copies of the last of the `count` i32s at list after them (none when the list is empty). */
// @ts-ignore: decorator
@inline function repeatLast(list: usize, count: u32): void {
  if (count == 0) return;
  const last = load<i32>(list + ((<usize>count - 1) << 2));
  for (let q: usize = 0; q < 7; q++) store<i32>(list + ((<usize>count + q) << 2), last);
}

/**
 * One row's outputs at the `count` columns listed at indices (rows of b), eight at a time (eight
 * independent sums keep the multiply-adds busy; four would wait on their latency), a last four by
 * the pair tile; each lane summed as pairQuad sums it. A last group short of columns repeats one,
 * whose lanes then store the same bits twice.
 */
function columnsOfRow(aRow: usize, b: usize, oRow: usize, indices: usize, count: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const vectorEnd = n & ~3;
  let q = 0;
  for (; q + 4 < count; q += 8) {
    const at = indices + (<usize>q << 2);
    const p0 = load<i32>(at), p1 = load<i32>(at, 4), p2 = load<i32>(at, 8), p3 = load<i32>(at, 12);
    const p4 = load<i32>(at, 16), p5 = load<i32>(at, 20), p6 = load<i32>(at, 24), p7 = load<i32>(at, 28);
    const b0 = b + <usize>p0 * rowBytes, b1 = b + <usize>p1 * rowBytes, b2 = b + <usize>p2 * rowBytes, b3 = b + <usize>p3 * rowBytes;
    const b4 = b + <usize>p4 * rowBytes, b5 = b + <usize>p5 * rowBytes, b6 = b + <usize>p6 * rowBytes, b7 = b + <usize>p7 * rowBytes;
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (let j: usize = 0, end = <usize>vectorEnd << 2; j < end; j += 16) {
      const x = v128.load(aRow + j);
      s0 = madd(x, v128.load(b0 + j), s0);
      s1 = madd(x, v128.load(b1 + j), s1);
      s2 = madd(x, v128.load(b2 + j), s2);
      s3 = madd(x, v128.load(b3 + j), s3);
      s4 = madd(x, v128.load(b4 + j), s4);
      s5 = madd(x, v128.load(b5 + j), s5);
      s6 = madd(x, v128.load(b6 + j), s6);
      s7 = madd(x, v128.load(b7 + j), s7);
    }
    let r = sumLanes4(s0, s1, s2, s3), t = sumLanes4(s4, s5, s6, s7);
    for (let j = vectorEnd; j < n; j++) {
      const offset = <usize>j << 2;
      const x = v128.load32_splat(aRow + offset);
      r = madd(x, f32x4(load<f32>(b0 + offset), load<f32>(b1 + offset), load<f32>(b2 + offset), load<f32>(b3 + offset)), r);
      t = madd(x, f32x4(load<f32>(b4 + offset), load<f32>(b5 + offset), load<f32>(b6 + offset), load<f32>(b7 + offset)), t);
    }
    storeLanes(oRow, r, p0, p1, p2, p3);
    storeLanes(oRow, t, p4, p5, p6, p7);
  }
  if (q < count) { // the last four alone: the pair tile with the row twice (its sums are the same either way)
    const at = indices + (<usize>q << 2);
    const p0 = load<i32>(at), p1 = load<i32>(at, 4), p2 = load<i32>(at, 8), p3 = load<i32>(at, 12);
    pairQuad(aRow, aRow, b + <usize>p0 * rowBytes, b + <usize>p1 * rowBytes, b + <usize>p2 * rowBytes, b + <usize>p3 * rowBytes, n);
    storeLanes(oRow, v128.load(PAIR_SUMS), p0, p1, p2, p3);
  }
}

/** oRow[p0..p3] = the lanes of r. */
// @ts-ignore: decorator
@inline function storeLanes(oRow: usize, r: v128, p0: i32, p1: i32, p2: i32, p3: i32): void {
  store<f32>(oRow + (<usize>p0 << 2), f32x4.extract_lane(r, 0));
  store<f32>(oRow + (<usize>p1 << 2), f32x4.extract_lane(r, 1));
  store<f32>(oRow + (<usize>p2 << 2), f32x4.extract_lane(r, 2));
  store<f32>(oRow + (<usize>p3 << 2), f32x4.extract_lane(r, 3));
}

/** Rows a0 and a1 of a against every row of b: the 2x4 tile over k's multiples of 4, dot products for the rest. */
// @ts-ignore: decorator
@inline function rowPair(a0: usize, a1: usize, b: usize, o0: usize, o1: usize, n: i32, k: i32): void {
  const rowBytes = <usize>n << 2;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const b0 = b + <usize>p * rowBytes;
    pairQuad(a0, a1, b0, b0 + rowBytes, b0 + 2 * rowBytes, b0 + 3 * rowBytes, n);
    v128.store(o0 + (<usize>p << 2), v128.load(PAIR_SUMS));
    v128.store(o1 + (<usize>p << 2), v128.load(PAIR_SUMS, 16));
  }
  for (; p < k; p++) {
    const bRow = b + <usize>p * rowBytes;
    store<f32>(o0 + (<usize>p << 2), dot(a0, bRow, n));
    store<f32>(o1 + (<usize>p << 2), dot(a1, bRow, n));
  }
}

/** The pair tile's 8 sums, [a0·b0..b3] then [a1·b0..b3]: pairQuad writes them, its caller stores them where they go. */
const PAIR_SUMS = memory.data(32, 16);

/**
 * Rows a0 and a1 of a against rows b0..b3 of b, into PAIR_SUMS: 8 vector accumulators over the
 * vectors of the rows (6 loads per 8 multiply-adds), folded by sumLanes4, then the tail's
 * multiply-adds. Every output of matmulTransposeB in a tile is summed so.
 */
// @ts-ignore: decorator
@inline function pairQuad(a0: usize, a1: usize, b0: usize, b1: usize, b2: usize, b3: usize, n: i32): void {
  const vectorEnd = n & ~3; // lanes [vectorEnd, n) are the scalar tail
  let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
  for (let j: usize = 0, end = <usize>vectorEnd << 2; j < end; j += 16) {
    const x0 = v128.load(a0 + j), x1 = v128.load(a1 + j);
    let w = v128.load(b0 + j);
    s00 = madd(x0, w, s00); s10 = madd(x1, w, s10);
    w = v128.load(b1 + j);
    s01 = madd(x0, w, s01); s11 = madd(x1, w, s11);
    w = v128.load(b2 + j);
    s02 = madd(x0, w, s02); s12 = madd(x1, w, s12);
    w = v128.load(b3 + j);
    s03 = madd(x0, w, s03); s13 = madd(x1, w, s13);
  }
  let r0 = sumLanes4(s00, s01, s02, s03), r1 = sumLanes4(s10, s11, s12, s13);
  for (let j = vectorEnd; j < n; j++) {
    const offset = <usize>j << 2;
    const w = f32x4(load<f32>(b0 + offset), load<f32>(b1 + offset), load<f32>(b2 + offset), load<f32>(b3 + offset));
    r0 = madd(v128.load32_splat(a0 + offset), w, r0);
    r1 = madd(v128.load32_splat(a1 + offset), w, r1);
  }
  v128.store(PAIR_SUMS, r0);
  v128.store(PAIR_SUMS, r1, 16);
}

/** Σ_j x[j]·y[j] over n floats, with two vector accumulators and a scalar tail. */
function dot(x: usize, y: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0;
  const bytes = <usize>n << 2;
  let j: usize = 0;
  for (; j + 32 <= bytes; j += 32) {
    s0 = madd(v128.load(x + j), v128.load(y + j), s0);
    s1 = madd(v128.load(x + j, 16), v128.load(y + j, 16), s1);
  }
  for (; j + 16 <= bytes; j += 16) s0 = madd(v128.load(x + j), v128.load(y + j), s0);
  let sum = sumLanes(f32x4.add(s0, s1));
  for (; j < bytes; j += 4) sum += load<f32>(x + j) * load<f32>(y + j);
  return sum;
}
