/*
 * batch-norm.c's kernels in 512-bit AVX-512 vectors (batch-norm-avx2.c has the same in 256-bit
 * ones): each column the wasm kernel's sequence of operations, sixteen columns a vector instead
 * of four, in blocks of four vectors (grouping columns changes no column's arithmetic).
 */
#include "batch-norm.h"

/* wasm's f32x4.max(a, +0): a NaN stays NaN (x86's max would give +0). */
AVX512 static inline __m512 at_least_zero(__m512 a) {
  const __mmask16 nan = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, _mm512_max_ps(a, _mm512_setzero_ps()), a);
}

AVX512 static inline __m512 load_or(const float* p, size_t j, float fallback) {
  return p ? _mm512_loadu_ps(p + j) : _mm512_set1_ps(fallback);
}

/*
 * `V` vectors of columns from j (V = 4 or 1): their statistics, then their element-wise pass. Four
 * vectors side by side are four independent chains of adds over the rows, which the core overlaps;
 * one alone waits on each add (the wasm kernel groups its columns the same way, for the same reason).
 */
AVX512 static inline __attribute__((always_inline)) void forward_columns(const float* x, size_t m, size_t n, size_t j, int V, __m512 rows, __m512 epsilon,
                                                                          const float* gamma, const float* beta, float* mean, float* variance,
                                                                          float* invStd, float* xhat, float* y) {
  __m512 s[4], mu[4], d[4], q[4], inv[4], corrected[4], g[4], b[4];
  for (int v = 0; v < V; v++) s[v] = d[v] = q[v] = _mm512_setzero_ps();
  for (size_t t = 0; t < m; t++)
    for (int v = 0; v < V; v++) s[v] = add_in_order(s[v], _mm512_loadu_ps(x + t * n + j + 16 * v));
  for (int v = 0; v < V; v++) mu[v] = _mm512_div_ps(s[v], rows);
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const __m512 e = _mm512_sub_ps(_mm512_loadu_ps(x + t * n + j + 16 * v), mu[v]);
      d[v] = add_in_order(d[v], e);
      q[v] = _mm512_fmadd_ps(e, e, q[v]);
    }
  }
  for (int v = 0; v < V; v++) {
    const size_t at = j + 16 * v;
    const __m512 c = _mm512_div_ps(d[v], rows);
    const __m512 sigma2 = at_least_zero(_mm512_sub_ps(_mm512_div_ps(q[v], rows), mul_in_order(c, c)));
    inv[v] = _mm512_div_ps(_mm512_set1_ps(1), _mm512_sqrt_ps(add_in_order(sigma2, epsilon)));
    corrected[v] = add_in_order(mu[v], c);
    _mm512_storeu_ps(mean + at, corrected[v]);
    _mm512_storeu_ps(variance + at, sigma2);
    _mm512_storeu_ps(invStd + at, inv[v]);
    g[v] = load_or(gamma, at, 1);
    b[v] = load_or(beta, at, 0);
  }
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const size_t at = t * n + j + 16 * v;
      const __m512 h = mul_in_order(_mm512_sub_ps(_mm512_loadu_ps(x + at), corrected[v]), inv[v]);
      _mm512_storeu_ps(xhat + at, h);
      _mm512_storeu_ps(y + at, add_in_order(mul_in_order(g[v], h), b[v]));
    }
  }
}

/* Blocks of four vectors (64 columns), then single ones. */
AVX512 static void forward_train(const float* x, uint32_t m, uint32_t n, float eps, const float* gamma, const float* beta, float* mean, float* variance,
                                 float* invStd, float* xhat, float* y) {
  const __m512 rows = _mm512_set1_ps((float)m), epsilon = _mm512_set1_ps(eps);
  size_t j = 0;
  for (; j + 64 <= n; j += 64) forward_columns(x, m, n, j, 4, rows, epsilon, gamma, beta, mean, variance, invStd, xhat, y);
  for (; j < n; j += 16) forward_columns(x, m, n, j, 1, rows, epsilon, gamma, beta, mean, variance, invStd, xhat, y);
}

/* `V` vectors of columns from j (4 or 1, as forward_columns): their sums, dGamma and dBeta, then dx. */
AVX512 static inline __attribute__((always_inline)) void backward_columns(const float* dy, const float* xhat, const float* invStd, const float* gamma, size_t m,
                                                                           size_t n, size_t j, int V, __m512 rows, float* dx, float* dGamma, float* dBeta) {
  const __m512i sign = _mm512_set1_epi32((int)0x80000000);
  __m512 sumDy[4], sumDyXhat[4], a[4], c[4], h[4];
  for (int v = 0; v < V; v++) sumDy[v] = sumDyXhat[v] = _mm512_setzero_ps();
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const __m512 g = _mm512_loadu_ps(dy + t * n + j + 16 * v);
      sumDy[v] = add_in_order(sumDy[v], g);
      sumDyXhat[v] = _mm512_fmadd_ps(g, _mm512_loadu_ps(xhat + t * n + j + 16 * v), sumDyXhat[v]);
    }
  }
  for (int v = 0; v < V; v++) {
    const size_t at = j + 16 * v;
    if (dGamma) _mm512_storeu_ps(dGamma + at, add_in_order(_mm512_loadu_ps(dGamma + at), sumDyXhat[v]));
    if (dBeta) _mm512_storeu_ps(dBeta + at, add_in_order(_mm512_loadu_ps(dBeta + at), sumDy[v]));
    const __m512 s = _mm512_div_ps(mul_in_order(load_or(gamma, at, 1), _mm512_loadu_ps(invStd + at)), rows);
    a[v] = mul_in_order(s, rows);
    c[v] = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(mul_in_order(s, sumDy[v])), sign));
    h[v] = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(mul_in_order(s, sumDyXhat[v])), sign));
  }
  for (size_t t = 0; t < m; t++) {
    for (int v = 0; v < V; v++) {
      const size_t at = t * n + j + 16 * v;
      _mm512_storeu_ps(dx + at, _mm512_fmadd_ps(h[v], _mm512_loadu_ps(xhat + at), _mm512_fmadd_ps(a[v], _mm512_loadu_ps(dy + at), c[v])));
    }
  }
}

/* Blocks of four vectors (64 columns), then single ones. */
AVX512 static void backward(const float* dy, const float* xhat, const float* invStd, const float* gamma, uint32_t m, uint32_t n, float* dx, float* dGamma,
                            float* dBeta) {
  const __m512 rows = _mm512_set1_ps((float)m);
  size_t j = 0;
  for (; j + 64 <= n; j += 64) backward_columns(dy, xhat, invStd, gamma, m, n, j, 4, rows, dx, dGamma, dBeta);
  for (; j < n; j += 16) backward_columns(dy, xhat, invStd, gamma, m, n, j, 1, rows, dx, dGamma, dBeta);
}

const batch_norm_kernels_t avx512_batch_norm = {forward_train, backward};
