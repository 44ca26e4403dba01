/*
 * BatchNorm's training forward pass and its backward pass (assembly/batch-norm.ts), for n a
 * multiple of 16 (other widths end in the wasm kernels' f64 scalar columns, and stay there). Each
 * column is the wasm kernel's sequence of operations: its sums over the rows in row order, the
 * corrected two-pass statistics, the element-wise pass. Here each call's arguments are read and
 * checked; the kernels of the CPU's instruction set (batch-norm-avx512.c or batch-norm-avx2.c)
 * compute. Outputs may alias inputs: each element is read before it is written.
 */
#include "batch-norm.h"

/* The kernels in use (register_batch_norm). */
static const batch_norm_kernels_t* kernels;

/*
 * batchNormForwardTrain(memory, x, m, n, eps, gamma, beta, mean, variance, invStd, xhat, y): mean
 * μ = Σx/m, then with d = x − μ: mean = μ + Σd/m, variance = max(Σd²/m − (Σd/m)², 0), invStd =
 * 1/√(variance + eps); xhat = (x − mean)·invStd, y = gamma·xhat + beta (gamma, beta 0: none).
 */
static napi_value batch_norm_forward_train(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "batchNormForwardTrain")) return NULL;
  const uint32_t m = arg_u32(&call, 2), n = arg_u32(&call, 3);
  double eps = 0;
  napi_get_value_double(env, args[4], &eps);
  if (!columns_ok(&call, n)) return NULL;
  const float* x = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* gamma = optional_region(&call, arg_u32(&call, 5), n, 4);
  const float* beta = optional_region(&call, arg_u32(&call, 6), n, 4);
  float* mean = region(&call, arg_u32(&call, 7), n, 4);
  float* variance = region(&call, arg_u32(&call, 8), n, 4);
  float* invStd = region(&call, arg_u32(&call, 9), n, 4);
  float* xhat = region(&call, arg_u32(&call, 10), (double)m * n, 4);
  float* y = region(&call, arg_u32(&call, 11), (double)m * n, 4);
  if (call.failed) return NULL;
  kernels->forward_train(x, m, n, (float)eps, gamma, beta, mean, variance, invStd, xhat, y);
  return NULL;
}

/*
 * batchNormBackward(memory, dy, xhat, invStd, gamma, m, n, dx, dGamma, dBeta): with s =
 * gamma·invStd/m, dx = (s·m)·dy + (−s·Σdy) + (−s·Σdy·xhat)·xhat (two fused multiply-adds);
 * dGamma += Σdy·xhat and dBeta += Σdy where given (0: none).
 */
static napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  napi_value args[10];
  call_t call;
  if (!start_call(&call, env, info, args, 10, "batchNormBackward")) return NULL;
  const uint32_t m = arg_u32(&call, 5), n = arg_u32(&call, 6);
  if (!columns_ok(&call, n)) return NULL;
  const float* dy = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* xhat = region(&call, arg_u32(&call, 2), (double)m * n, 4);
  const float* invStd = region(&call, arg_u32(&call, 3), n, 4);
  const float* gamma = optional_region(&call, arg_u32(&call, 4), n, 4);
  float* dx = region(&call, arg_u32(&call, 7), (double)m * n, 4);
  float* dGamma = optional_region(&call, arg_u32(&call, 8), n, 4);
  float* dBeta = optional_region(&call, arg_u32(&call, 9), n, 4);
  if (call.failed) return NULL;
  kernels->backward(dy, xhat, invStd, gamma, m, n, dx, dGamma, dBeta);
  return NULL;
}

void register_batch_norm(napi_env env, napi_value exports, const batch_norm_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "batchNormForwardTrain", batch_norm_forward_train);
  export_function(env, exports, "batchNormBackward", batch_norm_backward);
}
