/*
 * weight-norm.c's kernels in 256-bit AVX2 vectors: weight-norm-avx512.c's operations column for
 * column, eight columns a vector. Every column's sums are its own (no lanes are folded), so the
 * vector's width changes no column's arithmetic; n is a multiple of 16, so there is no tail.
 */
#include <string.h>

#include "weight-norm.h"

AVX2 static void norms_and_scales(const float* v, uint32_t k, uint32_t n, const float* g, float* norms, float* scale) {
  memset(norms, 0, (size_t)n * 4);
  const size_t row = n;
  const float *at = v, *const end = v + (size_t)k * row, *const fourRowsEnd = v + (size_t)(k & ~3u) * row;
  for (; at < fourRowsEnd; at += 4 * row) {
    const float *at1 = at + row, *at2 = at1 + row, *at3 = at2 + row;
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 x0 = _mm256_loadu_ps(at + j), x1 = _mm256_loadu_ps(at1 + j), x2 = _mm256_loadu_ps(at2 + j), x3 = _mm256_loadu_ps(at3 + j);
      __m256 s = _mm256_loadu_ps(norms + j);
      s = _mm256_fmadd_ps(x0, x0, s);
      s = _mm256_fmadd_ps(x1, x1, s);
      s = _mm256_fmadd_ps(x2, x2, s);
      s = _mm256_fmadd_ps(x3, x3, s);
      _mm256_storeu_ps(norms + j, s);
    }
  }
  for (; at < end; at += row) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 x = _mm256_loadu_ps(at + j);
      _mm256_storeu_ps(norms + j, _mm256_fmadd_ps(x, x, _mm256_loadu_ps(norms + j)));
    }
  }
  for (uint32_t j = 0; j < n; j += 8) {
    const __m256 norm = _mm256_sqrt_ps(_mm256_loadu_ps(norms + j));
    _mm256_storeu_ps(norms + j, norm);
    _mm256_storeu_ps(scale + j, _mm256_div_ps(_mm256_loadu_ps(g + j), norm));
  }
}

AVX2 static void backward(const float* dy, const float* t, const float* mean, const float* norms, const float* scale, const float* g, uint32_t m, uint32_t n,
                          float* dt, float* dg, float* coefficient) {
  const __m256 zero = _mm256_setzero_ps();
  memset(dg, 0, (size_t)n * 4);
  memset(coefficient, 0, (size_t)n * 4);
  const size_t end = (size_t)m * n;
  for (size_t offset = 0; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 d = _mm256_loadu_ps(dy + offset + j);
      const __m256 mu = mean ? _mm256_loadu_ps(mean + j) : zero;
      _mm256_storeu_ps(dg + j, _mm256_fmadd_ps(d, _mm256_sub_ps(_mm256_loadu_ps(t + offset + j), mu), _mm256_loadu_ps(dg + j)));
      _mm256_storeu_ps(coefficient + j, add_in_order_256(_mm256_loadu_ps(coefficient + j), d));
    }
  }
  /* The mean of dy as the wasm kernel forms it: one float32 division by (f32)m, or +0. */
  const __m256 rows = _mm256_set1_ps((float)m);
  for (uint32_t j = 0; j < n; j += 8) _mm256_storeu_ps(coefficient + j, mean ? _mm256_div_ps(_mm256_loadu_ps(coefficient + j), rows) : zero);
  for (size_t offset = 0; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 centered = _mm256_sub_ps(_mm256_loadu_ps(dy + offset + j), _mm256_loadu_ps(coefficient + j));
      _mm256_storeu_ps(dt + offset + j, mul_in_order_256(_mm256_loadu_ps(scale + j), centered));
    }
  }
  for (uint32_t j = 0; j < n; j += 8) {
    const __m256 norm = _mm256_loadu_ps(norms + j);
    const __m256 grad = _mm256_div_ps(_mm256_loadu_ps(dg + j), norm);
    _mm256_storeu_ps(dg + j, grad);
    _mm256_storeu_ps(coefficient + j, _mm256_div_ps(mul_in_order_256(_mm256_loadu_ps(g + j), grad), mul_in_order_256(norm, norm)));
  }
}

AVX2 static void add_scaled_columns(const float* v, const float* coefficient, float factor, float* out, uint32_t k, uint32_t n) {
  const __m256 f = _mm256_set1_ps(factor);
  const size_t row = n, end = (size_t)k * row, fourRowsEnd = (size_t)(k & ~3u) * row;
  size_t offset = 0;
  for (; offset < fourRowsEnd; offset += 4 * row) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 a = mul_in_order_256(f, _mm256_loadu_ps(coefficient + j));
      const float* p = v + offset + j;
      float* o = out + offset + j;
      _mm256_storeu_ps(o, _mm256_fmadd_ps(a, _mm256_loadu_ps(p), _mm256_loadu_ps(o)));
      _mm256_storeu_ps(o + row, _mm256_fmadd_ps(a, _mm256_loadu_ps(p + row), _mm256_loadu_ps(o + row)));
      _mm256_storeu_ps(o + 2 * row, _mm256_fmadd_ps(a, _mm256_loadu_ps(p + 2 * row), _mm256_loadu_ps(o + 2 * row)));
      _mm256_storeu_ps(o + 3 * row, _mm256_fmadd_ps(a, _mm256_loadu_ps(p + 3 * row), _mm256_loadu_ps(o + 3 * row)));
    }
  }
  for (; offset < end; offset += row) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 a = mul_in_order_256(f, _mm256_loadu_ps(coefficient + j));
      _mm256_storeu_ps(out + offset + j, _mm256_fmadd_ps(a, _mm256_loadu_ps(v + offset + j), _mm256_loadu_ps(out + offset + j)));
    }
  }
}

AVX2 static void scale_shift_columns(const float* x, const float* scale, const float* shift, float* y, uint32_t m, uint32_t n) {
  for (size_t offset = 0, end = (size_t)m * n; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 8) {
      const __m256 product = mul_in_order_256(_mm256_loadu_ps(x + offset + j), _mm256_loadu_ps(scale + j));
      _mm256_storeu_ps(y + offset + j, add_in_order_256(product, _mm256_loadu_ps(shift + j)));
    }
  }
}

const weight_norm_kernels_t avx2_weight_norm = {norms_and_scales, backward, add_scaled_columns, scale_shift_columns};
