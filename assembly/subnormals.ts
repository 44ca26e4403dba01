/**
 * @file Products whose factors hold subnormal floats (saturated sigmoids: sigmoid(z) for z below
 * about −87) without a multiply seeing one. Some CPUs (Intel's) multiply a subnormal operand in a
 * microcode assist, about ten times slower per instruction, and WebAssembly cannot flush them to
 * zero. Multiplying one factor by 2^24 and the other by 2^−24 changes no product a·b (the same
 * real number, so every rounding after it is the same) when both scalings are exact: the factor
 * scaled up finite and below 2^104, the one scaled down finite and zero or at least 2^−102 (so it
 * stays normal). Scaling back by the inverse power of two restores every value exactly.
 * Checks and scalings work on the bits, so they touch no subnormal arithmetic themselves.
 */
import { nonzeroBelow } from './simd';

/** Whether one of the `count` floats at x is subnormal (nonzero, below 2^−126 in magnitude). */
export function hasSubnormal(x: usize, count: i32): bool {
  const smallestNormal = i32x4.splat(0x00800000);
  let found = i32x4.splat(0);
  const total = <usize>count << 2, vectorBytes = <usize>(count & ~7) << 2;
  let p: usize = 0;
  for (; p < vectorBytes; p += 32) {
    const s0 = nonzeroBelow(v128.load(x + p), smallestNormal);
    const s1 = nonzeroBelow(v128.load(x + p, 16), smallestNormal);
    found = v128.or(found, v128.or(s0, s1));
  }
  if (v128.any_true(found)) return true;
  for (; p < total; p += 4) {
    const bits = load<u32>(x + p) & 0x7fffffff;
    if (bits != 0 && bits < 0x00800000) return true;
  }
  return false;
}

/** |bits| of 2^104 (2^24 up must stay below 2^128) and of 2^−102 (2^24 down must stay at least 2^−126). */
const UP_LIMIT = (127 + 104) << 23, DOWN_LIMIT = (127 - 102) << 23;

/**
 * Whether every one of the `count` floats at x can be multiplied by 2^24 (`up`) or by 2^−24 and
 * back exactly: finite, and below 2^104 (up) or zero or at least 2^−102 (down).
 */
export function rescalable(x: usize, count: i32, up: bool): bool {
  const magnitude = i32x4.splat(0x7fffffff), zero = i32x4.splat(0);
  const upLimit = i32x4.splat(UP_LIMIT), downLimit = i32x4.splat(DOWN_LIMIT), infinity = i32x4.splat(0x7f800000);
  let bad = zero;
  const total = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  let p: usize = 0;
  for (; p < vectorBytes; p += 16) {
    // |bits| is a nonnegative i32, so signed compares order the magnitudes (∞ and NaN above all).
    const bits = v128.and(v128.load(x + p), magnitude);
    bad = v128.or(bad, up
      ? i32x4.ge_s(bits, upLimit)
      : v128.or(i32x4.ge_s(bits, infinity), v128.and(i32x4.gt_s(bits, zero), i32x4.lt_s(bits, downLimit))));
  }
  if (v128.any_true(bad)) return false;
  for (; p < total; p += 4) {
    const bits = load<i32>(x + p) & 0x7fffffff;
    if (up ? bits >= UP_LIMIT : bits >= 0x7f800000 || (bits != 0 && bits < DOWN_LIMIT)) return false;
  }
  return true;
}

/**
 * x[i] ·= 2^exponent for the `count` floats at x, exact where `rescalable` said so (or where x
 * was scaled the other way from there), without a floating-point multiply on a subnormal: a
 * normal result moves the exponent field; a subnormal operand (up) is its integer significand
 * converted, times 2^(exponent − 149); a subnormal result (down) is |x|·2^(149 + exponent), a
 * whole number, truncated into the significand. For |exponent| from 23 to 100.
 */
export function scaleByPowerOfTwo(x: usize, count: i32, exponent: i32): void {
  const total = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  let p: usize = 0;
  for (; p < vectorBytes; p += 16) v128.store(x + p, scaled(v128.load(x + p), exponent));
  // The last 1-3 floats one at a time, through the same lanes.
  for (; p < total; p += 4) v128.store32_lane(x + p, scaled(v128.load32_zero(x + p), exponent), 0);
}

// @ts-ignore: decorator
@inline function scaled(v: v128, exponent: i32): v128 {
  const sign = v128.and(v, i32x4.splat(0x80000000));
  const exponentField = i32x4.shr_u(v128.and(v, i32x4.splat(0x7f800000)), 23);
  const moved = i32x4.add(v, i32x4.splat(exponent << 23));
  if (exponent > 0) {
    const subnormal = i32x4.eq(exponentField, i32x4.splat(0));
    const significand = f32x4.convert_i32x4_s(v128.and(v, i32x4.splat(0x007fffff)));
    const raised = v128.or(f32x4.mul(significand, f32x4.splat(reinterpret<f32>((exponent - 149 + 127) << 23))), sign);
    return v128.bitselect(raised, moved, subnormal);
  }
  const staysNormal = i32x4.gt_s(exponentField, i32x4.splat(-exponent));
  const whole = f32x4.mul(f32x4.abs(v), f32x4.splat(reinterpret<f32>((149 + exponent + 127) << 23)));
  const lowered = v128.or(i32x4.trunc_sat_f32x4_s(whole), sign);
  return v128.bitselect(moved, lowered, staysNormal);
}
