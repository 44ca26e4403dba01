/**
 * @file exp(x) in float64, bit for bit what JavaScript's Math.exp returns in V8 (Node, Chromium):
 * fdlibm's algorithm (Sun Microsystems, 1993; the FreeBSD variant V8 ships in
 * src/base/ieee754.cc). Reduce x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part whose
 * products with k are exact and a low part), approximate exp(r) by a degree-5 rational form,
 * then scale by 2^k. Every operation is an IEEE double operation in the same order, so the
 * result is the same double, and the wasm softmax gives the reference's numbers exactly
 * (test/core/exact-softmax.test.ts compares millions of arguments). exactExp is the scalar form,
 * exactExp2 the same steps on two float64 lanes at once (what the softmax uses).
 */

const LN2_HI: f64 = 6.93147180369123816490e-01; // ln2's high part (0x3FE62E42FEE00000)
const LN2_LO: f64 = 1.90821492927058770002e-10; // ln2 − LN2_HI (0x3DEA39EF35793C76)
const INV_LN2: f64 = 1.44269504088896338700e+00;
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;
const OVERFLOW_ABOVE: f64 = 7.09782712893383973096e+02;
const UNDERFLOW_BELOW: f64 = -7.45133219101941108420e+02;
const TWO_TO_MINUS_1000: f64 = 9.33263618503218878990e-302;
const TWO_TO_1023: f64 = 8.988465674311579539e307;
/** V8 returns the correctly rounded e for exp(1), where the general path is one bit off. */
const E: f64 = 2.718281828459045;

/** 2^e for an unbiased exponent e in [−1022, 1023]. */
// @ts-ignore: decorator
@inline function powerOfTwo(e: i32): f64 {
  return reinterpret<f64>(<u64>(0x3ff + e) << 52);
}

