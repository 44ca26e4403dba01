/**
 * @file The logistic sigmoid and tanh on four float32 lanes at a time: a Cephes-style e^t for
 * t ≤ 0 (t = n·ln2 + r, a degree-5 polynomial for e^r, 2^n put in through the exponent bits in
 * two halves so results down to the smallest subnormal round once), and both activations
 * written on e^(−|x|) ∈ (0, 1] so nothing can overflow. Within ~2 ulp of f64 Math rounded to
 * float32 (test/core/fast-activations.test.ts measures it); saturation is exact (sigmoid(1e4) = 1,
 * sigmoid(−1e4) = 0, tanh(±1e4) = ±1) and NaN in gives NaN out.
 */
import { madd } from './simd';

/** e^t is 0 in float32 below about −103.97; clamping here keeps 2^n inside the two-halves scaling. */
const EXP_INPUT_MIN: f32 = -112;
const LOG2E: f32 = 1.44269504088896341;
/** ln 2 = LN2_HIGH + LN2_LOW; LN2_HIGH has 9 significant bits, so n·LN2_HIGH is exact for |n| < 2^15. */
const LN2_HIGH: f32 = 0.693359375;
const LN2_LOW: f32 = -2.12194440e-4;
/** 1.5·2^23: adding it rounds a float in (−2^22, 2^22) to an integer held in the low mantissa bits. */
const ROUNDING_MAGIC: f32 = 12582912;
/** Below this |x|, tanh uses its odd polynomial: (1 − e)/(1 + e) would lose bits to cancellation. */
const TANH_POLYNOMIAL_BELOW: f32 = 0.625;

/** e^t for t ≤ 0 in four lanes (t > 0 is not handled; NaN gives NaN). Cephes expf's polynomial. */
// @ts-ignore: decorator
@inline function expNonPositive(t: v128): v128 {
  // pmax keeps NaN lanes (it returns its first operand unless that is below the bound).
  const clamped = f32x4.pmax(t, f32x4.splat(EXP_INPUT_MIN));
  const magic = f32x4.splat(ROUNDING_MAGIC);
  const shifted = madd(clamped, f32x4.splat(LOG2E), magic);
  const n = f32x4.sub(shifted, magic); // round(t / ln2), as a float in [−162, 0]
  let r = madd(n, f32x4.splat(-LN2_HIGH), clamped); // exact
  r = madd(n, f32x4.splat(-LN2_LOW), r); // r ∈ [−ln2/2, ln2/2]
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1))); // e^r ∈ [0.7, 1.42]
  // 2^n as 2^half · 2^(n − half): each factor is a normal float, and only the last multiply rounds.
  const nBits = i32x4.sub(shifted, magic); // the integer n, read from the mantissa bits
  const half = i32x4.shr_s(nBits, 1);
  const bias = i32x4.splat(127);
  const scaleA = i32x4.shl(i32x4.add(half, bias), 23);
  const scaleB = i32x4.shl(i32x4.add(i32x4.sub(nBits, half), bias), 23);
  return f32x4.mul(f32x4.mul(p, scaleA), scaleB);
}

/** 1/(1 + e^(−x)) in four lanes: 1/(1 + e) for x ≥ 0 and e/(1 + e) below, with e = e^(−|x|). */
// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  const e = expNonPositive(f32x4.neg(f32x4.abs(x)));
  const one = f32x4.splat(1);
  // A NaN lane fails x ≥ 0, so it takes e (NaN) as numerator.
  const numerator = v128.bitselect(one, e, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.div(numerator, f32x4.add(one, e));
}

/** tanh(x) in four lanes: sign(x)·tanh(|x|), an odd polynomial below 0.625, (1 − e)/(1 + e) with e = e^(−2|x|) above. */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const signBit = f32x4.splat(-0.0);
  const a = f32x4.abs(x);
  const one = f32x4.splat(1);
  const e = expNonPositive(f32x4.mul(a, f32x4.splat(-2)));
  const large = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  // Cephes tanhf: a + a·z·P(z), z = a².
  const z = f32x4.mul(a, a);
  let q = madd(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  q = madd(q, z, f32x4.splat(-5.37397155531e-2));
  q = madd(q, z, f32x4.splat(1.33314422036e-1));
  q = madd(q, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(q, z), a, a);
  // A NaN lane fails a < 0.625 and takes `large`, which is NaN.
  const magnitude = v128.bitselect(small, large, f32x4.lt(a, f32x4.splat(TANH_POLYNOMIAL_BELOW)));
  return v128.or(magnitude, v128.and(x, signBit));
}

/** The 0-3 floats after the last full vector, through the same lane function so every element rounds alike. */
// @ts-ignore: decorator
@inline function loadTail(at: usize, remaining: usize): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at));
  if (remaining > 1) v = f32x4.replace_lane(v, 1, load<f32>(at, 4));
  if (remaining > 2) v = f32x4.replace_lane(v, 2, load<f32>(at, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storeTail(at: usize, remaining: usize, v: v128): void {
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (remaining > 1) store<f32>(at, f32x4.extract_lane(v, 1), 4);
  if (remaining > 2) store<f32>(at, f32x4.extract_lane(v, 2), 8);
}

/** out = sigmoid(x) over `count` floats; out may be x. */
export function sigmoidForward(x: usize, out: usize, count: i32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  let j: usize = 0;
  // Two vectors per iteration: their dependency chains interleave and share the constants.
  for (; j + 32 <= vectorBytes; j += 32) {
    const a = sigmoid4(v128.load(x + j)), b = sigmoid4(v128.load(x + j, 16));
    v128.store(out + j, a); v128.store(out + j, b, 16);
  }
  for (; j < vectorBytes; j += 16) v128.store(out + j, sigmoid4(v128.load(x + j)));
  const remaining = (bytes - j) >> 2;
  if (remaining > 0) storeTail(out + j, remaining, sigmoid4(loadTail(x + j, remaining)));
}

/** out = tanh(x) over `count` floats; out may be x. */
export function tanhForward(x: usize, out: usize, count: i32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  let j: usize = 0;
  // Two vectors per iteration: their dependency chains interleave and share the constants.
  for (; j + 32 <= vectorBytes; j += 32) {
    const a = tanh4(v128.load(x + j)), b = tanh4(v128.load(x + j, 16));
    v128.store(out + j, a); v128.store(out + j, b, 16);
  }
  for (; j < vectorBytes; j += 16) v128.store(out + j, tanh4(v128.load(x + j)));
  const remaining = (bytes - j) >> 2;
  if (remaining > 0) storeTail(out + j, remaining, tanh4(loadTail(x + j, remaining)));
}
