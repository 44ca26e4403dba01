/*
 * The checks and scalings around a product whose factors hold subnormal floats
 * (assembly/subnormals.ts): whether a factor holds one, whether it can be scaled by 2^±24
 * exactly, and the scaling itself; a saturated network's step runs them dozens of times over its
 * factors. Here each call's arguments are read and checked; the kernels of the CPU's instruction
 * set (subnormals-avx512.c or subnormals-avx2.c) compute.
 */
#include <math.h>

#include "subnormals.h"

/* The kernels in use (register_subnormals). */
static const subnormal_kernels_t* kernels;

/* hasSubnormal(memory, x, count): 1 when one of the floats is nonzero and below 2^−126 in magnitude, else 0. */
static napi_value has_subnormal(napi_env env, napi_callback_info info) {
  napi_value args[3], result;
  call_t call;
  if (!start_call(&call, env, info, args, 3, "hasSubnormal")) return NULL;
  const uint32_t count = arg_u32(&call, 2);
  const float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  napi_create_uint32(env, kernels->has_subnormal(x, count) ? 1 : 0, &result);
  return result;
}

/*
 * rescalable(memory, x, count, up): 1 when every float can be multiplied by 2^24 (`up`) or by 2^−24
 * and back exactly: finite, and below 2^104 (up) or zero or at least 2^−102 (down); else 0.
 */
static napi_value rescalable(napi_env env, napi_callback_info info) {
  napi_value args[4], result;
  call_t call;
  if (!start_call(&call, env, info, args, 4, "rescalable")) return NULL;
  const uint32_t count = arg_u32(&call, 2), up = arg_u32(&call, 3);
  const float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  napi_create_uint32(env, kernels->rescalable(x, count, up != 0) ? 1 : 0, &result);
  return result;
}

/* scaleByPowerOfTwo(memory, x, count, exponent): x[i] ·= 2^exponent in place, exact where rescalable said so; |exponent| from 23 to 100. */
static napi_value scale_by_power_of_two(napi_env env, napi_callback_info info) {
  napi_value args[4];
  call_t call;
  if (!start_call(&call, env, info, args, 4, "scaleByPowerOfTwo")) return NULL;
  const uint32_t count = arg_u32(&call, 2);
  double exponent = 0;
  napi_get_value_double(env, args[3], &exponent);
  if (!(fabs(exponent) >= 23 && fabs(exponent) <= 100 && exponent == (int32_t)exponent)) return fail(&call, "the exponent must be a whole number from 23 to 100 either way"), NULL;
  float* x = region(&call, arg_u32(&call, 1), count, 4);
  if (!x) return NULL;
  kernels->scale_by_power_of_two(x, count, (int32_t)exponent);
  return NULL;
}

void register_subnormals(napi_env env, napi_value exports, const subnormal_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "hasSubnormal", has_subnormal);
  export_function(env, exports, "rescalable", rescalable);
  export_function(env, exports, "scaleByPowerOfTwo", scale_by_power_of_two);
}
