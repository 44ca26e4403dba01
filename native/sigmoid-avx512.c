/*
 * sigmoid.c's kernels in 512-bit AVX-512 vectors (sigmoid-avx2.c has the same in 256-bit ones).
 * The forward pass is the wasm kernel's sequence of operations lane for lane (its multiply-adds
 * fused, as the relaxed-SIMD build's are on FMA hardware; each in its operand order where a NaN
 * could tell them apart), and takes fast-math.ts' path that rounds a subnormal e^(−|x|) without a
 * subnormal operation where a lane's |x| reaches 80. The backward pass's two multiplies meet
 * subnormal y and dy in the saturated runs, and make subnormal results: such vectors are computed
 * on normal floats scaled by 2^64 and rounded to the subnormal grid, as fast-math.ts rounds e^x.
 */
#include "power-of-two.h"
#include "sigmoid.h"

/* a where `lanes` is set, else b (selectLanes). */
AVX512 static inline __m512 select_lanes(__m512 a, __m512 b, __mmask16 lanes) {
  return _mm512_mask_blend_ps(lanes, b, a);
}

AVX512 static inline __m512 bits_to_float(__m512i bits) {
  return _mm512_castsi512_ps(bits);
}

/* fast-math.ts' toSubnormalGrid: round(a·b·2^−64) on the subnormal grid, as an integer's bits, for `lanes`. */
AVX512 static inline __m512 to_subnormal_grid(__m512 a, __m512 b, __mmask16 lanes) {
  const __m512 offset = _mm512_set1_ps(GRID_OFFSET);
  const __m512 gridMultiple = _mm512_sub_ps(_mm512_fmadd_ps(a, select_lanes(b, _mm512_setzero_ps(), lanes), offset), offset);
  return _mm512_castsi512_ps(_mm512_cvttps_epi32(mul_in_order(gridMultiple, _mm512_set1_ps(GRID_TO_BITS))));
}

/* fast-math.ts' expNonPositive: e^t for t ≤ 0; `subnormal_free` rounds results below 2^−126 on normal floats. */
AVX512 static inline __m512 exp_non_positive(__m512 t, int subnormal_free) {
  const __m512 minimum = _mm512_set1_ps(EXP_INPUT_MIN), magic = _mm512_set1_ps(ROUNDING_MAGIC);
  /* pmax(t, minimum): t unless t is below the bound (a NaN stays) */
  const __m512 clamped = select_lanes(minimum, t, _mm512_cmp_ps_mask(t, minimum, _CMP_LT_OQ));
  const __m512 shifted = _mm512_fmadd_ps(clamped, _mm512_set1_ps(LOG2E), magic);
  const __m512 n = _mm512_sub_ps(shifted, magic);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_HIGH), clamped);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_LOW), r);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, mul_in_order(r, r), add_in_order(r, _mm512_set1_ps(1)));
  const __m512i nBits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(magic));
  const __m512i half = _mm512_srai_epi32(nBits, 1), bias = _mm512_set1_epi32(127);
  const __m512 scaleA = bits_to_float(_mm512_slli_epi32(_mm512_add_epi32(half, bias), 23));
  const __m512i scaleBBits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(nBits, half), bias), 23);
  const __m512 scaleB = bits_to_float(scaleBBits);
  const __m512 scaled = mul_in_order(p, scaleA);
  if (!subnormal_free) return mul_in_order(scaled, scaleB);
  const __mmask16 subnormal = _mm512_cmp_ps_mask(n, _mm512_set1_ps(-126), _CMP_LT_OQ);
  if (!subnormal) return mul_in_order(scaled, scaleB);
  const __m512 normal = mul_in_order(scaled, select_lanes(_mm512_set1_ps(1), scaleB, subnormal));
  const __m512 raised = bits_to_float(_mm512_add_epi32(scaleBBits, _mm512_set1_epi32(SUBNORMAL_SHIFT << 23)));
  return select_lanes(to_subnormal_grid(scaled, raised, subnormal), normal, subnormal);
}

