/*
 * subnormals.c's kernels in 256-bit AVX2 vectors: subnormals-avx512.c's tests and scaling on the
 * bits, lane for lane. Magnitudes' bits are below 2^31, so signed compares order them.
 */
#include "power-of-two.h"
#include "subnormals.h"

/* The magnitudes' bits of the floats at x + p (the first count − p of them; the others 0). */
AVX2 static inline __m256i magnitudes(const float* x, uint32_t p, uint32_t count) {
  const __m256i bits = count - p >= 8 ? _mm256_loadu_si256((const __m256i*)(x + p)) : _mm256_maskload_epi32((const int*)(x + p), first_lanes8(count - p));
  return _mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff));
}

/* Lanes whose magnitude is nonzero and below `limit`'s bits. */
AVX2 static inline __m256i nonzero_below(__m256i bits, int32_t limit) {
  return _mm256_andnot_si256(_mm256_cmpeq_epi32(bits, _mm256_setzero_si256()), _mm256_cmpgt_epi32(_mm256_set1_epi32(limit), bits));
}

AVX2 static int has_subnormal(const float* x, uint32_t count) {
  for (uint32_t p = 0; p < count; p += 8) {
    const __m256i found = nonzero_below(magnitudes(x, p, count), 0x00800000);
    if (!_mm256_testz_si256(found, found)) return 1;
  }
  return 0;
}

AVX2 static int rescalable(const float* x, uint32_t count, int up) {
  for (uint32_t p = 0; p < count; p += 8) {
    const __m256i bits = magnitudes(x, p, count);
    /* up: at least 2^104; down: infinite or NaN, or nonzero and below 2^−102 */
    const __m256i bad = up ? _mm256_cmpgt_epi32(bits, _mm256_set1_epi32(UP_LIMIT - 1))
                           : _mm256_or_si256(_mm256_cmpgt_epi32(bits, _mm256_set1_epi32(0x7f7fffff)), nonzero_below(bits, DOWN_LIMIT));
    if (!_mm256_testz_si256(bad, bad)) return 0;
  }
  return 1;
}

/* Whole vectors, then the last one masked. */
AVX2 static void scale_by_power_of_two(float* x, uint32_t count, int32_t e) {
  uint32_t p = 0;
  for (; p + 8 <= count; p += 8) _mm256_storeu_si256((__m256i*)(x + p), scaled_256(_mm256_loadu_si256((const __m256i*)(x + p)), e));
  if (p < count) {
    const __m256i inside = first_lanes8(count - p);
    _mm256_maskstore_epi32((int*)(x + p), inside, scaled_256(_mm256_maskload_epi32((const int*)(x + p), inside), e));
  }
}

const subnormal_kernels_t avx2_subnormals = {has_subnormal, rescalable, scale_by_power_of_two};
