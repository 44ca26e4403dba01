/*
 * Weight Norm's kernels (assembly/weight-norm.ts) and the per-column scale and shift of its
 * forward (assembly/elementwise.ts' scaleShiftColumns) on the wasm module's own memory, with the
 * same bits as the relaxed-SIMD build on FMA hardware. v[k,n] is stored [in, out]: every pass
 * walks the rows in memory order, as the wasm kernels do, with a vector of columns where they have
 * four, and the same loads and stores of the [1,n] sums between passes (so that every element goes
 * through the same operations in the same order, and outputs that the wasm kernels allow to alias
 * an input, such as addScaledColumns' out = v, behave alike). Only widths that are whole 16-float
 * vectors are taken: the wasm kernels' scalar tails (n not a multiple of 4) use an unfused
 * multiply and add, so the backend keeps them in wasm. Here each call's arguments are read and
 * checked; the kernels of the CPU's instruction set (weight-norm-avx512.c or weight-norm-avx2.c)
 * compute.
 */
#include "weight-norm.h"

/* The kernels in use (register_weight_norm). */
static const weight_norm_kernels_t* kernels;

/*
 * weightNormScale(memory, v, k, n, g, norms, scale): norms[j] = ‖v[:,j]‖ summed from +0 over the
 * rows in order (four rows a pass: ((((s + x0²) + x1²) + x2²) + x3²), one fused multiply-add
 * each, then single rows), then scale[j] = g[j]/norms[j].
 */
static napi_value weight_norm_scale(napi_env env, napi_callback_info info) {
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
  kernels->norms_and_scales(v, k, n, g, norms, scale);
  return NULL;
}

/*
 * weightNormBackward(memory, dy, t, tMean, norms, scale, g, m, n, dt, dg, coefficient), tMean 0
 * for none: dg[j] = Σ_i dy·(t − μ) (from +0, one fused multiply-add a row), Σ dy into
 * coefficient (from +0, one add a row), coefficient ← Σdy/m (+0 without the mean);
 * dt = scale·(dy − coefficient); then dg ← dg/norms and coefficient ← (g·dg)/(norms·norms).
 */
static napi_value weight_norm_backward(napi_env env, napi_callback_info info) {
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
  const float* mean = optional_region(&call, meanAt, n, 4);
  const float* norms = region(&call, normsAt, n, 4);
  const float* scale = region(&call, scaleAt, n, 4);
  const float* g = region(&call, gAt, n, 4);
  float* dt = region(&call, dtAt, size, 4);
  float* dg = region(&call, dgAt, n, 4);
  float* coefficient = region(&call, coefficientAt, n, 4);
  if (call.failed) return NULL;
  kernels->backward(dy, t, mean, norms, scale, g, m, n, dt, dg, coefficient);
  return NULL;
}

/*
 * addScaledColumns(memory, v, coefficient, factor, out, k, n): out[i,j] += (factor·coefficient[j])·v[i,j]
 * over v[k,n] (out may be v), one fused multiply-add each: four rows a pass with factor·coefficient
 * formed once for them, then single rows, as the wasm kernel walks them.
 */
static napi_value add_scaled_columns(napi_env env, napi_callback_info info) {
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
  kernels->add_scaled_columns(v, coefficient, factor, out, k, n);
  return NULL;
}

/* scaleShiftColumns(memory, x, scale, shift, y, m, n): y[i,j] = x[i,j]·scale[j] + shift[j], a multiply then an add (not fused). */
static napi_value scale_shift_columns(napi_env env, napi_callback_info info) {
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
  kernels->scale_shift_columns(x, scale, shift, y, m, n);
  return NULL;
}

void register_weight_norm(napi_env env, napi_value exports, const weight_norm_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "weightNormScale", weight_norm_scale);
  export_function(env, exports, "weightNormBackward", weight_norm_backward);
  export_function(env, exports, "addScaledColumns", add_scaled_columns);
  export_function(env, exports, "scaleShiftColumns", scale_shift_columns);
}
