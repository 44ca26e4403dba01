/*
 * The kernels behind subnormals.c's calls, one table per instruction set (subnormals-avx512.c,
 * subnormals-avx2.c), each with assembly/subnormals.ts' results.
 */
#ifndef BNLAB_NATIVE_SUBNORMALS_H
#define BNLAB_NATIVE_SUBNORMALS_H

#include "native-call.h"

/* |bits| of 2^104 (2^24 up must stay below 2^128) and of 2^−102 (2^24 down must stay at least 2^−126). */
#define UP_LIMIT ((127 + 104) << 23)
#define DOWN_LIMIT ((127 - 102) << 23)

typedef struct {
  /* whether one of the floats is nonzero and below 2^−126 in magnitude */
  int (*has_subnormal)(const float* x, uint32_t count);
  /* whether every float can be multiplied by 2^24 (`up`) or by 2^−24 and back exactly */
  int (*rescalable)(const float* x, uint32_t count, int up);
  /* x[i] ·= 2^e in place (|e| from 23 to 100) */
  void (*scale_by_power_of_two)(float* x, uint32_t count, int32_t e);
} subnormal_kernels_t;

extern const subnormal_kernels_t avx512_subnormals, avx2_subnormals;

/* subnormals.c's exports, computed by `kernels`. */
void register_subnormals(napi_env env, napi_value exports, const subnormal_kernels_t* kernels);

#endif
