/**
 * @file Products whose factors hold subnormal floats (saturated sigmoids: sigmoid(z) for z below
 * about −87) without a multiply seeing one. Some CPUs (Intel's) multiply a subnormal operand in a
 * microcode assist, about ten times slower per instruction, and WebAssembly cannot flush them to
 * zero. Multiplying one factor by 2^24 and the other by 2^−24 changes no product a·b (the same
 * real number, so every rounding after it is the same) when both scalings are exact: the factor
 * scaled up finite and below 2^104, the one scaled down finite and zero or at least 2^−102 (so it
 * stays normal). Scaling back by the inverse power of two restores every value exactly.
 * Comparisons are done on the bits, so the checks themselves touch no subnormal arithmetic.
 */

/** Whether one of the `count` floats at x is subnormal (nonzero, below 2^−126 in magnitude). */
export function hasSubnormal(x: usize, count: i32): bool {
  const magnitude = i32x4.splat(0x7fffffff), largest = i32x4.splat(0x007fffff), one = i32x4.splat(1);
  let found = i32x4.splat(0);
  const total = <usize>count << 2, vectorBytes = <usize>(count & ~7) << 2;
  let p: usize = 0;
  for (; p < vectorBytes; p += 32) {
    // |bits| − 1 ≤ 0x7fffff (unsigned) exactly for the subnormals: zero wraps around to the top.
    const s0 = i32x4.le_u(i32x4.sub(v128.and(v128.load(x + p), magnitude), one), largest);
    const s1 = i32x4.le_u(i32x4.sub(v128.and(v128.load(x + p, 16), magnitude), one), largest);
    found = v128.or(found, v128.or(s0, s1));
  }
  if (v128.any_true(found)) return true;
  for (; p < total; p += 4) {
    const bits = load<u32>(x + p) & 0x7fffffff;
    if (bits != 0 && bits < 0x00800000) return true;
  }
  return false;
}

/**
 * Whether every one of the `count` floats at x can be multiplied by 2^24 (`up`) or by 2^−24 and
 * back exactly: finite, and below 2^104 (up) or zero or at least 2^−102 (down).
 */
export function rescalable(x: usize, count: i32, up: bool): bool {
  for (let i = 0; i < count; i++) {
    const bits = load<u32>(x + (<usize>i << 2)) & 0x7fffffff;
    const exponent = bits >>> 23;
    if (exponent == 0xff) return false;
    if (up ? exponent >= 127 + 104 : bits != 0 && exponent < 127 - 102) return false;
  }
  return true;
}

/** x[i] *= factor for the `count` floats at x (a power of two, exact where `rescalable` said so). */
export function scaleInPlace(x: usize, count: i32, factor: f32): void {
  const factors = f32x4.splat(factor);
  const total = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  let p: usize = 0;
  for (; p < vectorBytes; p += 16) v128.store(x + p, f32x4.mul(v128.load(x + p), factors));
  for (; p < total; p += 4) store<f32>(x + p, load<f32>(x + p) * factor);
}
