/*
 * sigmoid.c's kernels in 256-bit AVX2 vectors. The forward pass is sigmoid-avx512.c's operations
 * lane for lane, eight lanes a vector (the same fused and unfused operations, in the same operand
 * order, the same subnormal-free path for inputs past ±80); the backward pass is the wasm
 * kernel's three multiplies (see sigmoid_gradient). AVX2 has no mask registers: lane masks are
 * vectors of all-ones lanes, selected with blends where the 512-bit kernel blends and with
 * and/andnot where it zeroes.
 */
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

/*
 * dy·y·(1 − y), multiplied in that order: the wasm kernel's operations. No subnormal-free path
 * here, unlike sigmoid-avx512.c's: that path avoids Intel's microcode assists, but the Zen 3 EPYC
 * multiplies subnormals at full speed, and there it was the slower: 60×128 gradients of models 6
 * and 8 without BN took 18 µs a call that way, 2 µs multiplied plainly, 4-5 µs in wasm. On an
 * AVX2 CPU with assists this is as slow as the wasm kernel, never slower.
 */
AVX2 static inline __m256 sigmoid_gradient(__m256 y, __m256 dy) {
  return mul_in_order_256(mul_in_order_256(dy, y), _mm256_sub_ps(_mm256_set1_ps(1), y));
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
