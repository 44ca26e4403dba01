/**
 * @file Products whose left factor is mostly zeros (raw MNIST pixels, 81% zeros): only the
 * nonzeros are multiplied. Each row's nonzeros are first packed, without a branch per pixel
 * (a data-dependent branch mispredicts on every new batch): 4 pixels at a time, a comparison
 * gives a 4-bit mask, a 16-entry table gives the byte shuffle that moves the nonzero lanes to
 * the front, and the write position advances by the mask's population count. Then every output
 * row is a sum of scaled rows of the right factor. x·W (W is 400 kB) reads whole rows of W four
 * at a time and updates the output row in L1; xᵀ·dY (dY is 30 kB, in L1) transposes x, packs
 * each column's nonzeros the same way, and keeps 28 columns of each output row's sum in registers.
 */
import { madd, packLanes } from './simd';
import { transpose } from './transpose';

/** Bytes of scratch `matmulSparse` needs: one packed row (indices and values, 3 lanes of slack each). */
export function matmulSparseScratchBytes(k: i32): f64 {
  return (<f64>k + 4) * 8;
}

/** out[m,n] = a[m,k]·b[k,n], skipping the zeros of a. */
export function matmulSparse(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32, scratch: usize): void {
  const aRowBytes = <usize>k << 2, bRowBytes = <usize>n << 2;
  const offsets = scratch, values = scratch + (<usize>(k + 4) << 2); // [k + 4] u32 byte offsets of rows of b, [k + 4] f32
  for (let i = 0; i < m; i++) {
    const count = packNonzeros(a + <usize>i * aRowBytes, k, <u32>bRowBytes, offsets, values);
    sumScaledRows(offsets, values, count, b, out + <usize>i * bRowBytes, n, 1);
  }
}

/**
 * out[m,n] = a[m,k]·b[k,n], skipping the zeros of a, with each output row's sums in registers
 * (28 columns per pass over the row's nonzeros) rather than in memory: for a b that fits in L2
 * and rows with many nonzeros (ReLU outputs against a hidden layer's 128x128 weights), where
 * `matmulSparse` spends its time loading and storing the output row. Same scratch as matmulSparse.
 */
export function matmulSparseInRegisters(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32, scratch: usize): void {
  const aRowBytes = <usize>k << 2, bRowBytes = <usize>n << 2;
  const offsets = scratch, values = scratch + (<usize>(k + 4) << 2);
  for (let i = 0; i < m; i++) {
    const count = packNonzeros(a + <usize>i * aRowBytes, k, <u32>bRowBytes, offsets, values);
    addScaledRowsInRegisters(offsets, values, count, b, out + <usize>i * bRowBytes, n, 1, true, 1);
  }
}

/** Bytes of scratch `matmulTransposeASparseAdd` needs: aᵀ, then one packed row of it (indices and values). */
export function matmulTransposeASparseScratchBytes(m: i32, k: i32): f64 {
  return <f64>k * m * 4 + (<f64>m + 4) * 8;
}

/**
 * out[k,n] += scale·(a[m,k]ᵀ·b[m,n]), skipping the zeros of a. a is transposed first (4x4 blocks
 * of shuffles), so that the nonzeros of each column of a pack like a row; each output row p is
 * then accumulated in registers over the examples whose pixel p is lit, and written once.
 * scale −lr makes this the SGD update of the first layer's weights itself.
 */
export function matmulTransposeASparseAdd(a: usize, b: usize, out: usize, m: i32, k: i32, n: i32, scale: f32, scratch: usize): void {
  const bRowBytes = <usize>n << 2, columnBytes = <usize>m << 2;
  const transposed = scratch; // [k, m]: aᵀ
  const offsets = transposed + <usize>k * columnBytes, values = offsets + (<usize>(m + 4) << 2); // [m + 4] u32, [m + 4] f32
  transpose(a, m, k, transposed);
  for (let p = 0; p < k; p++) {
    const count = packNonzeros(transposed + <usize>p * columnBytes, m, <u32>bRowBytes, offsets, values);
    // every row, even one with no entry: it gets + scale·(+0), as the dense gemm gives it (−0 + +0 is +0)
    addScaledRowsInRegisters(offsets, values, count, b, out + <usize>p * bRowBytes, n, scale, false, 1);
  }
}

