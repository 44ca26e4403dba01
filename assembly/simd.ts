/**
 * @file The SIMD building blocks every kernel shares: the fused multiply-add that differs between
 * the two builds (relaxed SIMD's f32x4.relaxed_madd, or a multiply then an add in plain SIMD128),
 * the lane shuffles that turn four partial-sum vectors into four sums, the lane masks of a tile
 * that overlaps the last 4 columns, lane tests on a float's bits, and the packing of chosen lanes
 * (sparse rows, column lists).
 */

/** a·b + c, four lanes. One rounding with relaxed SIMD on FMA hardware, two without. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** a where the lane mask m is set, else b (m's lanes all ones or all zeros): one blend with relaxed SIMD, three bitwise ops without. */
// @ts-ignore: decorator
@inline export function selectLanes(a: v128, b: v128, m: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, m);
  return v128.bitselect(a, b, m);
}

/** [Σ lanes of s0, Σ lanes of s1, Σ lanes of s2, Σ lanes of s3]: the end of four dot products. */
// @ts-ignore: decorator
@inline export function sumLanes4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 1, 4, 5), v128.shuffle<f32>(s0, s1, 2, 3, 6, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 1, 4, 5), v128.shuffle<f32>(s2, s3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 2, 4, 6), v128.shuffle<f32>(s01, s23, 1, 3, 5, 7));
}

/** The sum of the four lanes of v. */
// @ts-ignore: decorator
@inline export function sumLanes(v: v128): f32 {
  const pairs = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(pairs, 0) + f32x4.extract_lane(pairs, 1);
}

/** A lane mask that keeps every lane. */
export const ALL_LANES = i32x4(-1, -1, -1, -1);

/** A lane mask that keeps the last `count` (1-3) lanes. */
// @ts-ignore: decorator
@inline export function lastLanes(count: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(4 - count));
}

/** The lanes of v that are nonzero and below `limit` in magnitude (limit: float bits, positive). */
// @ts-ignore: decorator
@inline export function nonzeroBelow(v: v128, limit: v128): v128 {
  // |bits| + 2^31 − 1, wrapping: a zero goes to the top of the signed range and the nonzero
  // magnitudes in order from its bottom, so one signed compare (one instruction; unsigned takes four) tests both.
  const shift = i32x4.splat(0x7fffffff);
  return i32x4.lt_s(i32x4.add(v128.and(v, shift), shift), i32x4.add(limit, shift));
}

/** The lanes of v that are infinite or NaN. */
// @ts-ignore: decorator
@inline export function notFinite(v: v128): v128 {
  return i32x4.ge_u(v128.and(v, i32x4.splat(0x7fffffff)), i32x4.splat(0x7f800000));
}

/** Lane 0 of madd(a, b, c): the host asks once whether `madd` rounds once (fused) or twice. */
export function maddOnce(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}

/** For each 4-bit mask, the i8x16.swizzle control that packs the selected 32-bit lanes first (0x80: zero). */
const PACK_TABLE = memory.data<u8>([
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128,
  8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128,
  12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128,
  8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

/** The i8x16.swizzle control that moves the 32-bit lanes set in `bits` (a lane bitmask) to the front, zeros after. */
// @ts-ignore: decorator
@inline function packControl(bits: i32): v128 {
  return v128.load(PACK_TABLE + (<usize>bits << 4));
}

/**
 * The lanes of v that `bits` selects moved to the front, zeros after. The table's controls are
 * lane bytes below 16 or 128, on which the relaxed swizzle is defined (128 gives 0 everywhere)
 * and is one x86 pshufb, without the plain swizzle's clamp of indices 16-127.
 */
// @ts-ignore: decorator
@inline export function packLanes(v: v128, bits: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(v, packControl(bits));
  return i8x16.swizzle(v, packControl(bits));
}
