/*
 * batch-norm.c's kernels in 256-bit AVX2 vectors: batch-norm-avx512.c's operations column for
 * column, eight columns a vector, in blocks of four vectors (32 columns), then single ones.
 */
#include "batch-norm.h"

/* wasm's f32x4.max(a, +0): a NaN stays NaN (x86's max would give +0). */
AVX2 static inline __m256 at_least_zero(__m256 a) {
  return _mm256_blendv_ps(_mm256_max_ps(a, _mm256_setzero_ps()), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

AVX2 static inline __m256 load_or(const float* p, size_t j, float fallback) {
  return p ? _mm256_loadu_ps(p + j) : _mm256_set1_ps(fallback);
}

/* `V` vectors of columns from j (4 or 1): their statistics, then their element-wise pass (four independent chains of adds over the rows). */
AVX2 static inline __attribute__((always_inline)) void forward_columns(const float* x, size_t m, size_t n, size_t j, int V, __m256 rows, __m256 epsilon,
                                                                        const float* gamma, const float* beta, float* mean, float* variance,
                                                                        float* invStd, float* xhat, float* y) {
  __m256 s[4], mu[4], d[4], q[4], inv[4], corrected[4], g[4], b[4];
  for (int v = 0; v < V; v++) s[v] = d[v] = q[v] = _mm256_setzero_ps();
  for (size_t t = 0; t < m; t++)
    for (int v = 0; v < V; v++) s[v] = add_in_order_256(s[v], _mm256_loadu_ps(x + t * n + j + 8 * v));
  for (int v = 0; v < V; v++) mu[v] = _mm256_div_ps(s[v], rows);
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const __m256 e = _mm256_sub_ps(_mm256_loadu_ps(x + t * n + j + 8 * v), mu[v]);
      d[v] = add_in_order_256(d[v], e);
      q[v] = _mm256_fmadd_ps(e, e, q[v]);
    }
  }
  for (int v = 0; v < V; v++) {
    const size_t at = j + 8 * v;
    const __m256 c = _mm256_div_ps(d[v], rows);
    const __m256 sigma2 = at_least_zero(_mm256_sub_ps(_mm256_div_ps(q[v], rows), mul_in_order_256(c, c)));
    inv[v] = _mm256_div_ps(_mm256_set1_ps(1), _mm256_sqrt_ps(add_in_order_256(sigma2, epsilon)));
    corrected[v] = add_in_order_256(mu[v], c);
    _mm256_storeu_ps(mean + at, corrected[v]);
    _mm256_storeu_ps(variance + at, sigma2);
    _mm256_storeu_ps(invStd + at, inv[v]);
    g[v] = load_or(gamma, at, 1);
    b[v] = load_or(beta, at, 0);
  }
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const size_t at = t * n + j + 8 * v;
      const __m256 h = mul_in_order_256(_mm256_sub_ps(_mm256_loadu_ps(x + at), corrected[v]), inv[v]);
      _mm256_storeu_ps(xhat + at, h);
      _mm256_storeu_ps(y + at, add_in_order_256(mul_in_order_256(g[v], h), b[v]));
    }
  }
}

AVX2 static void forward_train(const float* x, uint32_t m, uint32_t n, float eps, const float* gamma, const float* beta, float* mean, float* variance,
                               float* invStd, float* xhat, float* y) {
  const __m256 rows = _mm256_set1_ps((float)m), epsilon = _mm256_set1_ps(eps);
  size_t j = 0;
  for (; j + 32 <= n; j += 32) forward_columns(x, m, n, j, 4, rows, epsilon, gamma, beta, mean, variance, invStd, xhat, y);
  for (; j < n; j += 8) forward_columns(x, m, n, j, 1, rows, epsilon, gamma, beta, mean, variance, invStd, xhat, y);
}

/* `V` vectors of columns from j (4 or 1, as forward_columns): their sums, dGamma and dBeta, then dx. */
AVX2 static inline __attribute__((always_inline)) void backward_columns(const float* dy, const float* xhat, const float* invStd, const float* gamma, size_t m,
                                                                         size_t n, size_t j, int V, __m256 rows, float* dx, float* dGamma, float* dBeta) {
  __m256 sumDy[4], sumDyXhat[4], a[4], c[4], h[4];
  for (int v = 0; v < V; v++) sumDy[v] = sumDyXhat[v] = _mm256_setzero_ps();
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const __m256 g = _mm256_loadu_ps(dy + t * n + j + 8 * v);
      sumDy[v] = add_in_order_256(sumDy[v], g);
      sumDyXhat[v] = _mm256_fmadd_ps(g, _mm256_loadu_ps(xhat + t * n + j + 8 * v), sumDyXhat[v]);
    }
  }
  for (int v = 0; v < V; v++) {
    const size_t at = j + 8 * v;
    if (dGamma) _mm256_storeu_ps(dGamma + at, add_in_order_256(_mm256_loadu_ps(dGamma + at), sumDyXhat[v]));
    if (dBeta) _mm256_storeu_ps(dBeta + at, add_in_order_256(_mm256_loadu_ps(dBeta + at), sumDy[v]));
    const __m256 s = _mm256_div_ps(mul_in_order_256(load_or(gamma, at, 1), _mm256_loadu_ps(invStd + at)), rows);
    a[v] = mul_in_order_256(s, rows);
    c[v] = negated(mul_in_order_256(s, sumDy[v]));
    h[v] = negated(mul_in_order_256(s, sumDyXhat[v]));
  }
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const size_t at = t * n + j + 8 * v;
      _mm256_storeu_ps(dx + at, _mm256_fmadd_ps(h[v], _mm256_loadu_ps(xhat + at), _mm256_fmadd_ps(a[v], _mm256_loadu_ps(dy + at), c[v])));
    }
  }
}

AVX2 static void backward(const float* dy, const float* xhat, const float* invStd, const float* gamma, uint32_t m, uint32_t n, float* dx, float* dGamma,
                          float* dBeta) {
  const __m256 rows = _mm256_set1_ps((float)m);
  size_t j = 0;
  for (; j + 32 <= n; j += 32) backward_columns(dy, xhat, invStd, gamma, m, n, j, 4, rows, dx, dGamma, dBeta);
  for (; j < n; j += 8) backward_columns(dy, xhat, invStd, gamma, m, n, j, 1, rows, dx, dGamma, dBeta);
}

const batch_norm_kernels_t avx2_batch_norm = {forward_train, backward};
