/*
 * subnormals.c's kernels in 512-bit AVX-512 vectors (subnormals-avx2.c has the same in 256-bit
 * ones). They work on the bits (and on normal floats only), as the wasm kernels do, so their
 * results are the same bits.
 */
#include "power-of-two.h"
#include "subnormals.h"

/* The magnitudes' bits of the floats at x + p (`inside` of them; the others 0). */
AVX512 static inline __m512i magnitudes(const float* x, uint32_t p, uint32_t count) {
  const __mmask16 inside = first_lanes(count - p);
  return _mm512_and_si512(_mm512_maskz_loadu_epi32(inside, x + p), _mm512_set1_epi32(0x7fffffff));
}

AVX512 static int has_subnormal(const float* x, uint32_t count) {
  const __m512i one = _mm512_set1_epi32(1), below = _mm512_set1_epi32(0x00800000 - 1);
  __mmask16 found = 0;
  for (uint32_t p = 0; p < count && !found; p += 16) found = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(magnitudes(x, p, count), one), below);
  return found != 0;
}

AVX512 static int rescalable(const float* x, uint32_t count, int up) {
  const __m512i upLimit = _mm512_set1_epi32(UP_LIMIT), infinity = _mm512_set1_epi32(0x7f800000);
  const __m512i one = _mm512_set1_epi32(1), downLimit = _mm512_set1_epi32(DOWN_LIMIT - 1);
  __mmask16 bad = 0;
  for (uint32_t p = 0; p < count && !bad; p += 16) {
    const __m512i bits = magnitudes(x, p, count);
    /* down: infinite or NaN, or nonzero and below 2^−102 (bits − 1 below DOWN_LIMIT − 1, unsigned, puts 0 above all) */
    bad = up ? _mm512_cmpge_epu32_mask(bits, upLimit)
             : _mm512_cmpge_epu32_mask(bits, infinity) | _mm512_cmplt_epu32_mask(_mm512_sub_epi32(bits, one), downLimit);
  }
  return bad == 0;
}

/* Whole vectors, then the last one masked: masked in every iteration, the loop ran 1.8× as long. */
AVX512 static void scale_by_power_of_two(float* x, uint32_t count, int32_t e) {
  uint32_t p = 0;
  for (; p + 16 <= count; p += 16) _mm512_storeu_si512(x + p, scaled(_mm512_loadu_si512(x + p), e));
  if (p < count) {
    const __mmask16 inside = first_lanes(count - p);
    _mm512_mask_storeu_epi32(x + p, inside, scaled(_mm512_maskz_loadu_epi32(inside, x + p), e));
  }
}

const subnormal_kernels_t avx512_subnormals = {has_subnormal, rescalable, scale_by_power_of_two};
