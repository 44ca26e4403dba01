/**
 * @file Products whose left factor is mostly zeros (raw MNIST pixels, 81% zeros): only the
 * nonzeros are multiplied. Each row's nonzeros are first packed into entries
 * (u32 byte offset of the matching row of the right factor, f32 value), found 16 pixels at a time
 * with one vector comparison per 4; then every output row is a sum of scaled rows of the right
 * factor. x·W (W is 400 kB) reads whole rows of W four at a time and updates the output row in
 * L1; xᵀ·dY (dY is 30 kB, in L1) keeps 28 columns of the sum in registers per pass.
 */
import { madd } from './simd';

/** Bytes of scratch `matmulSparse` needs: one packed row. */
export function matmulSparseScratchBytes(k: i32): f64 {
  return <f64>k * 8;
}

/** out[m,n] = a[m,k]·b[k,n], skipping the zeros of a. */
export function matmulSparse(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32, scratch: usize): void {
  const aRowBytes = <usize>k << 2, bRowBytes = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const end = packNonzeros(a + <usize>i * aRowBytes, k, <u32>bRowBytes, scratch);
    sumScaledRows(scratch, end, b, out + <usize>i * bRowBytes, n);
  }
}

/**
 * Bytes of scratch `matmulTransposeASparseAdd` needs: a cursor per column, the nonzeros by row
 * (with an end marker per row), then the nonzeros by column; 8 bytes per entry.
 */
export function matmulTransposeASparseScratchBytes(m: i32, k: i32): f64 {
  return (<f64>k + 4) * 4 + (<f64>m * k + m) * 8 + <f64>m * k * 8;
}

/**
 * out[k,n] += a[m,k]ᵀ·b[m,n], skipping the zeros of a. The nonzeros are regrouped by column of a
 * (a counting sort), so each output row p is accumulated in registers over the examples whose
 * pixel p is lit, and written once.
 */
export function matmulTransposeASparseAdd(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32, scratch: usize): void {
  const aRowBytes = <usize>k << 2, bRowBytes = <usize>n << 2;
  const cursor = scratch; // [k] i32: entries per column, then where each column's next entry goes, then where it ends
  const byRow = cursor + (<usize>(k + 4) << 2); // entries (pixel index, value), row after row
  memory.fill(cursor, 0, <usize>k << 2);
  let byRowEnd = byRow;
  for (let i = 0; i < m; i++) {
    const rowEnd = packNonzeros(a + <usize>i * aRowBytes, k, 1, byRowEnd);
    for (let e = byRowEnd; e < rowEnd; e += 8) {
      const counter = cursor + (<usize>load<u32>(e) << 2);
      store<u32>(counter, load<u32>(counter) + 1);
    }
    // A marker after each row: the scatter below recovers the row index by counting them.
    byRowEnd = markRowEnd(rowEnd);
  }
  // Exclusive prefix sums: cursor[p] = where column p's entries start.
  const byColumn = byRowEnd;
  let total: u32 = 0;
  for (let p = 0; p < k; p++) {
    const at = cursor + (<usize>p << 2);
    const count = load<u32>(at);
    store<u32>(at, total);
    total += count;
  }
  // Scatter, row by row, so each column's entries come in increasing row order.
  let row: usize = 0;
  for (let e = byRow; e < byRowEnd; e += 8) {
    const p = load<u32>(e);
    if (p == ROW_END) { row += bRowBytes; continue; }
    const at = cursor + (<usize>p << 2);
    const slot = byColumn + (<usize>load<u32>(at) << 3);
    store<u32>(at, load<u32>(at) + 1);
    store<u32>(slot, <u32>row);
    store<f32>(slot, load<f32>(e, 4), 4);
  }
  // cursor[p] now holds where column p ends, which is where column p+1 starts.
  let start = byColumn;
  for (let p = 0; p < k; p++) {
    const end = byColumn + (<usize>load<u32>(cursor + (<usize>p << 2)) << 3);
    if (end != start) addScaledRowsInRegisters(start, end, b, out + <usize>p * bRowBytes, n);
    start = end;
  }
}

/** The pixel index that marks the end of a row in the by-row list (no real index reaches it). */
const ROW_END: u32 = 0xffffffff;

// @ts-ignore: decorator
@inline function markRowEnd(at: usize): usize {
  store<u32>(at, ROW_END);
  store<f32>(at, 0, 4);
  return at + 8;
}

