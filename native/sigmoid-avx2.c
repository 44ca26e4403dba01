/*
 * sigmoid.c's kernels in 256-bit AVX2 vectors: sigmoid-avx512.c's operations lane for lane, eight
 * lanes a vector (the same fused and unfused operations, in the same operand order, the same
 * subnormal-free paths). AVX2 has no mask registers: lane masks are vectors of all-ones lanes,
 * selected with blends where the 512-bit kernel blends and with and/andnot where it zeroes. Nor
 * has it getexp: the backward pass reads exponents off the floats' exponent fields instead, which
 * agree with getexp wherever a lane's outcome depends on them (see sigmoid_gradient).
 */
#include "power-of-two.h"
#include "sigmoid.h"

/* a where `lanes` is set, else b (selectLanes). */
AVX2 static inline __m256 select_lanes(__m256 a, __m256 b, __m256 lanes) {
  return _mm256_blendv_ps(b, a, lanes);
}

AVX2 static inline __m256 bits_to_float(__m256i bits) {
  return _mm256_castsi256_ps(bits);
}

AVX2 static inline __m256i float_to_bits(__m256 v) {
  return _mm256_castps_si256(v);
}

AVX2 static inline __m256 magnitude_of(__m256 v) {
  return _mm256_and_ps(v, bits_to_float(_mm256_set1_epi32(0x7fffffff)));
}

/* fast-math.ts' toSubnormalGrid: round(a·b·2^−64) on the subnormal grid, as an integer's bits, for `lanes`. */
AVX2 static inline __m256 to_subnormal_grid(__m256 a, __m256 b, __m256 lanes) {
  const __m256 offset = _mm256_set1_ps(GRID_OFFSET);
  const __m256 gridMultiple = _mm256_sub_ps(_mm256_fmadd_ps(a, select_lanes(b, _mm256_setzero_ps(), lanes), offset), offset);
  return bits_to_float(_mm256_cvttps_epi32(mul_in_order_256(gridMultiple, _mm256_set1_ps(GRID_TO_BITS))));
}

/* fast-math.ts' expNonPositive: e^t for t ≤ 0; `subnormal_free` rounds results below 2^−126 on normal floats. */
AVX2 static inline __m256 exp_non_positive(__m256 t, int subnormal_free) {
  const __m256 minimum = _mm256_set1_ps(EXP_INPUT_MIN), magic = _mm256_set1_ps(ROUNDING_MAGIC);
  /* pmax(t, minimum): t unless t is below the bound (a NaN stays) */
  const __m256 clamped = select_lanes(minimum, t, _mm256_cmp_ps(t, minimum, _CMP_LT_OQ));
  const __m256 shifted = _mm256_fmadd_ps(clamped, _mm256_set1_ps(LOG2E), magic);
  const __m256 n = _mm256_sub_ps(shifted, magic);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_HIGH), clamped);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_LOW), r);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, mul_in_order_256(r, r), add_in_order_256(r, _mm256_set1_ps(1)));
  const __m256i nBits = _mm256_sub_epi32(float_to_bits(shifted), float_to_bits(magic));
  const __m256i half = _mm256_srai_epi32(nBits, 1), bias = _mm256_set1_epi32(127);
  const __m256 scaleA = bits_to_float(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
  const __m256i scaleBBits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(nBits, half), bias), 23);
  const __m256 scaleB = bits_to_float(scaleBBits);
  const __m256 scaled = mul_in_order_256(p, scaleA);
  if (!subnormal_free) return mul_in_order_256(scaled, scaleB);
  const __m256 subnormal = _mm256_cmp_ps(n, _mm256_set1_ps(-126), _CMP_LT_OQ);
  if (_mm256_testz_ps(subnormal, subnormal)) return mul_in_order_256(scaled, scaleB);
  const __m256 normal = mul_in_order_256(scaled, select_lanes(_mm256_set1_ps(1), scaleB, subnormal));
  const __m256 raised = bits_to_float(_mm256_add_epi32(scaleBBits, _mm256_set1_epi32(SUBNORMAL_SHIFT << 23)));
  return select_lanes(to_subnormal_grid(scaled, raised, subnormal), normal, subnormal);
}

