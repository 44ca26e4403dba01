/*
 * A float times a power of two on its bits (assembly/subnormals.ts' `scaled`), exact wherever the
 * result is representable, without a multiply that meets a subnormal operand or result: for
 * the scalings of subnormals-avx512.c and subnormals-avx2.c and the sigmoid's gradient (sigmoid-avx512.c).
 */
#ifndef BNLAB_POWER_OF_TWO_H
#define BNLAB_POWER_OF_TWO_H

#include "native-call.h"

/* v·2^exponent on the bits (|exponent| from 23 to 100; a subnormal result truncated, which is exact where rescalable said so). */
AVX512 static inline __m512i scaled(__m512i v, int32_t exponent) {
  const __m512i sign = _mm512_and_si512(v, _mm512_set1_epi32((int)0x80000000));
  const __m512i exponentField = _mm512_srli_epi32(_mm512_and_si512(v, _mm512_set1_epi32(0x7f800000)), 23);
  const __m512i moved = _mm512_add_epi32(v, _mm512_set1_epi32(exponent * (1 << 23)));
  if (exponent > 0) {
    /* a subnormal operand: its integer significand converted, times 2^(exponent − 149) */
    const __mmask16 subnormal = _mm512_cmpeq_epi32_mask(exponentField, _mm512_setzero_si512());
    const __m512 significand = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(0x007fffff)));
    const __m512i raised = _mm512_or_si512(
      _mm512_castps_si512(mul_in_order(significand, _mm512_castsi512_ps(_mm512_set1_epi32((exponent - 149 + 127) << 23)))), sign);
    return _mm512_mask_blend_epi32(subnormal, moved, raised);
  }
  /* a subnormal result: |v|·2^(149 + exponent), a whole number, truncated into the significand */
  const __mmask16 staysNormal = _mm512_cmpgt_epi32_mask(exponentField, _mm512_set1_epi32(-exponent));
  const __m512 absolute = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(0x7fffffff)));
  const __m512 whole = mul_in_order(absolute, _mm512_castsi512_ps(_mm512_set1_epi32((149 + exponent + 127) << 23)));
  const __m512i lowered = _mm512_or_si512(_mm512_cvttps_epi32(whole), sign);
  return _mm512_mask_blend_epi32(staysNormal, lowered, moved);
}

/* The same in 256-bit vectors (subnormals-avx2.c). */
AVX2 static inline __m256i scaled_256(__m256i v, int32_t exponent) {
  const __m256i sign = _mm256_and_si256(v, _mm256_set1_epi32((int)0x80000000));
  const __m256i exponentField = _mm256_srli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0x7f800000)), 23);
  const __m256i moved = _mm256_add_epi32(v, _mm256_set1_epi32(exponent * (1 << 23)));
  if (exponent > 0) {
    const __m256i subnormal = _mm256_cmpeq_epi32(exponentField, _mm256_setzero_si256());
    const __m256 significand = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0x007fffff)));
    const __m256i raised = _mm256_or_si256(
      _mm256_castps_si256(mul_in_order_256(significand, _mm256_castsi256_ps(_mm256_set1_epi32((exponent - 149 + 127) << 23)))), sign);
    return _mm256_blendv_epi8(moved, raised, subnormal);
  }
  const __m256i staysNormal = _mm256_cmpgt_epi32(exponentField, _mm256_set1_epi32(-exponent));
  const __m256 absolute = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(0x7fffffff)));
  const __m256 whole = mul_in_order_256(absolute, _mm256_castsi256_ps(_mm256_set1_epi32((149 + exponent + 127) << 23)));
  const __m256i lowered = _mm256_or_si256(_mm256_cvttps_epi32(whole), sign);
  return _mm256_blendv_epi8(lowered, moved, staysNormal);
}

#endif