/**
 * Writes an entry (index·scale, value) for every nonzero of the `count` floats at `row`, into
 * `entries`; returns the end of what it wrote. NaN counts as nonzero, as in the reference.
 */
// @ts-ignore: decorator
@inline function packNonzeros(row: usize, count: i32, scale: u32, entries: usize): usize {
  const zero = f32x4.splat(0);
  let e = entries;
  let p = 0;
  for (; p + 16 <= count; p += 16) {
    const at = row + (<usize>p << 2);
    const m0 = f32x4.ne(v128.load(at), zero), m1 = f32x4.ne(v128.load(at, 16), zero);
    const m2 = f32x4.ne(v128.load(at, 32), zero), m3 = f32x4.ne(v128.load(at, 48), zero);
    if (!v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) continue;
    let bits = i32x4.bitmask(m0) | (i32x4.bitmask(m1) << 4) | (i32x4.bitmask(m2) << 8) | (i32x4.bitmask(m3) << 12);
    while (bits != 0) {
      const q = p + ctz(bits);
      bits &= bits - 1;
      store<u32>(e, <u32>q * scale);
      store<f32>(e, load<f32>(row + (<usize>q << 2)), 4);
      e += 8;
    }
  }
  for (; p < count; p++) {
    const value = load<f32>(row + (<usize>p << 2));
    if (value != 0) {
      store<u32>(e, <u32>p * scale);
      store<f32>(e, value, 4);
      e += 8;
    }
  }
  return e;
}

/**
 * out[0,n] = Σ over entries (offset, v) of v·b[offset + 4j], j < n, four entries at a time:
 * each pass reads four whole rows of b front to back and updates the output row (which stays in
 * L1) once, so every vector of out costs one load and one store per four multiply-adds. Reading
 * whole rows matters: a narrow column slice of many rows of a 512-byte-stride matrix falls into a
 * few cache sets and misses L1 every time.
 */
// @ts-ignore: decorator
@inline function sumScaledRows(entries: usize, end: usize, b: usize, out: usize, n: i32): void {
  const bytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2;
  let e = entries;
  // The first entry overwrites: out = v0·b[row0] (or 0 when the row has no nonzero).
  if (e < end) {
    const s0 = v128.load32_splat(e, 4), r0 = b + <usize>load<u32>(e);
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) v128.store(out + j, f32x4.mul(s0, v128.load(r0 + j)));
    for (; j < bytes; j += 4) store<f32>(out + j, load<f32>(e, 4) * load<f32>(r0 + j));
    e += 8;
  } else {
    memory.fill(out, 0, bytes);
  }
  for (; e + 32 <= end; e += 32) {
    const s0 = v128.load32_splat(e, 4), s1 = v128.load32_splat(e, 12), s2 = v128.load32_splat(e, 20), s3 = v128.load32_splat(e, 28);
    const r0 = b + <usize>load<u32>(e), r1 = b + <usize>load<u32>(e, 8), r2 = b + <usize>load<u32>(e, 16), r3 = b + <usize>load<u32>(e, 24);
    let j: usize = 0;
    // 16 columns per iteration, so the five address computations serve four vectors each.
    for (; j + 64 <= vectorBytes; j += 64) {
      const o = out + j, p0 = r0 + j, p1 = r1 + j, p2 = r2 + j, p3 = r3 + j;
      v128.store(o, madd(s3, v128.load(p3), madd(s2, v128.load(p2), madd(s1, v128.load(p1), madd(s0, v128.load(p0), v128.load(o))))));
      v128.store(o, madd(s3, v128.load(p3, 16), madd(s2, v128.load(p2, 16), madd(s1, v128.load(p1, 16), madd(s0, v128.load(p0, 16), v128.load(o, 16))))), 16);
      v128.store(o, madd(s3, v128.load(p3, 32), madd(s2, v128.load(p2, 32), madd(s1, v128.load(p1, 32), madd(s0, v128.load(p0, 32), v128.load(o, 32))))), 32);
      v128.store(o, madd(s3, v128.load(p3, 48), madd(s2, v128.load(p2, 48), madd(s1, v128.load(p1, 48), madd(s0, v128.load(p0, 48), v128.load(o, 48))))), 48);
    }
    for (; j < vectorBytes; j += 16) {
      let sum = v128.load(out + j);
      sum = madd(s0, v128.load(r0 + j), sum);
      sum = madd(s1, v128.load(r1 + j), sum);
      sum = madd(s2, v128.load(r2 + j), sum);
      sum = madd(s3, v128.load(r3 + j), sum);
      v128.store(out + j, sum);
    }
    for (; j < bytes; j += 4) {
      store<f32>(out + j, load<f32>(out + j) + load<f32>(e, 4) * load<f32>(r0 + j) + load<f32>(e, 12) * load<f32>(r1 + j)
        + load<f32>(e, 20) * load<f32>(r2 + j) + load<f32>(e, 28) * load<f32>(r3 + j));
    }
  }
  for (; e < end; e += 8) {
    const s0 = v128.load32_splat(e, 4), r0 = b + <usize>load<u32>(e);
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) v128.store(out + j, madd(s0, v128.load(r0 + j), v128.load(out + j)));
    for (; j < bytes; j += 4) store<f32>(out + j, load<f32>(out + j) + load<f32>(e, 4) * load<f32>(r0 + j));
  }
}

