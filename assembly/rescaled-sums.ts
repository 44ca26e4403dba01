/**
 * @file One step of four sums a + f·b, as a product with subnormal operands forms them, done on
 * operands multiplied by powers of two (2^E in all) so that no multiply sees a subnormal: an
 * Intel core takes each in a microcode assist, and WebAssembly cannot flush them to zero. The
 * sums keep the unscaled product's bits, 2^E times larger:
 *
 * - With one rounding per step (a fused multiply-add: the host uses these kernels only when
 *   `madd` fuses), round(2^E·v) = 2^E·round(v) for every exact v = s + a·b of magnitude 2^−126 or
 *   more: both roundings keep 24 bits there.
 * - Below 2^−126 the unscaled sum is subnormal, rounded to a multiple of 2^−149: a coarser grid
 *   than the scaled sum's. A step whose sum lands there is done again for those lanes against an
 *   offset that makes the float32 spacing that grid, one rounding as the unscaled one; where the
 *   previous sum was too large for that (the step cancelled it), on the values scaled back.
 *
 * The steps a sum spends among the subnormals (about 6% in models 6 and 8 without BN) cost a
 * second multiply-add; none meets a subnormal operand, as the unscaled ones do about as often.
 */
import { madd, nonzeroBelow, selectLanes } from './simd';

/**
 * 2^−126·2^E for operands scaled by 2^E = 1/(unscaleA·unscaleB): below it the unscaled sums are
 * subnormal. E from 23 (so that 2^(−149+E) is normal) to 126. Read from the exponent bits of
 * unscaleA·unscaleB (powers of two: exact and normal), not divided: V8 would sink a division
 * into the kernels' loops.
 */
// @ts-ignore: decorator
@inline export function smallestSum(unscaleA: f32, unscaleB: f32): v128 {
  const biasedExponent = reinterpret<i32>(unscaleA * unscaleB) >>> 23; // 127 − E
  return i32x4.splat((128 - biasedExponent) << 23); // 2^(1 + E − 127)
}

/**
 * One step of four sums: madd(factors, row, sum), with the lanes whose sum lands below
 * `smallest` (2^−126·2^E, nonzero) rounded as the unscaled sums are, to the grid 2^(−149+E).
 * Those take madd(factors, row, sum + C) − C with C = ±2^−126·2^E of the sum's sign: sum + C is
 * exact, and the exact sum + C lies in C's binade, where the float32 spacing is the grid, so the
 * one rounding is the unscaled one (ties to even: C is an even multiple of the grid); − C is
 * exact. A sum rounded to 0 keeps the sign of the exact one (next's). A lane whose previous sum
 * was not below `smallest` (the step cancelled it) is stepped on the values scaled back instead;
 * or, with `deferCancelled` (a constant), only flagged (`takeCancelled`): the kernel then sums
 * those sums again without deferring. That step is rare, and its code in the loop kept V8's
 * registers short (a fifth of the time of the rescaled dY·Wᵀ).
 */
// @ts-ignore: decorator
@inline export function step(factors: v128, row: v128, sum: v128, smallest: v128, unscaleA: f32, unscaleB: f32, deferCancelled: bool = false): v128 {
  const magnitude = i32x4.splat(0x7fffffff), sign = i32x4.splat(0x80000000);
  const next = madd(factors, row, sum);
  const tiny = nonzeroBelow(next, smallest);
  if (i32x4.bitmask(tiny) == 0) return next; // one movmsk, where any_true takes a ptest and a setcc
  const nextSign = v128.and(next, sign);
  const offset = v128.or(smallest, nextSign);
  const onGrid = v128.or(f32x4.sub(madd(factors, row, f32x4.add(sum, offset)), offset), nextSign);
  const rounded = selectLanes(onGrid, next, tiny);
  // Magnitudes' bits (and smallest's) are below 2^31: a signed compare orders them.
  const cancelled = v128.and(tiny, i32x4.ge_s(v128.and(sum, magnitude), smallest));
  if (deferCancelled) {
    if (i32x4.bitmask(cancelled) != 0) cancelledSeen = true;
    return rounded;
  }
  return i32x4.bitmask(cancelled) != 0 ? stepUnscaled(factors, row, sum, rounded, cancelled, unscaleA, unscaleB) : rounded;
}

/**
 * `rounded` with the lanes `redo` taken instead from the unscaled step (madd on the values scaled
 * back, then scaled up again: every scaling exact): where the sum cancelled to below 2^−126.
 */
function stepUnscaled(factors: v128, row: v128, sum: v128, rounded: v128, redo: v128, unscaleA: f32, unscaleB: f32): v128 {
  const unscale = f32x4.splat(unscaleA * unscaleB);
  const step = f32x4.div(madd(f32x4.mul(factors, f32x4.splat(unscaleA)), f32x4.mul(row, f32x4.splat(unscaleB)), f32x4.mul(sum, unscale)), unscale);
  return v128.bitselect(step, rounded, redo);
}

/** Set by `step` with deferCancelled when a lane cancelled: its sums are wrong from there. */
let cancelledSeen = false;

/** Whether a deferred step cancelled since the last call (the flag cleared): if so, the kernel sums those sums again without deferring. */
// @ts-ignore: decorator
@inline export function takeCancelled(): bool {
  const seen = cancelledSeen;
  cancelledSeen = false;
  return seen;
}
