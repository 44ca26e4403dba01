/**
 * @file The logistic sigmoid and tanh on four float32 lanes at a time: a Cephes-style e^t for
 * t ≤ 0 (t = n·ln2 + r, a degree-5 polynomial for e^r, 2^n put in through the exponent bits in
 * two halves so results down to the smallest subnormal round once), and both activations
 * written on e^(−|x|) ∈ (0, 1] so nothing can overflow. Within ~2 ulp of f64 Math rounded to
 * float32 (test/core/fast-activations.test.ts measures it); saturation is exact (sigmoid(1e4) = 1,
 * sigmoid(−1e4) = 0, tanh(±1e4) = ±1) and NaN in gives NaN out.
 */
import { madd, selectLanes } from './simd';

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

/**
 * e^t for t ≤ 0 in four lanes (t > 0 is not handled; NaN gives NaN). Cephes expf's polynomial.
 * `subnormalFree` (a constant) rounds results below 2^−126 without a subnormal multiply, the same bits.
 */
// @ts-ignore: decorator
@inline function expNonPositive(t: v128, subnormalFree: bool): v128 {
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
  const scaled = f32x4.mul(p, scaleA); // exact: p·2^half is normal
  if (!subnormalFree) return f32x4.mul(scaled, scaleB);
  // Below n = −126, p·2^n is subnormal: a multiply rounding to it takes a microcode assist on
  // Intel cores. Those lanes round it as that multiply does, on normal floats (`toSubnormalGrid`).
  // (At n = −126, p·2^n is subnormal for p < 1 too: a narrow band left to the multiply.)
  const subnormal = f32x4.lt(n, f32x4.splat(-126)); // false for NaN
  if (i32x4.bitmask(subnormal) == 0) return f32x4.mul(scaled, scaleB);
  const normal = f32x4.mul(scaled, selectLanes(f32x4.splat(1), scaleB, subnormal));
  return selectLanes(toSubnormalGrid(scaled, i32x4.add(scaleB, i32x4.splat(SUBNORMAL_SHIFT << 23)), subnormal), normal, subnormal);
}

/** 2^SUBNORMAL_SHIFT: products below 2^−126 are formed that much larger, where they are normal. */
const SUBNORMAL_SHIFT = 64;
/** 2^(−126 + SUBNORMAL_SHIFT) and 2^(149 − SUBNORMAL_SHIFT), as literals (Math.pow is a call at run time). */
const GRID_OFFSET: f32 = 2.168404344971009e-19;
const GRID_TO_BITS: f32 = 3.8685626227668134e25;

/**
 * round(a·b·2^−SUBNORMAL_SHIFT) for lanes `lanes` whose exact product a·b (given with b already
 * scaled up, and exact) is below 2^−126 once scaled back: a·b + C with C = 2^(−126 + shift) lies
 * in C's binade, whose float spacing is the subnormal grid scaled up, so the one rounding of the
 * multiply-add (the product itself is exact, fused or not) is the subnormal one, ties to even (C
 * is an even multiple of the grid); − C is exact, and the multiple of the grid it leaves, counted
 * as an integer, is the subnormal's bit pattern (2^23 for 2^−126 itself, where it rounds up).
 * Other lanes give garbage (the caller selects).
 */
// @ts-ignore: decorator
@inline function toSubnormalGrid(a: v128, b: v128, lanes: v128): v128 {
  const offset = f32x4.splat(GRID_OFFSET);
  const gridMultiple = f32x4.sub(madd(a, selectLanes(b, f32x4.splat(0), lanes), offset), offset);
  return i32x4.trunc_sat_f32x4_s(f32x4.mul(gridMultiple, f32x4.splat(GRID_TO_BITS)));
}

/**
 * 1/(1 + e^(−x)) in four lanes: 1/(1 + e) for x ≥ 0 and e/(1 + e) below, with e = e^(−|x|).
 * `subnormalFree` (a constant) does it without a subnormal operand or result in any arithmetic,
 * the same bits: for lanes where |x| may pass 87 (sigmoidForward looks).
 */
// @ts-ignore: decorator
@inline function sigmoid4(x: v128, subnormalFree: bool): v128 {
  const e = expNonPositive(f32x4.neg(f32x4.abs(x)), subnormalFree);
  const one = f32x4.splat(1);
  // A NaN lane fails x ≥ 0, so it takes e (NaN) as numerator.
  const positive = f32x4.ge(x, f32x4.splat(0));
  if (!subnormalFree) return f32x4.div(selectLanes(one, e, positive), f32x4.add(one, e));
  // A subnormal e (or 0) leaves 1 + e = 1, so the quotient is the numerator: e itself below 0.
  // Those lanes divide 0 instead, as an Intel core divides a subnormal in a microcode assist.
  const tiny = i32x4.lt_s(v128.and(e, i32x4.splat(0x7fffffff)), i32x4.splat(0x00800000)); // a NaN's magnitude bits are above
  const divided = v128.andnot(e, tiny);
  const quotient = f32x4.div(selectLanes(one, divided, positive), f32x4.add(one, divided));
  return selectLanes(e, quotient, v128.andnot(tiny, positive));
}

/** Below this |x| in every lane, sigmoid's e^(−|x|) ≥ e^−80 is normal: no lane needs the subnormal-free path. */
const SIGMOID_NORMAL_BELOW: f32 = 80;

/** tanh(x) in four lanes: sign(x)·tanh(|x|), an odd polynomial below 0.625, (1 − e)/(1 + e) with e = e^(−2|x|) above. */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const signBit = f32x4.splat(-0.0);
  const a = f32x4.abs(x);
  const one = f32x4.splat(1);
  const e = expNonPositive(f32x4.mul(a, f32x4.splat(-2)), false);
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
  const limit = f32x4.splat(SIGMOID_NORMAL_BELOW);
  let j: usize = 0;
  // Two vectors per iteration: their dependency chains interleave and share the constants.
  for (; j + 32 <= vectorBytes; j += 32) {
    const u = v128.load(x + j), v = v128.load(x + j, 16);
    if (i32x4.bitmask(v128.or(f32x4.ge(f32x4.abs(u), limit), f32x4.ge(f32x4.abs(v), limit))) == 0) {
      v128.store(out + j, sigmoid4(u, false)); v128.store(out + j, sigmoid4(v, false), 16);
    } else {
      v128.store(out + j, sigmoid4(u, true)); v128.store(out + j, sigmoid4(v, true), 16);
    }
  }
  for (; j < vectorBytes; j += 16) v128.store(out + j, sigmoid4(v128.load(x + j), true));
  const remaining = (bytes - j) >> 2;
  if (remaining > 0) storeTail(out + j, remaining, sigmoid4(loadTail(x + j, remaining), true));
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
