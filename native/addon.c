/*
 * bnlab's native addon (Node only): the products (and the batch draw) of products.c and
 * rescaled-products.c, the checks and scalings of subnormals.c, the search for negligible updates
 * of negligible-updates.c, the sigmoid of sigmoid.c and the kernels of batch-norm.c,
 * group-norm.c and weight-norm.c. Each file reads its calls and hands the vector work to a table
 * of kernels chosen here once: 512-bit ones where the CPU runs AVX-512F, else 256-bit ones where
 * it runs AVX2 with FMA (the same bits either way). `vectors` names the instructions they use, or
 * is null, and then nothing else is exported (the functions would fault). The wasm backend uses
 * them in place of its own kernels, for the same bits (src/core/wasm/native-products.ts).
 */
#include "batch-norm.h"
#include "group-norm.h"
#include "negligible-updates.h"
#include "products.h"
#include "sigmoid.h"
#include "subnormals.h"
#include "weight-norm.h"

NAPI_MODULE_INIT() {
  napi_value vectors;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    napi_create_string_utf8(env, "avx512f", NAPI_AUTO_LENGTH, &vectors);
    register_products(env, exports, &avx512_products);
    register_rescaled_products(env, exports, &avx512_products);
    register_subnormals(env, exports, &avx512_subnormals);
    register_negligible_updates(env, exports, &avx512_negligible_updates);
    register_sigmoid(env, exports, &avx512_sigmoid);
    register_batch_norm(env, exports, &avx512_batch_norm);
    register_group_norm(env, exports, &avx512_group_norm);
    register_weight_norm(env, exports, &avx512_weight_norm);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    napi_create_string_utf8(env, "avx2", NAPI_AUTO_LENGTH, &vectors);
    register_products(env, exports, &avx2_products);
    register_rescaled_products(env, exports, &avx2_products);
    register_subnormals(env, exports, &avx2_subnormals);
    register_negligible_updates(env, exports, &avx2_negligible_updates);
    register_sigmoid(env, exports, &avx2_sigmoid);
    register_batch_norm(env, exports, &avx2_batch_norm);
    register_group_norm(env, exports, &avx2_group_norm);
    register_weight_norm(env, exports, &avx2_weight_norm);
  } else {
    napi_get_null(env, &vectors);
  }
  napi_set_named_property(env, exports, "vectors", vectors);
  return exports;
}