/** Math.exp(x) to the bit: fdlibm's steps in fdlibm's order (the scalar path: odd tails and |x| ≥ 704). */
export function exactExp(x: f64): f64 {
  const high = <u32>(reinterpret<u64>(x) >>> 32);
  const negative = high >>> 31;
  const absHigh = high & 0x7fffffff;

  if (absHigh >= 0x40862e42) { // |x| ≥ 709.78: overflow, underflow, infinities and NaN
    if (absHigh >= 0x7ff00000) {
      if (((absHigh & 0xfffff) | <u32>reinterpret<u64>(x)) != 0) return x + x; // NaN
      return negative ? 0 : x; // exp(−∞) = 0, exp(+∞) = +∞
    }
    if (x > OVERFLOW_ABOVE) return Infinity;
    if (x < UNDERFLOW_BELOW) return 0;
  }

  let hi: f64 = 0, lo: f64 = 0, k: i32 = 0;
  if (absHigh > 0x3fd62e42) { // |x| > ln2/2: reduce
    if (absHigh < 0x3ff0a2b2) { // and |x| < 1.5·ln2: k = ±1
      if (x == 1.0) return E;
      if (negative) {
        hi = x + LN2_HI; lo = -LN2_LO; k = -1;
      } else {
        hi = x - LN2_HI; lo = LN2_LO; k = 1;
      }
    } else {
      k = <i32>(INV_LN2 * x + (negative ? -0.5 : 0.5)); // x/ln2 rounded to nearest, by truncation
      const t = <f64>k;
      hi = x - t * LN2_HI; // exact: t·LN2_HI has trailing zero bits to spare
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (absHigh < 0x3e300000) { // |x| < 2^−28: exp(x) rounds to 1 + x
    return 1 + x;
  }

  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) return k == 1024 ? y * 2.0 * TWO_TO_1023 : y * powerOfTwo(k);
  return y * powerOfTwo(k + 1000) * TWO_TO_MINUS_1000;
}

/** exactExp2's constants, each in both lanes, loaded from memory: V8 rebuilds a v128.const from immediates at every use. */
const LANES = memory.data<f64>([
  0.5, 0.5, // 0
  INV_LN2, INV_LN2, // 16
  LN2_HI, LN2_HI, // 32
  LN2_LO, LN2_LO, // 48
  P1, P1, // 64
  P2, P2, // 80
  P3, P3, // 96
  P4, P4, // 112
  P5, P5, // 128
  1, 1, // 144
  2, 2, // 160
]);
const ABS_MASK = memory.data<u64>([0x7fffffffffffffff, 0x7fffffffffffffff]);
const SIGN_MASK = memory.data<u64>([0x8000000000000000, 0x8000000000000000]);
/** High words (as 64-bit lanes) of the thresholds: 704 (fdlibm's scaling needs no care below it), ln2/2, 2^−28. */
const HIGH_704 = memory.data<u64>([0x40860000, 0x40860000]);
const HIGH_HALF_LN2 = memory.data<u64>([0x3fd62e42, 0x3fd62e42]);
const HIGH_TINY = memory.data<u64>([0x3e300000, 0x3e300000]);
const EXPONENT_BIAS = memory.data<u64>([0x3ff, 0x3ff]);

/**
 * exactExp on both float64 lanes of x at once, with the same operations per lane (no fused
 * multiply-add anywhere), so each lane is exactExp's result. Lanes of |x| ≥ 704 (where the
 * scaling by 2^k needs fdlibm's special cases) and x = 1 go through the scalar path; a softmax
 * never has either. Below that, k lies in [−1016, 1016], so the result is y·2^k with 2^k built
 * from its bits.
 */
// @ts-ignore: decorator
@inline export function exactExp2(x: v128): v128 {
  const one = v128.load(LANES, 144), two = v128.load(LANES, 160);
  const absHigh = i64x2.shr_u(v128.and(x, v128.load(ABS_MASK)), 32);
  if (v128.any_true(v128.or(i64x2.gt_s(absHigh, i64x2.sub(v128.load(HIGH_704), i64x2.splat(1))), f64x2.eq(x, one)))) {
    return f64x2.replace_lane(f64x2.splat(exactExp(f64x2.extract_lane(x, 0))), 1, exactExp(f64x2.extract_lane(x, 1)));
  }
  // k: x/ln2 rounded to nearest by truncating x/ln2 ± 1/2 (the sign of x copied onto 1/2). Between
  // ln2/2 and 1.5·ln2 that is the reference's k = ±1 too; at or below ln2/2 (by the high word) the
  // reference takes k = 0.
  const halfWithSign = v128.or(v128.load(LANES), v128.and(x, v128.load(SIGN_MASK)));
  const rounded = f64x2.trunc(f64x2.add(f64x2.mul(v128.load(LANES, 16), x), halfWithSign));
  const kf = v128.andnot(rounded, i64x2.le_s(absHigh, v128.load(HIGH_HALF_LN2)));
  const hi = f64x2.sub(x, f64x2.mul(kf, v128.load(LANES, 32))); // x itself when k = 0
  const lo = f64x2.mul(kf, v128.load(LANES, 48));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  let p = f64x2.add(v128.load(LANES, 112), f64x2.mul(t, v128.load(LANES, 128)));
  p = f64x2.add(v128.load(LANES, 96), f64x2.mul(t, p));
  p = f64x2.add(v128.load(LANES, 80), f64x2.mul(t, p));
  p = f64x2.add(v128.load(LANES, 64), f64x2.mul(t, p));
  const c = f64x2.sub(r, f64x2.mul(t, p));
  const rc = f64x2.mul(r, c);
  const unscaled = f64x2.sub(one, f64x2.sub(f64x2.div(rc, f64x2.sub(c, two)), r)); // k = 0
  const y = f64x2.sub(one, f64x2.sub(f64x2.sub(lo, f64x2.div(rc, f64x2.sub(two, c))), hi));
  const k = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(kf));
  const scaled = f64x2.mul(y, i64x2.shl(i64x2.add(k, v128.load(EXPONENT_BIAS)), 52));
  const result = v128.bitselect(unscaled, scaled, f64x2.eq(kf, v128.xor(kf, kf)));
  return v128.bitselect(f64x2.add(one, x), result, i64x2.lt_s(absHigh, v128.load(HIGH_TINY))); // |x| < 2^−28: 1 + x
}

/** out[i] = exactExp(x[i]) over `count` float64s, two at a time: for the test that holds it to Math.exp. */
export function exactExpArray(x: usize, out: usize, count: i32): void {
  const bytes = <usize>count << 3;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, exactExp2(v128.load(x + i)));
  for (; i < bytes; i += 8) store<f64>(out + i, exactExp(load<f64>(x + i)));
}