/* fast-math.ts' sigmoid4: 1/(1 + e) for x ≥ 0 and e/(1 + e) below, e = e^(−|x|). */
AVX512 static inline __m512 sigmoid16(__m512 x, int subnormal_free) {
  const __m512 magnitude = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
  const __m512 e = exp_non_positive(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(magnitude), _mm512_set1_epi32((int)0x80000000))), subnormal_free);
  const __m512 one = _mm512_set1_ps(1);
  const __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
  if (!subnormal_free) return _mm512_div_ps(select_lanes(one, e, positive), add_in_order(one, e));
  /* a subnormal e (or 0): divide 0 instead, and take e itself below 0 */
  const __mmask16 tiny = _mm512_cmplt_epi32_mask(_mm512_and_si512(_mm512_castps_si512(e), _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x00800000));
  const __m512 divided = _mm512_maskz_mov_ps((__mmask16)~tiny, e);
  const __m512 quotient = _mm512_div_ps(select_lanes(one, divided, positive), add_in_order(one, divided));
  return select_lanes(e, quotient, tiny & (__mmask16)~positive);
}

/* The two paths give the same bits; the one without subnormal operations only where a lane needs it. */
AVX512 static inline __m512 sigmoid_either_way(__m512 v) {
  const int large = _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(SIGMOID_NORMAL_BELOW), _CMP_GE_OQ) != 0;
  return large ? sigmoid16(v, 1) : sigmoid16(v, 0);
}

/*
 * Whole vectors, then the last one masked: a masked load and store in every iteration ran such
 * loops at about half the speed here (measured on scaleByPowerOfTwo, native/subnormals.c).
 */
AVX512 static void forward(const float* x, float* out, uint32_t count) {
  uint32_t j = 0;
  for (; j + 16 <= count; j += 16) _mm512_storeu_ps(out + j, sigmoid_either_way(_mm512_loadu_ps(x + j)));
  if (j < count) {
    const __mmask16 inside = first_lanes(count - j);
    _mm512_mask_storeu_ps(out + j, inside, sigmoid_either_way(_mm512_maskz_loadu_ps(inside, x + j)));
  }
}

/* dy·y·(1 − y), multiplied in that order: the wasm kernel's operations. */
AVX512 static inline __m512 plain_gradient(__m512 y, __m512 dy) {
  return mul_in_order(mul_in_order(dy, y), _mm512_sub_ps(_mm512_set1_ps(1), y));
}

/* Unbiased exponents of nonzero normal floats, as floats (−∞ for 0). */
AVX512 static inline __m512 exponents(__m512 v) {
  return _mm512_getexp_ps(v);
}

/*
 * round(a·b) on float32's grid, subnormals included, with a·b = r·2^S (a, b normal or 0; S per lane,
 * `floor` = 2^(S − 126) and `sign` r's sign bit): r·2^S rounded as it is where that is at least
 * `floor` (r normal: the same rounding), and where it is below, on the subnormal grid scaled by
 * 2^S: the multiply-add a·b + floor rounds in floor's binade, whose spacing is that grid (the
 * offset trick of fast-math.ts' toSubnormalGrid). Products surely below 2^−151 (they round to ±0)
 * are not formed: no operation here meets a subnormal.
 */
AVX512 static inline __m512 product_on_grid(__m512 a, __m512 b, __m512 shift, __m512 floor, __m512i sign) {
  /* |a·b| < 2^(ea + eb + 2): below 2^(S − 151) it rounds to 0 */
  const __mmask16 formed = _mm512_cmp_ps_mask(_mm512_add_ps(_mm512_add_ps(exponents(a), exponents(b)), _mm512_set1_ps(2)),
                                               _mm512_sub_ps(shift, _mm512_set1_ps(151)), _CMP_GT_OQ);
  const __m512 a0 = _mm512_maskz_mov_ps(formed, a);
  const __m512 plain = mul_in_order(a0, b);
  const __m512 offset = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(floor), sign));
  const __m512 onGrid = _mm512_sub_ps(_mm512_fmadd_ps(a0, b, offset), offset);
  const __mmask16 tiny = _mm512_cmp_ps_mask(_mm512_abs_ps(plain), floor, _CMP_LT_OQ);
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_mask_blend_ps(tiny, plain, onGrid)), sign));
}

/*
 * plain_gradient's bits without a subnormal operand or result, for y in [+0, 1] and |dy| < 2^60
 * (a sigmoid's outputs, its gradients): y and a subnormal dy scaled up by 2^64 (S = 64 or 128),
 * both products rounded by product_on_grid, 1 − y taken as 1 where y is subnormal (1 − y rounds
 * to 1 there), and the result scaled back on its bits (a subnormal one read off the grid as an
 * integer, as fast-math.ts does). The sign is dy's: y and 1 − y are at least +0.
 */
