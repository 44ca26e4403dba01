/*
 * The checks and scalings around a product whose factors hold subnormal floats
 * (assembly/subnormals.ts) in 512-bit vectors: whether a factor holds one, whether it can be
 * scaled by 2^±24 exactly, and the scaling itself. They work on the bits (and on normal floats
 * only), as the wasm kernels do, so their results are the same bits; a saturated network's step
 * runs them dozens of times over its factors.
 */
#include <math.h>

#include "power-of-two.h"

/* |bits| of 2^104 (2^24 up must stay below 2^128) and of 2^−102 (2^24 down must stay at least 2^−126). */
#define UP_LIMIT ((127 + 104) << 23)
#define DOWN_LIMIT ((127 - 102) << 23)

/* The magnitudes' bits of the floats at x + p (`inside` of them; the others 0). */
AVX512 static inline __m512i magnitudes(const float* x, uint32_t p, uint32_t count) {
  const __mmask16 inside = first_lanes(count - p);
  return _mm512_and_si512(_mm512_maskz_loadu_epi32(inside, x + p), _mm512_set1_epi32(0x7fffffff));
}

/* hasSubnormal(memory, x, count): 1 when one of the floats is nonzero and below 2^−126 in magnitude, else 0. */
AVX512 static napi_value has_subnormal(napi_env env, napi_callback_info info) {
  napi_value args[3], result;
  call_t call;
  if (!start_call(&call, env, info, args, 3, "hasSubnormal")) return NULL;
  const uint32_t count = arg_u32(&call, 2);
  const float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  const __m512i one = _mm512_set1_epi32(1), below = _mm512_set1_epi32(0x00800000 - 1);
  __mmask16 found = 0;
  for (uint32_t p = 0; p < count && !found; p += 16) found = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(magnitudes(x, p, count), one), below);
  napi_create_uint32(env, found ? 1 : 0, &result);
  return result;
}

/*
 * rescalable(memory, x, count, up): 1 when every float can be multiplied by 2^24 (`up`) or by 2^−24
 * and back exactly: finite, and below 2^104 (up) or zero or at least 2^−102 (down); else 0.
 */
AVX512 static napi_value rescalable(napi_env env, napi_callback_info info) {
  napi_value args[4], result;
  call_t call;
  if (!start_call(&call, env, info, args, 4, "rescalable")) return NULL;
  const uint32_t count = arg_u32(&call, 2), up = arg_u32(&call, 3);
  const float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  const __m512i upLimit = _mm512_set1_epi32(UP_LIMIT), infinity = _mm512_set1_epi32(0x7f800000);
  const __m512i one = _mm512_set1_epi32(1), downLimit = _mm512_set1_epi32(DOWN_LIMIT - 1);
  __mmask16 bad = 0;
  for (uint32_t p = 0; p < count && !bad; p += 16) {
    const __m512i bits = magnitudes(x, p, count);
    /* down: infinite or NaN, or nonzero and below 2^−102 (bits − 1 below DOWN_LIMIT − 1, unsigned, puts 0 above all) */
    bad = up ? _mm512_cmpge_epu32_mask(bits, upLimit)
             : _mm512_cmpge_epu32_mask(bits, infinity) | _mm512_cmplt_epu32_mask(_mm512_sub_epi32(bits, one), downLimit);
  }
  napi_create_uint32(env, bad ? 0 : 1, &result);
  return result;
}

/*
 * scaleByPowerOfTwo(memory, x, count, exponent): x[i] ·= 2^exponent in place, exact where
 * rescalable said so; |exponent| from 23 to 100. Whole vectors, then the last one masked: masked in
 * every iteration, the loop ran 1.8× as long.
 */
AVX512 static napi_value scale_by_power_of_two(napi_env env, napi_callback_info info) {
  napi_value args[4];
  call_t call;
  if (!start_call(&call, env, info, args, 4, "scaleByPowerOfTwo")) return NULL;
  const uint32_t count = arg_u32(&call, 2);
  double exponent = 0;
  napi_get_value_double(env, args[3], &exponent);
  if (!(fabs(exponent) >= 23 && fabs(exponent) <= 100 && exponent == (int32_t)exponent)) return fail(&call, "the exponent must be a whole number from 23 to 100 either way"), NULL;
  float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  const int32_t e = (int32_t)exponent;
  uint32_t p = 0;
  for (; p + 16 <= count; p += 16) _mm512_storeu_si512(x + p, scaled(_mm512_loadu_si512(x + p), e));
  if (p < count) {
    const __mmask16 inside = first_lanes(count - p);
    _mm512_mask_storeu_epi32(x + p, inside, scaled(_mm512_maskz_loadu_epi32(inside, x + p), e));
  }
  return NULL;
}

void register_subnormals(napi_env env, napi_value exports) {
  export_function(env, exports, "hasSubnormal", has_subnormal);
  export_function(env, exports, "rescalable", rescalable);
  export_function(env, exports, "scaleByPowerOfTwo", scale_by_power_of_two);
}
