/*
 * The kernels behind group-norm.c's calls, one table per instruction set (group-norm-avx512.c,
 * group-norm-avx2.c), each with assembly/group-norm.ts' floats: rows of n units in `groups` groups
 * of s = n/groups, where s is 4 and the groups a multiple of 4, or s is a multiple of 16 (the calls
 * check it before a kernel runs).
 */
#ifndef BNLAB_NATIVE_GROUP_NORM_H
#define BNLAB_NATIVE_GROUP_NORM_H

#include "native-call.h"

typedef struct {
  /* groupNormForward on checked regions (gamma, beta NULL: none; centered 0: μ = 0) */
  void (*forward)(const float* x, uint32_t m, uint32_t n, uint32_t groups, uint32_t centered, float eps, const float* gamma, const float* beta,
                  float* invStd, float* xhat, float* y);
  /* groupNormBackward on checked regions (gamma, dGamma, dBeta NULL: none; centered 0: no Σg) */
  void (*backward)(const float* dy, const float* xhat, const float* invStd, uint32_t groups, uint32_t centered, const float* gamma, uint32_t m,
                   uint32_t n, float* dx, float* dGamma, float* dBeta);
} group_norm_kernels_t;

extern const group_norm_kernels_t avx512_group_norm, avx2_group_norm;

/* group-norm.c's exports, computed by `kernels`. */
void register_group_norm(napi_env env, napi_value exports, const group_norm_kernels_t* kernels);

#endif
