/*
 * A float times a power of two on its bits (assembly/subnormals.ts' `scaled`), exact wherever the
 * result is representable, without a multiply that meets a subnormal operand or result: for
 * subnormals.c's scalings and the sigmoid's gradient (sigmoid.c).
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

#endif