/* fast-math.ts' sigmoid4: 1/(1 + e) for x ≥ 0 and e/(1 + e) below, e = e^(−|x|). */
AVX2 static inline __m256 sigmoid8(__m256 x, int subnormal_free) {
  const __m256 e = exp_non_positive(_mm256_xor_ps(magnitude_of(x), _mm256_set1_ps(-0.0f)), subnormal_free);
  const __m256 one = _mm256_set1_ps(1);
  const __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  if (!subnormal_free) return _mm256_div_ps(select_lanes(one, e, positive), add_in_order_256(one, e));
  /* a subnormal e (or 0): divide 0 instead, and take e itself below 0 (a NaN's magnitude bits are above) */
  const __m256 tiny = bits_to_float(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x00800000), float_to_bits(magnitude_of(e))));
  const __m256 divided = _mm256_andnot_ps(tiny, e);
  const __m256 quotient = _mm256_div_ps(select_lanes(one, divided, positive), add_in_order_256(one, divided));
  return select_lanes(e, quotient, _mm256_andnot_ps(positive, tiny));
}

/* Lanes whose |x| reaches 80, where e^(−|x|) may be subnormal. */
AVX2 static inline __m256 large_lanes(__m256 v) {
  return _mm256_cmp_ps(magnitude_of(v), _mm256_set1_ps(SIGMOID_NORMAL_BELOW), _CMP_GE_OQ);
}

/*
 * The two paths give the same bits; the one without subnormal operations only where a lane needs
 * it. Two vectors at a time, as the wasm kernel pairs them: one test for both, so that their
 * chains interleave (0.9× the time of one vector at a time).
 */
AVX2 static inline void sigmoid_pair(const float* x, float* out) {
  const __m256 u = _mm256_loadu_ps(x), v = _mm256_loadu_ps(x + 8);
  const __m256 large = _mm256_or_ps(large_lanes(u), large_lanes(v));
  if (_mm256_testz_ps(large, large)) {
    const __m256 a = sigmoid8(u, 0), b = sigmoid8(v, 0);
    _mm256_storeu_ps(out, a);
    _mm256_storeu_ps(out + 8, b);
  } else {
    const __m256 a = sigmoid8(u, 1), b = sigmoid8(v, 1);
    _mm256_storeu_ps(out, a);
    _mm256_storeu_ps(out + 8, b);
  }
}

AVX2 static inline __m256 sigmoid_either_way(__m256 v) {
  const __m256 large = large_lanes(v);
  return _mm256_testz_ps(large, large) ? sigmoid8(v, 0) : sigmoid8(v, 1);
}

/*
 * Pairs of vectors, then one, then the last one masked: its store is the only masked one (AMD's
 * masked stores are slow, and out ends at the count: a whole vector there could write past it).
 */
AVX2 static void forward(const float* x, float* out, uint32_t count) {
  uint32_t j = 0;
  for (; j + 16 <= count; j += 16) sigmoid_pair(x + j, out + j);
  if (j + 8 <= count) {
    _mm256_storeu_ps(out + j, sigmoid_either_way(_mm256_loadu_ps(x + j)));
    j += 8;
  }
  if (j < count) {
    const __m256i inside = first_lanes8(count - j);
    _mm256_maskstore_ps(out + j, inside, sigmoid_either_way(_mm256_maskload_ps(x + j, inside)));
  }
}

/* dy·y·(1 − y), multiplied in that order: the wasm kernel's operations. */
AVX2 static inline __m256 plain_gradient(__m256 y, __m256 dy) {
  return mul_in_order_256(mul_in_order_256(dy, y), _mm256_sub_ps(_mm256_set1_ps(1), y));
}

/* The biased exponent fields of the floats, as integers: 0 for ±0 and subnormals, 255 for ±∞ and NaN. */
AVX2 static inline __m256i exponent_fields(__m256 v) {
  return _mm256_srli_epi32(_mm256_slli_epi32(float_to_bits(v), 1), 24);
}

