/*
 * The rescaled products: the wasm kernels for factors whose subnormals were scaled away
 * beforehand (assembly/rescaled-gemm.ts, rescaled-dot-matmul.ts, sparse-rows.ts'
 * addScaledRowsRescaled), with the same bits. Here each call's arguments are read and checked; the
 * kernels of the CPU's instruction set (rescaled-avx512.c or rescaled-avx2.c, products.h's table)
 * compute.
 */
#include <string.h>

#include "products.h"

/* The kernels in use (register_rescaled_products). */
static const product_kernels_t* kernels;

int unscales_ok(call_t* call, float unscaleA, float unscaleB) {
  uint32_t a, b, product;
  const float both = unscaleA * unscaleB;
  memcpy(&a, &unscaleA, 4);
  memcpy(&b, &unscaleB, 4);
  memcpy(&product, &both, 4);
  const uint32_t exponent = product >> 23; /* 127 − E */
  if ((a & 0x807fffff) || (b & 0x807fffff) || a > 0x3f800000 || b > 0x3f800000 || (product & 0x7fffff) || exponent < 1 || exponent > 104)
    return fail(call, "the unscale factors must be powers of two whose product is 2^-23 to 2^-126"), 0;
  return 1;
}

/*
 * gemmAddRescaled(memory, a, aRowStride, aStep, b, bRowStride, c, cRowStride, rows, cols, depth, scale, unscaleA, unscaleB):
 * strides in bytes, as gemm's; cols ≥ 4. Where cols is not a multiple of 4, the wasm kernel's last
 * tile overlaps the one before it and adds +0 to the overlapped elements (−0 becomes +0): done
 * here too, after them.
 */
static napi_value gemm_add_rescaled(napi_env env, napi_callback_info info) {
  napi_value args[14];
  call_t call;
  if (!start_call(&call, env, info, args, 14, "gemmAddRescaled")) return NULL;
  const float scale = arg_f32(&call, 11), unscaleA = arg_f32(&call, 12), unscaleB = arg_f32(&call, 13);
  gemm_factors_t f;
  if (!gemm_factors(&call, &f) || !unscales_ok(&call, unscaleA, unscaleB)) return NULL;
  if (f.cols < 4) return fail(&call, "the columns must be at least 4"), NULL;
  if (f.rows == 0) return NULL;
  kernels->rescaled->gemm_add(&f, scale, unscaleA, unscaleB);
  add_zero_where_overlapped(f.c, f.cRow, f.rows, f.cols);
  return NULL;
}

/* ---- matmulTransposeBRescaled ---- */

/*
 * matmulTransposeBRescaled(memory, a, b, out, m, n, k, unscaleA, scratch): out[m,k] = a·bᵀ for a
 * given as a·2^E, as rescaled-dot-matmul.ts sums it: matmul_transpose_b's pair tiles (products.c),
 * each lane sum stepped, folded, then times unscaleA. Returns 1 when a sum overflowed scaled up
 * (out is then incomplete: the backend multiplies as it is instead), else 0. m even, n a multiple
 * of 4, k of 16; scratch holds 16·n floats.
 */
static napi_value matmul_transpose_b_rescaled(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulTransposeBRescaled")) return NULL;
  const uint32_t m = arg_u32(&call, 4), n = arg_u32(&call, 5), k = arg_u32(&call, 6);
  const float unscaleA = arg_f32(&call, 7);
  if (call.failed || !unscales_ok(&call, unscaleA, 1)) return NULL;
  if (m % 2 != 0 || n % 4 != 0 || k % 16 != 0) return fail(&call, "m must be even, n a multiple of 4 and k of 16"), NULL;
  const float* a = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)m * k, 4);
  float* laid = region(&call, arg_u32(&call, 8), 16.0 * n, 4);
  if (!a || !b || !out || !laid) return NULL;
  napi_value result;
  napi_create_uint32(env, kernels->rescaled->transpose_b(a, b, out, m, n, k, unscaleA, laid) ? 1 : 0, &result);
  return result;
}

void register_rescaled_products(napi_env env, napi_value exports, const product_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "gemmAddRescaled", gemm_add_rescaled);
  export_function(env, exports, "matmulTransposeBRescaled", matmul_transpose_b_rescaled);
}
