/*
 * BatchNorm's training forward pass and its backward pass (assembly/batch-norm.ts) in 512-bit
 * vectors, for n a multiple of 16 (other widths end in the wasm kernels' f64 scalar columns, and
 * stay there). Each column is the wasm kernel's sequence of operations: its sums over the rows in
 * row order, the corrected two-pass statistics, the element-wise pass; sixteen columns a vector
 * instead of four (the wasm kernel's blocks of 16 columns are four such sums side by side, which
 * changes no column's arithmetic). Outputs may alias inputs: each element is read before it is
 * written.
 */
#include <math.h>

#include "native-call.h"

/* wasm's f32x4.max(a, +0): a NaN stays NaN (x86's max would give +0). */
AVX512 static inline __m512 at_least_zero(__m512 a) {
  const __mmask16 nan = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, _mm512_max_ps(a, _mm512_setzero_ps()), a);
}

AVX512 static inline __m512 load_or(const float* p, size_t j, float fallback) {
  return p ? _mm512_loadu_ps(p + j) : _mm512_set1_ps(fallback);
}

/* An optional per-column region (offset 0: none): NULL for none (and after a throw), else the region. */
static float* optional_columns(call_t* call, uint32_t offset, uint32_t n) {
  return offset ? region(call, offset, n, 4) : NULL;
}

/*
 * batchNormForwardTrain(memory, x, m, n, eps, gamma, beta, mean, variance, invStd, xhat, y): mean
 * μ = Σx/m, then with d = x − μ: mean = μ + Σd/m, variance = max(Σd²/m − (Σd/m)², 0), invStd =
 * 1/√(variance + eps); xhat = (x − mean)·invStd, y = gamma·xhat + beta (gamma, beta 0: none).
 */
AVX512 static napi_value batch_norm_forward_train(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "batchNormForwardTrain")) return NULL;
  const uint32_t m = arg_u32(&call, 2), n = arg_u32(&call, 3);
  double eps = 0;
  napi_get_value_double(env, args[4], &eps);
  if (!columns_ok(&call, n)) return NULL;
  const float* x = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* gamma = optional_columns(&call, arg_u32(&call, 5), n);
  const float* beta = optional_columns(&call, arg_u32(&call, 6), n);
  float* mean = region(&call, arg_u32(&call, 7), n, 4);
  float* variance = region(&call, arg_u32(&call, 8), n, 4);
  float* invStd = region(&call, arg_u32(&call, 9), n, 4);
  float* xhat = region(&call, arg_u32(&call, 10), (double)m * n, 4);
  float* y = region(&call, arg_u32(&call, 11), (double)m * n, 4);
  if (call.failed) return NULL;
  const __m512 rows = _mm512_set1_ps((float)m), epsilon = _mm512_set1_ps((float)eps);
  for (size_t j = 0; j < n; j += 16) {
    __m512 s = _mm512_setzero_ps();
    for (size_t t = 0; t < m; t++) s = add_in_order(s, _mm512_loadu_ps(x + t * n + j));
    const __m512 mu = _mm512_div_ps(s, rows);
    __m512 d = _mm512_setzero_ps(), q = d;
    for (size_t t = 0; t < m; t++) {
      const __m512 e = _mm512_sub_ps(_mm512_loadu_ps(x + t * n + j), mu);
      d = add_in_order(d, e);
      q = _mm512_fmadd_ps(e, e, q);
    }
    const __m512 c = _mm512_div_ps(d, rows);
    const __m512 sigma2 = at_least_zero(_mm512_sub_ps(_mm512_div_ps(q, rows), mul_in_order(c, c)));
    const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1), _mm512_sqrt_ps(add_in_order(sigma2, epsilon)));
    const __m512 corrected = add_in_order(mu, c);
    _mm512_storeu_ps(mean + j, corrected);
    _mm512_storeu_ps(variance + j, sigma2);
    _mm512_storeu_ps(invStd + j, inv);
    const __m512 g = load_or(gamma, j, 1), b = load_or(beta, j, 0);
    for (size_t t = 0; t < m; t++) {
      const __m512 h = mul_in_order(_mm512_sub_ps(_mm512_loadu_ps(x + t * n + j), corrected), inv);
      _mm512_storeu_ps(xhat + t * n + j, h);
      _mm512_storeu_ps(y + t * n + j, add_in_order(mul_in_order(g, h), b));
    }
  }
  return NULL;
}

/*
 * batchNormBackward(memory, dy, xhat, invStd, gamma, m, n, dx, dGamma, dBeta): with s =
 * gamma·invStd/m, dx = (s·m)·dy + (−s·Σdy) + (−s·Σdy·xhat)·xhat (two fused multiply-adds);
 * dGamma += Σdy·xhat and dBeta += Σdy where given (0: none).
 */
AVX512 static napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  napi_value args[10];
  call_t call;
  if (!start_call(&call, env, info, args, 10, "batchNormBackward")) return NULL;
  const uint32_t m = arg_u32(&call, 5), n = arg_u32(&call, 6);
  if (!columns_ok(&call, n)) return NULL;
  const float* dy = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* xhat = region(&call, arg_u32(&call, 2), (double)m * n, 4);
  const float* invStd = region(&call, arg_u32(&call, 3), n, 4);
  const float* gamma = optional_columns(&call, arg_u32(&call, 4), n);
  float* dx = region(&call, arg_u32(&call, 7), (double)m * n, 4);
  float* dGamma = optional_columns(&call, arg_u32(&call, 8), n);
  float* dBeta = optional_columns(&call, arg_u32(&call, 9), n);
  if (call.failed) return NULL;
  const __m512 rows = _mm512_set1_ps((float)m);
  const __m512i sign = _mm512_set1_epi32((int)0x80000000);
  for (size_t j = 0; j < n; j += 16) {
    __m512 sumDy = _mm512_setzero_ps(), sumDyXhat = sumDy;
    for (size_t t = 0; t < m; t++) {
      const __m512 g = _mm512_loadu_ps(dy + t * n + j);
      sumDy = add_in_order(sumDy, g);
      sumDyXhat = _mm512_fmadd_ps(g, _mm512_loadu_ps(xhat + t * n + j), sumDyXhat);
    }
    if (dGamma) _mm512_storeu_ps(dGamma + j, add_in_order(_mm512_loadu_ps(dGamma + j), sumDyXhat));
    if (dBeta) _mm512_storeu_ps(dBeta + j, add_in_order(_mm512_loadu_ps(dBeta + j), sumDy));
    const __m512 s = _mm512_div_ps(mul_in_order(load_or(gamma, j, 1), _mm512_loadu_ps(invStd + j)), rows);
    const __m512 a = mul_in_order(s, rows);
    const __m512 c = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(mul_in_order(s, sumDy)), sign));
    const __m512 h = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(mul_in_order(s, sumDyXhat)), sign));
    for (size_t t = 0; t < m; t++) {
      const size_t at = t * n + j;
      _mm512_storeu_ps(dx + at, _mm512_fmadd_ps(h, _mm512_loadu_ps(xhat + at), _mm512_fmadd_ps(a, _mm512_loadu_ps(dy + at), c)));
    }
  }
  return NULL;
}

void register_batch_norm(napi_env env, napi_value exports) {
  export_function(env, exports, "batchNormForwardTrain", batch_norm_forward_train);
  export_function(env, exports, "batchNormBackward", batch_norm_backward);
}