/** Packs the selected lanes of `v` (and of `lanes`, their indices) to the front; returns the new write position. */
// @ts-ignore: decorator
@inline export function packGroup(v: v128, mask: v128, lanes: v128, offsets: usize, values: usize, e: usize): usize {
  const bits = i32x4.bitmask(mask);
  v128.store(values + e, packLanes(v, bits));
  v128.store(offsets + e, packLanes(lanes, bits));
  return e + (<usize>popcnt(bits) << 2);
}

/**
 * Writes index·scale to `offsets` and the value to `values` for every nonzero of the `count`
 * floats at `row`; returns how many. Up to 3 lanes past the count are overwritten. NaN counts
 * as nonzero, as in the reference.
 */
// @ts-ignore: decorator
@inline export function packNonzeros(row: usize, count: i32, scale: u32, offsets: usize, values: usize): u32 {
  const zero = f32x4.splat(0);
  const groupStep = i32x4.splat(<i32>(scale << 2)), blockStep = i32x4.splat(<i32>(scale << 4));
  let lanes = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(<i32>scale)); // index·scale of the group's 4 lanes
  let e: usize = 0;
  let p = 0;
  for (; p + 16 <= count; p += 16) {
    const at = row + (<usize>p << 2);
    const v0 = v128.load(at), v1 = v128.load(at, 16), v2 = v128.load(at, 32), v3 = v128.load(at, 48);
    const m0 = f32x4.ne(v0, zero), m1 = f32x4.ne(v1, zero), m2 = f32x4.ne(v2, zero), m3 = f32x4.ne(v3, zero);
    if (v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) { // runs of 16 zeros (image borders) are common
      e = packGroup(v0, m0, lanes, offsets, values, e);
      e = packGroup(v1, m1, i32x4.add(lanes, groupStep), offsets, values, e);
      lanes = i32x4.add(lanes, i32x4.add(groupStep, groupStep));
      e = packGroup(v2, m2, lanes, offsets, values, e);
      e = packGroup(v3, m3, i32x4.add(lanes, groupStep), offsets, values, e);
      lanes = i32x4.sub(lanes, i32x4.add(groupStep, groupStep));
    }
    lanes = i32x4.add(lanes, blockStep);
  }
  for (; p + 4 <= count; p += 4) {
    const v = v128.load(row + (<usize>p << 2));
    e = packGroup(v, f32x4.ne(v, zero), lanes, offsets, values, e);
    lanes = i32x4.add(lanes, groupStep);
  }
  for (; p < count; p++) {
    const value = load<f32>(row + (<usize>p << 2));
    if (value != 0) {
      store<u32>(offsets + e, <u32>p * scale);
      store<f32>(values + e, value);
      e += 4;
    }
  }
  return <u32>(e >> 2);
}

/**
 * out[0,n] = Σ over the `count` entries (offset, v) of v·b[offset·indexBytes + 4j], j < n, four entries at a
 * time: each pass reads four whole rows of b front to back and updates the output row (which
 * stays in L1) once, so every vector of out costs one load and one store per four multiply-adds.
 * Reading whole rows matters: a narrow column slice of many rows of a 512-byte-stride matrix
 * falls into a few cache sets and misses L1 every time.
 */
// @ts-ignore: decorator
@inline export function sumScaledRows(offsets: usize, values: usize, count: u32, b: usize, out: usize, n: i32, indexBytes: usize): void {
  const bytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2;
  let e: usize = 0;
  const end = <usize>count << 2;
  // The first entry overwrites: out = v0·b[row0] (or 0 when the row has no nonzero).
  if (e < end) {
    const s0 = v128.load32_splat(values), r0 = b + <usize>load<u32>(offsets) * indexBytes;
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) v128.store(out + j, f32x4.mul(s0, v128.load(r0 + j)));
    for (; j < bytes; j += 4) store<f32>(out + j, load<f32>(values) * load<f32>(r0 + j));
    e += 4;
  } else {
    memory.fill(out, 0, bytes);
  }
  for (; e + 16 <= end; e += 16) {
    const pv = values + e, po = offsets + e;
    const s0 = v128.load32_splat(pv), s1 = v128.load32_splat(pv, 4), s2 = v128.load32_splat(pv, 8), s3 = v128.load32_splat(pv, 12);
    const r0 = b + <usize>load<u32>(po) * indexBytes, r1 = b + <usize>load<u32>(po, 4) * indexBytes;
    const r2 = b + <usize>load<u32>(po, 8) * indexBytes, r3 = b + <usize>load<u32>(po, 12) * indexBytes;
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
      store<f32>(out + j, load<f32>(out + j) + load<f32>(pv) * load<f32>(r0 + j) + load<f32>(pv, 4) * load<f32>(r1 + j)
        + load<f32>(pv, 8) * load<f32>(r2 + j) + load<f32>(pv, 12) * load<f32>(r3 + j));
    }
  }
  for (; e < end; e += 4) {
    const s0 = v128.load32_splat(values + e), r0 = b + <usize>load<u32>(offsets + e) * indexBytes;
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) v128.store(out + j, madd(s0, v128.load(r0 + j), v128.load(out + j)));
    for (; j < bytes; j += 4) store<f32>(out + j, load<f32>(out + j) + load<f32>(values + e) * load<f32>(r0 + j));
  }
}