/*
 * sigmoid-avx512.c's product_on_grid: round(a·b) on float32's grid, subnormals included, with
 * a·b = r·2^S (a, b normal or 0; S per lane, `floor` = 2^(S − 126) and `sign` r's sign bit); a
 * product surely below 2^−151 (it rounds to ±0) is not formed. That test reads the exponent
 * fields f: |a·b| < 2^(fa + fb − 252) is below 2^(S − 151) where fa + fb ≤ S + 101, as getexp's
 * exponents say for normal floats; a zero factor (getexp's −∞, the field's 0) may be formed
 * here where it is not there, and gives the same ±0 then: a0·b and the grid's a0·b + floor −
 * floor are ±0 and +0 either way, and the grid's +0 is taken.
 */
AVX2 static inline __m256 product_on_grid(__m256 a, __m256 b, __m256i shift, __m256 floor, __m256 sign) {
  const __m256i fields = _mm256_add_epi32(exponent_fields(a), exponent_fields(b));
  const __m256 formed = bits_to_float(_mm256_cmpgt_epi32(fields, _mm256_add_epi32(shift, _mm256_set1_epi32(101))));
  const __m256 a0 = _mm256_and_ps(formed, a);
  const __m256 plain = mul_in_order_256(a0, b);
  const __m256 offset = _mm256_or_ps(floor, sign);
  const __m256 onGrid = _mm256_sub_ps(_mm256_fmadd_ps(a0, b, offset), offset);
  const __m256 tiny = _mm256_cmp_ps(magnitude_of(plain), floor, _CMP_LT_OQ);
  return _mm256_or_ps(select_lanes(onGrid, plain, tiny), sign);
}

/*
 * sigmoid-avx512.c's gradient_without_subnormals: plain_gradient's bits without a subnormal
 * operand or result, for y in [+0, 1] and |dy| < 2^60: y and a subnormal dy scaled up by 2^64
 * (S = 64 or 128), both products rounded by product_on_grid, 1 − y taken as 1 where y is
 * subnormal, and the result scaled back on its bits (a subnormal one read off the grid as an
 * integer). The sign is dy's.
 */
AVX2 static inline __m256 gradient_without_subnormals(__m256 y, __m256 dy) {
  const __m256i yBits = float_to_bits(y), dyBits = float_to_bits(dy);
  const __m256 one = _mm256_set1_ps(1);
  const __m256 sign = _mm256_and_ps(dy, _mm256_set1_ps(-0.0f));
  /* magnitudes' bits are below 2^31 and y's (in [+0, 1]) too: signed compares order them */
  const __m256i dyMagnitude = _mm256_and_si256(dyBits, _mm256_set1_epi32(0x7fffffff)), smallestNormal = _mm256_set1_epi32(0x00800000);
  const __m256i dySubnormal = _mm256_andnot_si256(_mm256_cmpeq_epi32(dyMagnitude, _mm256_setzero_si256()), _mm256_cmpgt_epi32(smallestNormal, dyMagnitude));
  const __m256 dySubnormalLanes = bits_to_float(dySubnormal);
  const __m256 ySubnormal = bits_to_float(_mm256_cmpgt_epi32(smallestNormal, yBits));
  const __m256 scaledY = bits_to_float(scaled_256(yBits, 64));
  const __m256 scaledDy = select_lanes(bits_to_float(scaled_256(dyBits, 64)), dy, dySubnormalLanes);
  const __m256i shift = _mm256_blendv_epi8(_mm256_set1_epi32(64), _mm256_set1_epi32(128), dySubnormal);
  const __m256 floor = select_lanes(_mm256_set1_ps(0x1p2f), _mm256_set1_ps(0x1p-62f), dySubnormalLanes); /* 2^(S − 126) */
  const __m256 p = product_on_grid(scaledDy, scaledY, shift, floor, sign);
  const __m256 complement = select_lanes(one, _mm256_sub_ps(one, _mm256_andnot_ps(ySubnormal, y)), ySubnormal);
  const __m256 q = product_on_grid(p, complement, shift, floor, sign);
  /* back by 2^−S: a normal result on its exponent bits, a subnormal one as its count of 2^−149 */
  const __m256 magnitude = magnitude_of(q);
  const __m256 toCount = select_lanes(_mm256_set1_ps(0x1p21f), _mm256_set1_ps(0x1p85f), dySubnormalLanes); /* 2^(149 − S) */
  const __m256 subnormal = _mm256_cmp_ps(magnitude, floor, _CMP_LT_OQ);
  const __m256i normal = _mm256_sub_epi32(float_to_bits(magnitude), _mm256_slli_epi32(shift, 23));
  const __m256i count = _mm256_cvttps_epi32(mul_in_order_256(magnitude, toCount));
  return _mm256_or_ps(select_lanes(bits_to_float(count), bits_to_float(normal), subnormal), sign);
}

