/**
 * @file A mostly-zero left factor kept as its nonzeros (compressed sparse rows), packed once and
 * read by both of its products: the first layer's input, whose pixels sparse-matmul.ts would
 * otherwise pack again in x·W and, transposed, in xᵀ·dY. The layout the host allocates:
 * rowStart u32[m + 1] (row i's entries are rowStart[i] .. rowStart[i + 1]), indices u32[m·k + 4]
 * (column of each entry) and values f32[m·k + 4] (3 entries of slack: the SIMD pack writes whole
 * vectors). Entries of a row are in column order, so each product sums in the same order as the
 * pack-as-you-go kernels of sparse-matmul.ts, and gives the same bits.
 */
import { touchRows } from './bytes-to-floats';
import { smallestSum, step, takeCancelled } from './rescaled-sums';
import { madd, notFinite } from './simd';
import { addScaledRowsInRegisters, packGroup, packNonzeros, sumScaledRows } from './sparse-matmul';

/** Packs the nonzeros of a[m,k] (NaN counts as nonzero) into rowStart, indices, values; returns how many. */
export function packRows(a: usize, m: i32, k: i32, rowStart: usize, indices: usize, values: usize): u32 {
  const rowBytes = <usize>k << 2;
  let e: u32 = 0;
  store<u32>(rowStart, 0);
  for (let i = 0; i < m; i++) {
    const at = <usize>e << 2;
    e += packNonzeros(a + <usize>i * rowBytes, k, 1, indices + at, values + at);
    store<u32>(rowStart + (<usize>(i + 1) << 2), e);
  }
  return e;
}

/**
 * The rows rows[0..count) (u32 indices) of a dataset of bytes[·, width], each value f32(byte)·scale
 * as bytesToFloats gives it, packed straight from the bytes: the same entries as gathering the
 * floats (gatherBytesToFloats) and packing them (packRows), without writing the floats. As in
 * gatherBytesToFloats, every row's cache lines are touched first, so their loads are in flight
 * together. Returns the touched bytes' OR, which only keeps those loads from being optimized away
 * (the count of entries is rowStart[count]).
 */
export function gatherSparseRows(bytes: usize, rows: usize, count: i32, width: i32, scale: f32, rowStart: usize, indices: usize, values: usize): u32 {
  const rowBytes = <usize>width;
  const touched = touchRows(bytes, rows, count, rowBytes);
  let e: u32 = 0;
  store<u32>(rowStart, 0);
  for (let i = 0; i < count; i++) {
    const row = bytes + <usize>load<u32>(rows + (<usize>i << 2)) * rowBytes;
    const at = <usize>e << 2;
    e += packByteRow(row, width, scale, indices + at, values + at);
    store<u32>(rowStart + (<usize>(i + 1) << 2), e);
  }
  return touched;
}

/** out[m,n] = a·b for a in rows (rowStart, indices, values) of m rows: every output row a sum of scaled rows of b (as matmulSparse). */
export function matmulSparseRows(rowStart: usize, indices: usize, values: usize, m: i32, b: usize, out: usize, n: i32, inRegisters: bool): void {
  const bRowBytes = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const start = <usize>load<u32>(rowStart + (<usize>i << 2)), end = <usize>load<u32>(rowStart + (<usize>(i + 1) << 2));
    const o = out + <usize>i * bRowBytes, pi = indices + (start << 2), pv = values + (start << 2), count = <u32>(end - start);
    if (inRegisters) addScaledRowsInRegisters(pi, pv, count, b, o, n, 1, true, bRowBytes);
    else sumScaledRows(pi, pv, count, b, o, n, bRowBytes);
  }
}

/** Bytes of scratch `matmulTransposeASparseRowsAdd` needs: a count per column, and each entry again by column (offset, value). */
export function matmulTransposeASparseRowsScratchBytes(k: i32, entries: i32): f64 {
  return (<f64>k + 4) * 4 + <f64>entries * 8;
}

/**
 * out[k,n] += scale·(aᵀ·b[m,n]) for a in rows (rowStart, indices, values) of m rows and k columns.
 * A counting sort turns the rows into columns (examples in order within each), then each output
 * row p is accumulated in registers over the examples whose column p is nonzero: the order and
 * bits of matmulTransposeASparseAdd, without its transpose and pack of the dense a. With
 * `unscaleB` = 2^−E (E from 23; n a multiple of 4), b is given as b·2^E, to take no subnormal
 * operand (rescaled-sums.ts), with the same bits; 1 for b as it is.
 */