AVX512 static inline __m512 gradient_without_subnormals(__m512 y, __m512 dy) {
  const __m512i yBits = _mm512_castps_si512(y), dyBits = _mm512_castps_si512(dy);
  const __m512i sign = _mm512_and_si512(dyBits, _mm512_set1_epi32((int)0x80000000));
  const __mmask16 dySubnormal = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(_mm512_and_si512(dyBits, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(1)),
                                                        _mm512_set1_epi32(0x007fffff));
  const __mmask16 ySubnormal = _mm512_cmplt_epu32_mask(yBits, _mm512_set1_epi32(0x00800000));
  const __m512 scaledY = _mm512_castsi512_ps(scaled(yBits, 64));
  const __m512 scaledDy = _mm512_mask_blend_ps(dySubnormal, dy, _mm512_castsi512_ps(scaled(dyBits, 64)));
  const __m512 shift = _mm512_mask_blend_ps(dySubnormal, _mm512_set1_ps(64), _mm512_set1_ps(128));
  const __m512 floor = _mm512_mask_blend_ps(dySubnormal, _mm512_set1_ps(0x1p-62f), _mm512_set1_ps(0x1p2f)); /* 2^(S − 126) */
  const __m512 p = product_on_grid(scaledDy, scaledY, shift, floor, sign);
  const __m512 complement = _mm512_mask_blend_ps(ySubnormal, _mm512_sub_ps(_mm512_set1_ps(1), _mm512_maskz_mov_ps((__mmask16)~ySubnormal, y)), _mm512_set1_ps(1));
  const __m512 q = product_on_grid(p, complement, shift, floor, sign);
  /* back by 2^−S: a normal result on its exponent bits, a subnormal one as its count of 2^−149 */
  const __m512i magnitude = _mm512_and_si512(_mm512_castps_si512(q), _mm512_set1_epi32(0x7fffffff));
  const __m512i shiftBits = _mm512_mask_blend_epi32(dySubnormal, _mm512_set1_epi32(64 << 23), _mm512_set1_epi32(128 << 23));
  const __m512 toCount = _mm512_mask_blend_ps(dySubnormal, _mm512_set1_ps(0x1p85f), _mm512_set1_ps(0x1p21f)); /* 2^(149 − S) */
  const __mmask16 subnormal = _mm512_cmp_ps_mask(_mm512_castsi512_ps(magnitude), floor, _CMP_LT_OQ);
  const __m512i normal = _mm512_sub_epi32(magnitude, shiftBits);
  const __m512i count = _mm512_cvttps_epi32(mul_in_order(_mm512_castsi512_ps(magnitude), toCount));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_mask_blend_epi32(subnormal, normal, count), sign));
}

/*
 * The gradient as the wasm kernel multiplies it where every lane's exponents (dy's, y's, 1 − y's)
 * sum to −124 or more, so that both products are normal; else, where the vector lies in its range,
 * gradient_without_subnormals (the same bits, 0.57× the time in models 6 and 8 without BN); else
 * (NaN, ∞, y outside [+0, 1]) as the wasm kernel does, assists and all.
 */
AVX512 static inline __m512 sigmoid_gradient(__m512 y, __m512 dy) {
  const __m512 one = _mm512_set1_ps(1);
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(exponents(dy), exponents(y)), exponents(_mm512_sub_ps(one, y)));
  if (!_mm512_cmp_ps_mask(sum, _mm512_set1_ps(-124), _CMP_LT_OQ)) return plain_gradient(y, dy);
  const __mmask16 inRange = _mm512_cmple_epu32_mask(_mm512_castps_si512(y), _mm512_set1_epi32(0x3f800000)) &
                            _mm512_cmplt_epu32_mask(_mm512_and_si512(_mm512_castps_si512(dy), _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32((127 + 60) << 23));
  return inRange == 0xFFFF ? gradient_without_subnormals(y, dy) : plain_gradient(y, dy);
}

/* The same: whole vectors, then the last one masked. */
AVX512 static void backward(const float* y, const float* dy, float* dx, uint32_t count) {
  uint32_t j = 0;
  for (; j + 16 <= count; j += 16) _mm512_storeu_ps(dx + j, sigmoid_gradient(_mm512_loadu_ps(y + j), _mm512_loadu_ps(dy + j)));
  if (j < count) {
    const __mmask16 inside = first_lanes(count - j);
    _mm512_mask_storeu_ps(dx + j, inside, sigmoid_gradient(_mm512_maskz_loadu_ps(inside, y + j), _mm512_maskz_loadu_ps(inside, dy + j)));
  }
}

const sigmoid_kernels_t avx512_sigmoid = {forward, backward};