/*
 * The gradient as the wasm kernel multiplies it, unless a lane's exponents (dy's, y's, 1 − y's)
 * sum below −124 (a product may be subnormal) and every lane lies in gradient_without_subnormals'
 * range: then that (the same bits). The sum is read off the exponent fields (biased by 3·127):
 * where no factor is 0, subnormal, ∞ or NaN these are getexp's exponents and the test is
 * sigmoid-avx512.c's; a 0 or subnormal factor's field reads −127, at least its getexp (−∞, −149
 * to −127), so such a lane may pass here where it is caught there; with an ∞ or NaN the fields
 * sum to 381 or more (y's and 1 − y's alone to 126 or more), caught by neither. So the vectors
 * taken the subnormal-free way here are among those the 512-bit kernel takes that way, and the
 * others are the wasm kernel's own operations. (That way avoids Intel's assists; the Zen 3 EPYC
 * multiplies subnormals at full speed, and there it is the slower: 60×128 gradients of models 6
 * and 8 without BN took 18 µs a call, 2 µs multiplied plainly, 4-5 µs in wasm.)
 */
AVX2 static inline __m256 sigmoid_gradient(__m256 y, __m256 dy) {
  const __m256 one = _mm256_set1_ps(1);
  const __m256i fields = _mm256_add_epi32(_mm256_add_epi32(exponent_fields(dy), exponent_fields(y)), exponent_fields(_mm256_sub_ps(one, y)));
  const __m256i belowNormal = _mm256_cmpgt_epi32(_mm256_set1_epi32(3 * 127 - 124), fields);
  if (_mm256_testz_si256(belowNormal, belowNormal)) return plain_gradient(y, dy);
  /* y in [+0, 1] (its bits at most 1's, unsigned) and |dy| < 2^60 */
  const __m256i yBits = float_to_bits(y), oneBits = _mm256_set1_epi32(0x3f800000);
  const __m256i inRange = _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_min_epu32(yBits, oneBits), yBits),
                                           _mm256_cmpgt_epi32(_mm256_set1_epi32((127 + 60) << 23), float_to_bits(magnitude_of(dy))));
  return _mm256_movemask_ps(bits_to_float(inRange)) == 0xFF ? gradient_without_subnormals(y, dy) : plain_gradient(y, dy);
}

/* Whole vectors, then the last one masked, as forward does. */
AVX2 static void backward(const float* y, const float* dy, float* dx, uint32_t count) {
  uint32_t j = 0;
  for (; j + 8 <= count; j += 8) _mm256_storeu_ps(dx + j, sigmoid_gradient(_mm256_loadu_ps(y + j), _mm256_loadu_ps(dy + j)));
  if (j < count) {
    const __m256i inside = first_lanes8(count - j);
    _mm256_maskstore_ps(dx + j, inside, sigmoid_gradient(_mm256_maskload_ps(y + j, inside), _mm256_maskload_ps(dy + j, inside)));
  }
}

const sigmoid_kernels_t avx2_sigmoid = {forward, backward};