/**
 * out[0,n] += scale·Σ over the `count` entries (offset, v) of v·b[offset·indexBytes + 4j], j < n, with the sums in
 * registers: out is read and written once per 28 columns. For a small b (dY, 30 kB, in L1).
 * 7 accumulators per pass: V8 loads all of a pass's vectors before its multiply-adds, so
 * accumulators + loads + the broadcast value must fit its 15 vector registers.
 */
// @ts-ignore: decorator
@inline export function addScaledRowsInRegisters(
  offsets: usize, values: usize, count: u32, b: usize, out: usize, n: i32, scale: f32, overwrite: bool, indexBytes: usize,
): void {
  const bytes = <usize>n << 2, end = <usize>count << 2;
  let j: usize = 0;
  for (; j + 112 <= bytes; j += 112) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0;
    const columns = b + j; // one add per entry below, not two
    for (let e: usize = 0; e < end; e += 4) {
      const s = v128.load32_splat(values + e);
      const row = columns + <usize>load<u32>(offsets + e) * indexBytes;
      c0 = madd(s, v128.load(row), c0);
      c1 = madd(s, v128.load(row, 16), c1);
      c2 = madd(s, v128.load(row, 32), c2);
      c3 = madd(s, v128.load(row, 48), c3);
      c4 = madd(s, v128.load(row, 64), c4);
      c5 = madd(s, v128.load(row, 80), c5);
      c6 = madd(s, v128.load(row, 96), c6);
    }
    const o = out + j;
    storeSum(o, c0, scale, overwrite); storeSum(o + 16, c1, scale, overwrite); storeSum(o + 32, c2, scale, overwrite); storeSum(o + 48, c3, scale, overwrite);
    storeSum(o + 64, c4, scale, overwrite); storeSum(o + 80, c5, scale, overwrite); storeSum(o + 96, c6, scale, overwrite);
  }
  for (; j + 64 <= bytes; j += 64) {
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
    const columns = b + j;
    for (let e: usize = 0; e < end; e += 4) {
      const s = v128.load32_splat(values + e);
      const row = columns + <usize>load<u32>(offsets + e) * indexBytes;
      c0 = madd(s, v128.load(row), c0);
      c1 = madd(s, v128.load(row, 16), c1);
      c2 = madd(s, v128.load(row, 32), c2);
      c3 = madd(s, v128.load(row, 48), c3);
    }
    const o = out + j;
    storeSum(o, c0, scale, overwrite); storeSum(o + 16, c1, scale, overwrite); storeSum(o + 32, c2, scale, overwrite); storeSum(o + 48, c3, scale, overwrite);
  }
  for (; j + 16 <= bytes; j += 16) {
    let c0 = f32x4.splat(0);
    for (let e: usize = 0; e < end; e += 4) c0 = madd(v128.load32_splat(values + e), v128.load(b + <usize>load<u32>(offsets + e) * indexBytes + j), c0);
    storeSum(out + j, c0, scale, overwrite);
  }
  for (; j < bytes; j += 4) {
    let sum: f32 = 0;
    for (let e: usize = 0; e < end; e += 4) sum += load<f32>(values + e) * load<f32>(b + <usize>load<u32>(offsets + e) * indexBytes + j);
    store<f32>(out + j, overwrite ? sum : load<f32>(out + j) + scale * sum);
  }
}

/** out = c, or out += scale·c (the scale splat here, after the pass: one more live vector in it would spill an accumulator). */
// @ts-ignore: decorator
@inline export function storeSum(out: usize, c: v128, scale: f32, overwrite: bool): void {
  v128.store(out, overwrite ? c : f32x4.add(v128.load(out), f32x4.mul(f32x4.splat(scale), c)));
}
