/*
 * weight-norm.c's kernels in 512-bit AVX-512 vectors (weight-norm-avx2.c has the same in 256-bit
 * ones): each column the wasm kernel's sequence of operations, sixteen columns a vector where it
 * has four, with the same loads and stores of the [1,n] sums between passes.
 */
#include <string.h>

#include "weight-norm.h"

/* norms[j] = ‖v[:,j]‖ from +0 over the rows in order (four rows a pass, then single rows), then scale = g/norms. */
AVX512 static void norms_and_scales(const float* v, uint32_t k, uint32_t n, const float* g, float* norms, float* scale) {
  memset(norms, 0, (size_t)n * 4);
  const size_t row = n;
  const float *at = v, *const end = v + (size_t)k * row, *const fourRowsEnd = v + (size_t)(k & ~3u) * row;
  for (; at < fourRowsEnd; at += 4 * row) {
    const float *at1 = at + row, *at2 = at1 + row, *at3 = at2 + row;
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 x0 = _mm512_loadu_ps(at + j), x1 = _mm512_loadu_ps(at1 + j), x2 = _mm512_loadu_ps(at2 + j), x3 = _mm512_loadu_ps(at3 + j);
      __m512 s = _mm512_loadu_ps(norms + j);
      s = _mm512_fmadd_ps(x0, x0, s);
      s = _mm512_fmadd_ps(x1, x1, s);
      s = _mm512_fmadd_ps(x2, x2, s);
      s = _mm512_fmadd_ps(x3, x3, s);
      _mm512_storeu_ps(norms + j, s);
    }
  }
  for (; at < end; at += row) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 x = _mm512_loadu_ps(at + j);
      _mm512_storeu_ps(norms + j, _mm512_fmadd_ps(x, x, _mm512_loadu_ps(norms + j)));
    }
  }
  for (uint32_t j = 0; j < n; j += 16) {
    const __m512 norm = _mm512_sqrt_ps(_mm512_loadu_ps(norms + j));
    _mm512_storeu_ps(norms + j, norm);
    _mm512_storeu_ps(scale + j, _mm512_div_ps(_mm512_loadu_ps(g + j), norm));
  }
}

/* dg and Σdy over the rows, dt = scale·(dy − coefficient), then dg ← dg/norms and coefficient ← (g·dg)/(norms·norms). */
AVX512 static void backward(const float* dy, const float* t, const float* mean, const float* norms, const float* scale, const float* g, uint32_t m, uint32_t n,
                            float* dt, float* dg, float* coefficient) {
  const __m512 zero = _mm512_setzero_ps();
  memset(dg, 0, (size_t)n * 4);
  memset(coefficient, 0, (size_t)n * 4);
  const size_t end = (size_t)m * n;
  for (size_t offset = 0; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 d = _mm512_loadu_ps(dy + offset + j);
      const __m512 mu = mean ? _mm512_loadu_ps(mean + j) : zero;
      _mm512_storeu_ps(dg + j, _mm512_fmadd_ps(d, _mm512_sub_ps(_mm512_loadu_ps(t + offset + j), mu), _mm512_loadu_ps(dg + j)));
      _mm512_storeu_ps(coefficient + j, add_in_order(_mm512_loadu_ps(coefficient + j), d));
    }
  }
  /* The mean of dy as the wasm kernel forms it: one float32 division by (f32)m, or +0. */
  const __m512 rows = _mm512_set1_ps((float)m);
  for (uint32_t j = 0; j < n; j += 16) _mm512_storeu_ps(coefficient + j, mean ? _mm512_div_ps(_mm512_loadu_ps(coefficient + j), rows) : zero);
  for (size_t offset = 0; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 centered = _mm512_sub_ps(_mm512_loadu_ps(dy + offset + j), _mm512_loadu_ps(coefficient + j));
      _mm512_storeu_ps(dt + offset + j, mul_in_order(_mm512_loadu_ps(scale + j), centered));
    }
  }
  for (uint32_t j = 0; j < n; j += 16) {
    const __m512 norm = _mm512_loadu_ps(norms + j);
    const __m512 grad = _mm512_div_ps(_mm512_loadu_ps(dg + j), norm);
    _mm512_storeu_ps(dg + j, grad);
    _mm512_storeu_ps(coefficient + j, _mm512_div_ps(mul_in_order(_mm512_loadu_ps(g + j), grad), mul_in_order(norm, norm)));
  }
}

/* out += (factor·coefficient)·v, four rows a pass with factor·coefficient formed once for them, then single rows. */
AVX512 static void add_scaled_columns(const float* v, const float* coefficient, float factor, float* out, uint32_t k, uint32_t n) {
  const __m512 f = _mm512_set1_ps(factor);
  const size_t row = n, end = (size_t)k * row, fourRowsEnd = (size_t)(k & ~3u) * row;
  size_t offset = 0;
  for (; offset < fourRowsEnd; offset += 4 * row) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 a = mul_in_order(f, _mm512_loadu_ps(coefficient + j));
      const float* p = v + offset + j;
      float* o = out + offset + j;
      _mm512_storeu_ps(o, _mm512_fmadd_ps(a, _mm512_loadu_ps(p), _mm512_loadu_ps(o)));
      _mm512_storeu_ps(o + row, _mm512_fmadd_ps(a, _mm512_loadu_ps(p + row), _mm512_loadu_ps(o + row)));
      _mm512_storeu_ps(o + 2 * row, _mm512_fmadd_ps(a, _mm512_loadu_ps(p + 2 * row), _mm512_loadu_ps(o + 2 * row)));
      _mm512_storeu_ps(o + 3 * row, _mm512_fmadd_ps(a, _mm512_loadu_ps(p + 3 * row), _mm512_loadu_ps(o + 3 * row)));
    }
  }
  for (; offset < end; offset += row) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 a = mul_in_order(f, _mm512_loadu_ps(coefficient + j));
      _mm512_storeu_ps(out + offset + j, _mm512_fmadd_ps(a, _mm512_loadu_ps(v + offset + j), _mm512_loadu_ps(out + offset + j)));
    }
  }
}

/* y = x·scale + shift, unfused. */
AVX512 static void scale_shift_columns(const float* x, const float* scale, const float* shift, float* y, uint32_t m, uint32_t n) {
  for (size_t offset = 0, end = (size_t)m * n; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 product = mul_in_order(_mm512_loadu_ps(x + offset + j), _mm512_loadu_ps(scale + j));
      _mm512_storeu_ps(y + offset + j, add_in_order(product, _mm512_loadu_ps(shift + j)));
    }
  }
}

const weight_norm_kernels_t avx512_weight_norm = {norms_and_scales, backward, add_scaled_columns, scale_shift_columns};
