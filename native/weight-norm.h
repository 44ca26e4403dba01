/*
 * The kernels behind weight-norm.c's calls, one table per instruction set (weight-norm-avx512.c,
 * weight-norm-avx2.c), each with assembly/weight-norm.ts' and elementwise.ts' floats; n a
 * multiple of 16, and only add_scaled_columns' out may alias an input (v).
 */
#ifndef BNLAB_NATIVE_WEIGHT_NORM_H
#define BNLAB_NATIVE_WEIGHT_NORM_H

#include "native-call.h"

typedef struct {
  /* weightNormScale on checked regions: norms = ‖v[:,j]‖, scale = g/norms */
  void (*norms_and_scales)(const float* v, uint32_t k, uint32_t n, const float* g, float* norms, float* scale);
  /* weightNormBackward on checked regions (mean NULL: none) */
  void (*backward)(const float* dy, const float* t, const float* mean, const float* norms, const float* scale, const float* g, uint32_t m, uint32_t n,
                   float* dt, float* dg, float* coefficient);
  /* addScaledColumns on checked regions (out may be v) */
  void (*add_scaled_columns)(const float* v, const float* coefficient, float factor, float* out, uint32_t k, uint32_t n);
  /* scaleShiftColumns on checked regions */
  void (*scale_shift_columns)(const float* x, const float* scale, const float* shift, float* y, uint32_t m, uint32_t n);
} weight_norm_kernels_t;

extern const weight_norm_kernels_t avx512_weight_norm, avx2_weight_norm;

/* weight-norm.c's exports, computed by `kernels`. */
void register_weight_norm(napi_env env, napi_value exports, const weight_norm_kernels_t* kernels);

#endif
