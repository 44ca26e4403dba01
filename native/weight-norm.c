/*
 * Weight Norm's kernels (assembly/weight-norm.ts) and the per-column scale and shift of its
 * forward (assembly/elementwise.ts' scaleShiftColumns) in AVX-512, on the wasm module's own
 * memory, with the same bits as the relaxed-SIMD build on FMA hardware. v[k,n] is stored [in, out]:
 * every pass walks the rows in memory order, as the wasm kernels do, with sixteen columns per vector
 * where they have four, and the same loads and stores of the [1,n] sums between passes (so that
 * every element goes through the same operations in the same order, and outputs that the wasm
 * kernels allow to alias an input, such as addScaledColumns' out = v, behave alike). Only widths
 * that are whole vectors are taken (n a multiple of 16): the wasm kernels' scalar tails (n not a
 * multiple of 4) use an unfused multiply and add, so the backend keeps them in wasm.
 */
#include <string.h>

#include "native-call.h"

/*
 * weightNormScale(memory, v, k, n, g, norms, scale): norms[j] = ‖v[:,j]‖ summed from +0 over the
 * rows in order (four rows a pass: ((((s + x0²) + x1²) + x2²) + x3²), one fused multiply-add
 * each, then single rows), then scale[j] = g[j]/norms[j].
 */
AVX512 static napi_value weight_norm_scale(napi_env env, napi_callback_info info) {
  napi_value args[7];
  call_t call;
  if (!start_call(&call, env, info, args, 7, "weightNormScale")) return NULL;
  const uint32_t vAt = arg_u32(&call, 1), k = arg_u32(&call, 2), n = arg_u32(&call, 3);
  const uint32_t gAt = arg_u32(&call, 4), normsAt = arg_u32(&call, 5), scaleAt = arg_u32(&call, 6);
  if (!columns_ok(&call, n)) return NULL;
  const float* v = region(&call, vAt, (double)k * n, 4);
  const float* g = region(&call, gAt, n, 4);
  float* norms = region(&call, normsAt, n, 4);
  float* scale = region(&call, scaleAt, n, 4);
  if (!v || !g || !norms || !scale) return NULL;
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
  return NULL;
}

/*
 * weightNormBackward(memory, dy, t, tMean, norms, scale, g, m, n, dt, dg, coefficient), tMean 0
 * for none: dg[j] = Σ_i dy·(t − μ) (from +0, one fused multiply-add a row), Σ dy into
 * coefficient (from +0, one add a row), coefficient ← Σdy/m (+0 without the mean);
 * dt = scale·(dy − coefficient); then dg ← dg/norms and coefficient ← (g·dg)/(norms·norms).
 */
AVX512 static napi_value weight_norm_backward(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "weightNormBackward")) return NULL;
  const uint32_t dyAt = arg_u32(&call, 1), tAt = arg_u32(&call, 2), meanAt = arg_u32(&call, 3), normsAt = arg_u32(&call, 4);
  const uint32_t scaleAt = arg_u32(&call, 5), gAt = arg_u32(&call, 6), m = arg_u32(&call, 7), n = arg_u32(&call, 8);
  const uint32_t dtAt = arg_u32(&call, 9), dgAt = arg_u32(&call, 10), coefficientAt = arg_u32(&call, 11);
  if (!columns_ok(&call, n)) return NULL;
  const double size = (double)m * n;
  const float* dy = region(&call, dyAt, size, 4);
  const float* t = region(&call, tAt, size, 4);
  const float* mean = meanAt ? region(&call, meanAt, n, 4) : NULL;
  const float* norms = region(&call, normsAt, n, 4);
  const float* scale = region(&call, scaleAt, n, 4);
  const float* g = region(&call, gAt, n, 4);
  float* dt = region(&call, dtAt, size, 4);
  float* dg = region(&call, dgAt, n, 4);
  float* coefficient = region(&call, coefficientAt, n, 4);
  if (!dy || !t || (meanAt && !mean) || !norms || !scale || !g || !dt || !dg || !coefficient) return NULL;
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
  return NULL;
}

/*
 * addScaledColumns(memory, v, coefficient, factor, out, k, n): out[i,j] += (factor·coefficient[j])·v[i,j]
 * over v[k,n] (out may be v), one fused multiply-add each: four rows a pass with factor·coefficient
 * formed once for them, then single rows, as the wasm kernel walks them.
 */
AVX512 static napi_value add_scaled_columns(napi_env env, napi_callback_info info) {
  napi_value args[7];
  call_t call;
  if (!start_call(&call, env, info, args, 7, "addScaledColumns")) return NULL;
  const uint32_t vAt = arg_u32(&call, 1), coefficientAt = arg_u32(&call, 2), outAt = arg_u32(&call, 4);
  const float factor = arg_f32(&call, 3);
  const uint32_t k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  if (!columns_ok(&call, n)) return NULL;
  const float* v = region(&call, vAt, (double)k * n, 4);
  const float* coefficient = region(&call, coefficientAt, n, 4);
  float* out = region(&call, outAt, (double)k * n, 4);
  if (!v || !coefficient || !out) return NULL;
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
  return NULL;
}

/* scaleShiftColumns(memory, x, scale, shift, y, m, n): y[i,j] = x[i,j]·scale[j] + shift[j], a multiply then an add (not fused). */
AVX512 static napi_value scale_shift_columns(napi_env env, napi_callback_info info) {
  napi_value args[7];
  call_t call;
  if (!start_call(&call, env, info, args, 7, "scaleShiftColumns")) return NULL;
  const uint32_t xAt = arg_u32(&call, 1), scaleAt = arg_u32(&call, 2), shiftAt = arg_u32(&call, 3), yAt = arg_u32(&call, 4);
  const uint32_t m = arg_u32(&call, 5), n = arg_u32(&call, 6);
  if (!columns_ok(&call, n)) return NULL;
  const float* x = region(&call, xAt, (double)m * n, 4);
  const float* scale = region(&call, scaleAt, n, 4);
  const float* shift = region(&call, shiftAt, n, 4);
  float* y = region(&call, yAt, (double)m * n, 4);
  if (!x || !scale || !shift || !y) return NULL;
  for (size_t offset = 0, end = (size_t)m * n; offset < end; offset += n) {
    for (uint32_t j = 0; j < n; j += 16) {
      const __m512 product = mul_in_order(_mm512_loadu_ps(x + offset + j), _mm512_loadu_ps(scale + j));
      _mm512_storeu_ps(y + offset + j, add_in_order(product, _mm512_loadu_ps(shift + j)));
    }
  }
  return NULL;
}

void register_weight_norm(napi_env env, napi_value exports) {
  export_function(env, exports, "weightNormScale", weight_norm_scale);
  export_function(env, exports, "weightNormBackward", weight_norm_backward);
  export_function(env, exports, "addScaledColumns", add_scaled_columns);
  export_function(env, exports, "scaleShiftColumns", scale_shift_columns);
}
