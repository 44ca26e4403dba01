/*
 * The kernels behind batch-norm.c's calls, one table per instruction set (batch-norm-avx512.c,
 * batch-norm-avx2.c), each with assembly/batch-norm.ts' floats; n a multiple of 16, outputs may
 * alias inputs.
 */
#ifndef BNLAB_NATIVE_BATCH_NORM_H
#define BNLAB_NATIVE_BATCH_NORM_H

#include "native-call.h"

typedef struct {
  /* batchNormForwardTrain on checked regions (gamma, beta NULL: none) */
  void (*forward_train)(const float* x, uint32_t m, uint32_t n, float eps, const float* gamma, const float* beta, float* mean, float* variance,
                        float* invStd, float* xhat, float* y);
  /* batchNormBackward on checked regions (gamma, dGamma, dBeta NULL: none) */
  void (*backward)(const float* dy, const float* xhat, const float* invStd, const float* gamma, uint32_t m, uint32_t n, float* dx, float* dGamma,
                   float* dBeta);
} batch_norm_kernels_t;

extern const batch_norm_kernels_t avx512_batch_norm, avx2_batch_norm;

/* batch-norm.c's exports, computed by `kernels`. */
void register_batch_norm(napi_env env, napi_value exports, const batch_norm_kernels_t* kernels);

#endif
