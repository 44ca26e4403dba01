/*
 * The logistic sigmoid and its backward pass (assembly/fast-math.ts' sigmoidForward, elementwise.ts'
 * dy·y·(1 − y)), with the wasm kernels' bits. Half of the article's runs use the sigmoid; in the
 * saturated ones (std 10) its inputs reach past ±87, where e^(−|x|) is subnormal, and its
 * gradients meet subnormal y and dy: the kernels compute those without a subnormal operation (a
 * microcode assist on Intel cores). Here each call's arguments are read and checked; the kernels
 * of the CPU's instruction set (sigmoid-avx512.c or sigmoid-avx2.c) compute.
 */
#include "sigmoid.h"

/* The kernels in use (register_sigmoid). */
static const sigmoid_kernels_t* kernels;

/* sigmoidForward(memory, x, out, count): out = sigmoid(x); out may be x. */
static napi_value sigmoid_forward(napi_env env, napi_callback_info info) {
  napi_value args[4];
  call_t call;
  if (!start_call(&call, env, info, args, 4, "sigmoidForward")) return NULL;
  const uint32_t count = arg_u32(&call, 3);
  const float* x = region(&call, arg_u32(&call, 1), count, 4);
  float* out = region(&call, arg_u32(&call, 2), count, 4);
  if (!out) return NULL;
  kernels->forward(x, out, count);
  return NULL;
}

/* sigmoidBackward(memory, y, dy, dx, count): dx = dy·y·(1 − y); dx may be dy. */
static napi_value sigmoid_backward(napi_env env, napi_callback_info info) {
  napi_value args[5];
  call_t call;
  if (!start_call(&call, env, info, args, 5, "sigmoidBackward")) return NULL;
  const uint32_t count = arg_u32(&call, 4);
  const float* y = region(&call, arg_u32(&call, 1), count, 4);
  const float* dy = region(&call, arg_u32(&call, 2), count, 4);
  float* dx = region(&call, arg_u32(&call, 3), count, 4);
  if (!dx) return NULL;
  kernels->backward(y, dy, dx, count);
  return NULL;
}

void register_sigmoid(napi_env env, napi_value exports, const sigmoid_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "sigmoidForward", sigmoid_forward);
  export_function(env, exports, "sigmoidBackward", sigmoid_backward);
}