/**
 * out[0,n] += Σ over entries (offset, v) of v·b[offset + 4j], j < n, with the sums in registers:
 * out is read and written once per 28 columns. For a small b (dY, 30 kB, which stays in L1).
 */
// @ts-ignore: decorator
@inline function addScaledRowsInRegisters(entries: usize, end: usize, b: usize, out: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let j: usize = 0;
  // 7 accumulators (28 columns) per pass: V8 loads all of a pass's vectors before its
  // multiply-adds, so accumulators + loads + the broadcast value must fit 15 registers.
  for (; j + 112 <= bytes; j += 112) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0;
    for (let e = entries; e < end; e += 8) {
      const s = v128.load32_splat(e, 4);
      const row = b + <usize>load<u32>(e) + j;
      c0 = madd(s, v128.load(row), c0);
      c1 = madd(s, v128.load(row, 16), c1);
      c2 = madd(s, v128.load(row, 32), c2);
      c3 = madd(s, v128.load(row, 48), c3);
      c4 = madd(s, v128.load(row, 64), c4);
      c5 = madd(s, v128.load(row, 80), c5);
      c6 = madd(s, v128.load(row, 96), c6);
    }
    const o = out + j;
    c0 = f32x4.add(v128.load(o), c0); c1 = f32x4.add(v128.load(o, 16), c1);
    c2 = f32x4.add(v128.load(o, 32), c2); c3 = f32x4.add(v128.load(o, 48), c3);
    c4 = f32x4.add(v128.load(o, 64), c4); c5 = f32x4.add(v128.load(o, 80), c5);
    c6 = f32x4.add(v128.load(o, 96), c6);
    v128.store(o, c0); v128.store(o, c1, 16); v128.store(o, c2, 32); v128.store(o, c3, 48);
    v128.store(o, c4, 64); v128.store(o, c5, 80); v128.store(o, c6, 96);
  }
  for (; j + 64 <= bytes; j += 64) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
    for (let e = entries; e < end; e += 8) {
      const s = v128.load32_splat(e, 4);
      const row = b + <usize>load<u32>(e) + j;
      c0 = madd(s, v128.load(row), c0);
      c1 = madd(s, v128.load(row, 16), c1);
      c2 = madd(s, v128.load(row, 32), c2);
      c3 = madd(s, v128.load(row, 48), c3);
    }
    const o = out + j;
    c0 = f32x4.add(v128.load(o), c0); c1 = f32x4.add(v128.load(o, 16), c1);
    c2 = f32x4.add(v128.load(o, 32), c2); c3 = f32x4.add(v128.load(o, 48), c3);
    v128.store(o, c0); v128.store(o, c1, 16); v128.store(o, c2, 32); v128.store(o, c3, 48);
  }
  for (; j + 16 <= bytes; j += 16) {
    let c0 = f32x4.splat(0);
    for (let e = entries; e < end; e += 8) {
      c0 = madd(v128.load32_splat(e, 4), v128.load(b + <usize>load<u32>(e) + j), c0);
    }
    const o = out + j;
    v128.store(o, f32x4.add(v128.load(o), c0));
  }
  for (; j < bytes; j += 4) {
    let sum: f32 = 0;
    for (let e = entries; e < end; e += 8) sum += load<f32>(e, 4) * load<f32>(b + <usize>load<u32>(e) + j);
    const o = out + j;
    store<f32>(o, load<f32>(o) + sum);
  }
}