export function matmulTransposeASparseRowsAdd(
  rowStart: usize, indices: usize, values: usize, m: i32, k: i32, b: usize, out: usize, n: i32, scale: f32, scratch: usize, unscaleB: f32,
): void {
  const bRowBytes = <usize>n << 2;
  const entries = <usize>load<u32>(rowStart + (<usize>m << 2));
  const next = scratch; // [k] u32: where column p's next entry goes
  const columnOffsets = scratch + ((<usize>k + 4) << 2), columnValues = columnOffsets + (entries << 2);
  memory.fill(next, 0, <usize>k << 2);
  for (let e: usize = 0; e < entries; e++) {
    const at = next + (<usize>load<u32>(indices + (e << 2)) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
  let total: u32 = 0;
  for (let p = 0; p < k; p++) {
    const at = next + (<usize>p << 2), columnCount = load<u32>(at);
    store<u32>(at, total);
    total += columnCount;
  }
  for (let i = 0; i < m; i++) {
    const start = <usize>load<u32>(rowStart + (<usize>i << 2)), end = <usize>load<u32>(rowStart + (<usize>(i + 1) << 2));
    const offset = <u32>(<usize>i * bRowBytes);
    for (let e = start; e < end; e++) {
      const at = next + (<usize>load<u32>(indices + (e << 2)) << 2), position = <usize>load<u32>(at);
      store<u32>(at, <u32>position + 1);
      store<u32>(columnOffsets + (position << 2), offset);
      store<f32>(columnValues + (position << 2), load<f32>(values + (e << 2)));
    }
  }
  // next[p] is now the end of column p, and the start of column p + 1.
  let start: usize = 0;
  for (let p = 0; p < k; p++) {
    const end = <usize>load<u32>(next + (<usize>p << 2));
    if (end != start) {
      const offsets = columnOffsets + (start << 2), values = columnValues + (start << 2), count = <u32>(end - start);
      if (unscaleB == 1) addScaledRowsInRegisters(offsets, values, count, b, out + <usize>p * bRowBytes, n, scale, false, 1);
      else addScaledRowsRescaled(offsets, values, count, b, out + <usize>p * bRowBytes, n, scale, unscaleB);
    }
    start = end;
  }
}

/**
 * addScaledRowsInRegisters' out += scale·Σ_e values[e]·b[offsets[e] bytes …] (n a multiple of 4)
 * for b given as b·2^E (unscaleB = 2^−E): each sum stepped by rescaled-sums.ts's `step` in the
 * same order, four vectors in flight, then scaled back; a lane whose scaled sum overflowed is
 * summed again from b scaled back.
 */
function addScaledRowsRescaled(offsets: usize, values: usize, count: u32, b: usize, out: usize, n: i32, scale: f32, unscaleB: f32): void {
  const smallest = smallestSum(1, unscaleB);
  const bytes = <usize>n << 2, end = <usize>count << 2;
  let j: usize = 0;
  for (; j + 64 <= bytes; j += 64) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
    for (let e: usize = 0; e < end; e += 4) {
      const factors = v128.load32_splat(values + e), row = b + <usize>load<u32>(offsets + e) + j;
      c0 = step(factors, v128.load(row), c0, smallest, 1, unscaleB, true);
      c1 = step(factors, v128.load(row, 16), c1, smallest, 1, unscaleB, true);
      c2 = step(factors, v128.load(row, 32), c2, smallest, 1, unscaleB, true);
      c3 = step(factors, v128.load(row, 48), c3, smallest, 1, unscaleB, true);
    }
    if (takeCancelled()) {
      // A sum cancelled to below 2^−126·2^E (rare): these sums again, such steps done as they are.
      c0 = f32x4.splat(0); c1 = c0; c2 = c0; c3 = c0;
      for (let e: usize = 0; e < end; e += 4) {
        const factors = v128.load32_splat(values + e), row = b + <usize>load<u32>(offsets + e) + j;
        c0 = step(factors, v128.load(row), c0, smallest, 1, unscaleB);
        c1 = step(factors, v128.load(row, 16), c1, smallest, 1, unscaleB);
        c2 = step(factors, v128.load(row, 32), c2, smallest, 1, unscaleB);
        c3 = step(factors, v128.load(row, 48), c3, smallest, 1, unscaleB);
      }
    }
    storeRescaledSum(offsets, values, end, b + j, out + j, c0, scale, unscaleB);
    storeRescaledSum(offsets, values, end, b + j + 16, out + j + 16, c1, scale, unscaleB);
    storeRescaledSum(offsets, values, end, b + j + 32, out + j + 32, c2, scale, unscaleB);
    storeRescaledSum(offsets, values, end, b + j + 48, out + j + 48, c3, scale, unscaleB);
  }
  for (; j < bytes; j += 16) {
    let c0 = sumVector(offsets, values, end, b + j, smallest, unscaleB, true);
    if (takeCancelled()) c0 = sumVector(offsets, values, end, b + j, smallest, unscaleB, false);
    storeRescaledSum(offsets, values, end, b + j, out + j, c0, scale, unscaleB);
  }
}

/** One vector of addScaledRowsRescaled's sums (b here at the vector's column; `deferCancelled` a constant: see `step`). */
// @ts-ignore: decorator
@inline function sumVector(offsets: usize, values: usize, end: usize, b: usize, smallest: v128, unscaleB: f32, deferCancelled: bool): v128 {
  let sum = f32x4.splat(0);
  for (let e: usize = 0; e < end; e += 4) sum = step(v128.load32_splat(values + e), v128.load(b + <usize>load<u32>(offsets + e)), sum, smallest, 1, unscaleB, deferCancelled);
  return sum;
}

/** out += scale·(c·unscaleB) (storeSum's, on the sum scaled back); lanes whose c overflowed are summed again from b·unscaleB (b here at the vector's column). */
// @ts-ignore: decorator
@inline function storeRescaledSum(offsets: usize, values: usize, end: usize, b: usize, out: usize, c: v128, scale: f32, unscaleB: f32): void {
  const old = v128.load(out);
  v128.store(out, f32x4.add(old, f32x4.mul(f32x4.splat(scale), f32x4.mul(c, f32x4.splat(unscaleB)))));
  const overflowed = notFinite(c);
  if (!v128.any_true(overflowed)) return;
  let sum = f32x4.splat(0);
  for (let e: usize = 0; e < end; e += 4) {
    sum = madd(v128.load32_splat(values + e), f32x4.mul(v128.load(b + <usize>load<u32>(offsets + e)), f32x4.splat(unscaleB)), sum);
  }
  v128.store(out, v128.bitselect(f32x4.add(old, f32x4.mul(f32x4.splat(scale), sum)), v128.load(out), overflowed));
}

/** Packs the nonzero bytes of one row of `width` bytes as (column, f32(byte)·scale) entries; returns how many. */
// @ts-ignore: decorator
@inline function packByteRow(row: usize, width: i32, scale: f32, indices: usize, values: usize): u32 {
  const factor = f32x4.splat(scale), zero = f32x4.splat(0);
  const groupStep = i32x4.splat(4);
  let lanes = i32x4(0, 1, 2, 3);
  let e: usize = 0;
  let p = 0;
  for (; p + 16 <= width; p += 16) {
    const packed = v128.load(row + <usize>p);
    if (v128.any_true(packed)) {
      // The conversion of bytesToFloats, then the pack of packNonzeros, one group of 4 at a time.
      const low = i16x8.extend_low_i8x16_u(packed), high = i16x8.extend_high_i8x16_u(packed);
      const v0 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(low)), factor);
      const v1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(low)), factor);
      const v2 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(high)), factor);
      const v3 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(high)), factor);
      e = packGroup(v0, f32x4.ne(v0, zero), lanes, indices, values, e);
      e = packGroup(v1, f32x4.ne(v1, zero), i32x4.add(lanes, groupStep), indices, values, e);
      e = packGroup(v2, f32x4.ne(v2, zero), i32x4.add(lanes, i32x4.splat(8)), indices, values, e);
      e = packGroup(v3, f32x4.ne(v3, zero), i32x4.add(lanes, i32x4.splat(12)), indices, values, e);
    }
    lanes = i32x4.add(lanes, i32x4.splat(16));
  }
  for (; p < width; p++) {
    const value = <f32>load<u8>(row + <usize>p) * scale;
    if (value != 0) {
      store<u32>(indices + e, <u32>p);
      store<f32>(values + e, value);
      e += 4;
    }
  }
  return <u32>(e >> 2);
}
