/*
 * The kernels behind sigmoid.c's calls, one table per instruction set (sigmoid-avx512.c,
 * sigmoid-avx2.c), each with the wasm kernels' bits (assembly/fast-math.ts' sigmoidForward,
 * elementwise.ts' dy·y·(1 − y)); outputs may alias inputs.
 */
#ifndef BNLAB_NATIVE_SIGMOID_H
#define BNLAB_NATIVE_SIGMOID_H

#include "native-call.h"

/* fast-math.ts' constants, the same floats. */
#define EXP_INPUT_MIN -112.0f
#define LOG2E 1.44269504088896341f
#define LN2_HIGH 0.693359375f
#define LN2_LOW -2.12194440e-4f
#define ROUNDING_MAGIC 12582912.0f
#define SUBNORMAL_SHIFT 64
#define GRID_OFFSET 2.168404344971009e-19f
#define GRID_TO_BITS 3.8685626227668134e25f
#define SIGMOID_NORMAL_BELOW 80.0f

typedef struct {
  /* out = sigmoid(x) over `count` floats on checked regions; out may be x */
  void (*forward)(const float* x, float* out, uint32_t count);
  /* dx = dy·y·(1 − y) over `count` floats on checked regions; dx may be dy */
  void (*backward)(const float* y, const float* dy, float* dx, uint32_t count);
} sigmoid_kernels_t;

extern const sigmoid_kernels_t avx512_sigmoid, avx2_sigmoid;

/* sigmoid.c's exports, computed by `kernels`. */
void register_sigmoid(napi_env env, napi_value exports, const sigmoid_kernels_t* kernels);

#endif
