/*
 * bnlab's native addon (Node only): the products (and the batch draw) of products.c and
 * rescaled-products.c, the checks and scalings of subnormals.c, the search for negligible updates
 * of negligible-updates.c, the sigmoid of sigmoid.c and the kernels of batch-norm.c,
 * group-norm.c and weight-norm.c. Each file reads its calls and hands the vector work to a table
 * of kernels chosen here once: 512-bit ones where the CPU runs AVX-512F, else 256-bit ones where
 * it runs AVX2 with FMA (the same bits either way; BNLAB_NATIVE=avx2 asks for the latter).
 * `vectors` names the instructions they use, or is null, and then nothing else is exported (the
 * functions would fault). The wasm backend uses them in place of its own kernels, for the same
 * bits (src/core/wasm/native-products.ts).
 */
#include <stdlib.h>
#include <string.h>

#include "batch-norm.h"
#include "group-norm.h"
#include "negligible-updates.h"
#include "products.h"
#include "sigmoid.h"
#include "subnormals.h"
#include "weight-norm.h"

/* One instruction set's kernel tables, a field per native file. */
typedef struct {
  const char* vectors;
  const product_kernels_t* products;
  const subnormal_kernels_t* subnormals;
  const negligible_update_kernels_t* negligible_updates;
  const sigmoid_kernels_t* sigmoid;
  const batch_norm_kernels_t* batch_norm;
  const group_norm_kernels_t* group_norm;
  const weight_norm_kernels_t* weight_norm;
} kernel_set_t;

static const kernel_set_t avx512_set = {
  .vectors = "avx512f",
  .products = &avx512_products,
  .subnormals = &avx512_subnormals,
  .negligible_updates = &avx512_negligible_updates,
  .sigmoid = &avx512_sigmoid,
  .batch_norm = &avx512_batch_norm,
  .group_norm = &avx512_group_norm,
  .weight_norm = &avx512_weight_norm,
};
static const kernel_set_t avx2_set = {
  .vectors = "avx2",
  .products = &avx2_products,
  .subnormals = &avx2_subnormals,
  .negligible_updates = &avx2_negligible_updates,
  .sigmoid = &avx2_sigmoid,
  .batch_norm = &avx2_batch_norm,
  .group_norm = &avx2_group_norm,
  .weight_norm = &avx2_weight_norm,
};

NAPI_MODULE_INIT() {
  __builtin_cpu_init();
  const int fma = __builtin_cpu_supports("fma");
  /* BNLAB_NATIVE=avx2 takes the 256-bit set where both run: to test and time it on AVX-512 machines too. */
  const char* asked = getenv("BNLAB_NATIVE");
  const int avx2Only = asked && strcmp(asked, "avx2") == 0;
  const kernel_set_t* set = fma && !avx2Only && __builtin_cpu_supports("avx512f") ? &avx512_set
                            : fma && __builtin_cpu_supports("avx2")                 ? &avx2_set
                                                                                    : NULL;
  napi_value vectors;
  if (set) {
    napi_create_string_utf8(env, set->vectors, NAPI_AUTO_LENGTH, &vectors);
    register_products(env, exports, set->products);
    register_rescaled_products(env, exports, set->products);
    register_subnormals(env, exports, set->subnormals);
    register_negligible_updates(env, exports, set->negligible_updates);
    register_sigmoid(env, exports, set->sigmoid);
    register_batch_norm(env, exports, set->batch_norm);
    register_group_norm(env, exports, set->group_norm);
    register_weight_norm(env, exports, set->weight_norm);
  } else {
    napi_get_null(env, &vectors);
  }
  napi_set_named_property(env, exports, "vectors", vectors);
  return exports;
}
