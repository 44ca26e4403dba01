/*
 * The native products: the wasm kernels' matrix products (assembly/sparse-matmul.ts,
 * sparse-rows.ts, dense-matmul.ts, dot-matmul.ts) and the batch draw, on the wasm module's own
 * memory, with the same bits. Here each call's arguments are read and checked, and the scalar
 * work done (the counting sort); the vectors are the kernels of the CPU's instruction set
 * (products-avx512.c or products-avx2.c), chosen once when the addon loads.
 */
#include <string.h>

#include "products.h"

/* The kernels in use (register_products). */
static const product_kernels_t* kernels;

/*
 * gatherSparseRows(memory, bytes, rows, count, width, scale, rowStart, indices, values): the rows
 * rows[0..count) (u32 indices) of a dataset of bytes[·, width], packed as their nonzeros with
 * each value f32(byte)·scale, as assembly/sparse-rows.ts' gatherSparseRows packs them. Every row's
 * cache lines are asked for first, so that they are in flight together.
 */
static napi_value gather_sparse_rows(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "gatherSparseRows")) return NULL;
  const uint32_t bytesAt = arg_u32(&call, 1), count = arg_u32(&call, 3), width = arg_u32(&call, 4);
  const float scale = arg_f32(&call, 5);
  const uint32_t* rows = region(&call, arg_u32(&call, 2), count, 4);
  uint32_t* rowStart = region(&call, arg_u32(&call, 6), (double)count + 1, 4);
  uint32_t* indices = region(&call, arg_u32(&call, 7), (double)count * width, 4);
  float* values = region(&call, arg_u32(&call, 8), (double)count * width, 4);
  if (!rows || !rowStart || !indices || !values) return NULL;
  for (uint32_t i = 0; i < count; i++)
    if ((double)bytesAt + ((double)rows[i] + 1) * width > (double)call.length) return fail(&call, "a row lies outside the wasm memory"), NULL;
  const uint8_t* bytes = call.memory + bytesAt;
  for (uint32_t i = 0; i < count && width > 0; i++) {
    const uint8_t* row = bytes + (size_t)rows[i] * width;
    for (uint32_t offset = 0; offset < width; offset += 64) _mm_prefetch((const char*)row + offset, _MM_HINT_T0);
    _mm_prefetch((const char*)row + width - 1, _MM_HINT_T0);
  }
  uint32_t e = 0;
  rowStart[0] = 0;
  for (uint32_t i = 0; i < count; i++) {
    e += kernels->pack_byte_row(bytes + (size_t)rows[i] * width, width, scale, indices + e, values + e, count * width - e);
    rowStart[i + 1] = e;
  }
  return NULL;
}

static int rows_below(call_t* call, const uint32_t* indices, uint32_t entries, uint32_t rows) {
  for (uint32_t e = 0; e < entries; e++)
    if (indices[e] >= rows) return fail(call, "an entry's index is outside its factor"), 0;
  return 1;
}

/* The rows of a SparseRows (rowStart[m + 1], then its entries' indices and values) and their entry count. */
static int sparse_rows(call_t* call, uint32_t rowStartAt, uint32_t indicesAt, uint32_t valuesAt, uint32_t m, uint32_t k, const uint32_t** rowStart,
                       const uint32_t** indices, const float** values, uint32_t* entries) {
  *rowStart = region(call, rowStartAt, (double)m + 1, 4);
  if (!*rowStart) return 0;
  *entries = (*rowStart)[m];
  for (uint32_t i = 0; i < m; i++)
    if ((*rowStart)[i] > (*rowStart)[i + 1]) return fail(call, "the rows' starts are not in order"), 0;
  *indices = region(call, indicesAt, *entries, 4);
  *values = region(call, valuesAt, *entries, 4);
  return *indices && *values && rows_below(call, *indices, *entries, k);
}

/* ---- the products ---- */

/* matmulSparseRows(memory, rowStart, indices, values, m, k, b, out, n, fromZero): out[m,n] = a·b[k,n], a as its rows' nonzeros. */
static napi_value matmul_sparse_rows(napi_env env, napi_callback_info info) {
  napi_value args[10];
  call_t call;
  if (!start_call(&call, env, info, args, 10, "matmulSparseRows")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 8);
  const enum sum_mode mode = arg_u32(&call, 9) ? FROM_ZERO : FIRST_PRODUCT;
  const uint32_t *rowStart, *indices;
  uint32_t entries;
  const float* values;
  if (!sparse_rows(&call, arg_u32(&call, 1), arg_u32(&call, 2), arg_u32(&call, 3), m, k, &rowStart, &indices, &values, &entries)) return NULL;
  const float* b = region(&call, arg_u32(&call, 6), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 7), (double)m * n, 4);
  if (!b || !out) return NULL;
  for (uint32_t i = 0; i < m; i++) {
    const uint32_t start = rowStart[i];
    kernels->sum_scaled_rows(out + (size_t)i * n, b, n, n, indices + start, values + start, rowStart[i + 1] - start, mode, 1);
  }
  return NULL;
}

/*
 * matmulTransposeASparseRowsAdd(memory, rowStart, indices, values, m, k, b, out, n, scale, scratch, unscaleB):
 * out[k,n] += scale·aᵀ·b[m,n], a as its rows' nonzeros. A counting sort makes its columns (examples
 * in order within each), as the wasm kernel's does; scratch holds (k + 4 + 2·entries) u32.
 * unscaleB 1: b as it is, any n; else b given as b·2^E (unscaleB = 2^−E), its sums
 * stepped as rescaled-products.c does, n a multiple of 4.
 */
static napi_value matmul_transpose_a_sparse_rows_add(napi_env env, napi_callback_info info) {
  napi_value args[12];
  call_t call;
  if (!start_call(&call, env, info, args, 12, "matmulTransposeASparseRowsAdd")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 8);
  const float scale = arg_f32(&call, 9), unscaleB = arg_f32(&call, 11);
  const int rescaled = unscaleB != 1;
  const uint32_t *rowStart, *indices;
  uint32_t entries;
  const float* values;
  if (rescaled && (!unscales_ok(&call, 1, unscaleB) || (n % 4 != 0 && (fail(&call, "the columns must be a multiple of 4"), 1)))) return NULL;
  if (!sparse_rows(&call, arg_u32(&call, 1), arg_u32(&call, 2), arg_u32(&call, 3), m, k, &rowStart, &indices, &values, &entries)) return NULL;
  const float* b = region(&call, arg_u32(&call, 6), (double)m * n, 4);
  float* out = region(&call, arg_u32(&call, 7), (double)k * n, 4);
  uint32_t* next = region(&call, arg_u32(&call, 10), (double)k + 4 + 2.0 * entries, 4);
  if (!b || !out || !next) return NULL;
  uint32_t* columnRows = next + k + 4;
  float* columnValues = (float*)(columnRows + entries);
  memset(next, 0, (size_t)k * 4);
  for (uint32_t e = 0; e < entries; e++) next[indices[e]]++;
  uint32_t total = 0;
  for (uint32_t p = 0; p < k; p++) {
    const uint32_t count = next[p];
    next[p] = total;
    total += count;
  }
  for (uint32_t i = 0; i < m; i++) {
    for (uint32_t e = rowStart[i]; e < rowStart[i + 1]; e++) {
      const uint32_t position = next[indices[e]]++;
      columnRows[position] = i;
      columnValues[position] = values[e];
    }
  }
  uint32_t start = 0; /* next[p] is now the end of column p */
  for (uint32_t p = 0; p < k; p++) {
    const uint32_t end = next[p];
    if (end != start) {
      float* o = out + (size_t)p * n;
      if (rescaled) kernels->rescaled->add_scaled_rows(o, b, n, n, columnRows + start, columnValues + start, end - start, scale, unscaleB);
      else kernels->sum_scaled_rows(o, b, n, n, columnRows + start, columnValues + start, end - start, FROM_ZERO_ADDED, scale);
    }
    start = end;
  }
  return NULL;
}

/* matmulSparse(memory, a, b, out, m, k, n, fromZero, scratch): out[m,n] = a[m,k]·b[k,n], skipping a's zeros; scratch holds 2·(k + 16) u32. */
static napi_value matmul_sparse(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulSparse")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  const enum sum_mode mode = arg_u32(&call, 7) ? FROM_ZERO : FIRST_PRODUCT;
  const float* a = region(&call, arg_u32(&call, 1), (double)m * k, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)m * n, 4);
  uint32_t* rows = region(&call, arg_u32(&call, 8), 2.0 * (k + 16), 4);
  if (!a || !b || !out || !rows) return NULL;
  float* packed = (float*)(rows + k + 16);
  for (uint32_t i = 0; i < m; i++) {
    const uint32_t count = kernels->pack_nonzeros(a + (size_t)i * k, k, rows, packed);
    kernels->sum_scaled_rows(out + (size_t)i * n, b, n, n, rows, packed, count, mode, 1);
  }
  return NULL;
}

/* matmulTransposeASparseAdd(memory, a, b, out, m, k, n, scale, scratch): out[k,n] += scale·a[m,k]ᵀ·b[m,n], skipping a's zeros; scratch holds 2·(m + 16) u32. */
static napi_value matmul_transpose_a_sparse_add(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulTransposeASparseAdd")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  const float scale = arg_f32(&call, 7);
  const float* a = region(&call, arg_u32(&call, 1), (double)m * k, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)m * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)k * n, 4);
  uint32_t* rows = region(&call, arg_u32(&call, 8), 2.0 * (m + 16), 4);
  if (!a || !b || !out || !rows) return NULL;
  float* packed = (float*)(rows + m + 16);
  for (uint32_t p = 0; p < k; p++) {
    const uint32_t count = kernels->pack_column_nonzeros(a + p, m, k, rows, packed);
    /* every row, even one with no entry: it gets + scale·(+0), as the dense gemm gives it (−0 + +0 is +0) */
    kernels->sum_scaled_rows(out + (size_t)p * n, b, n, n, rows, packed, count, FROM_ZERO_ADDED, scale);
  }
  return NULL;
}

/*
 * gemm(memory, a, aRowStride, aStep, b, bRowStride, c, cRowStride, rows, cols, depth, accumulate, scale):
 * C[rows,cols] = A·B, or C += scale·(A·B) when `accumulate`, as assembly/dense-matmul.ts' gemm
 * (A(i, t) at a + i·aRowStride + t·aStep bytes, B and C row-major with the given row strides):
 * every element summed from +0 over t in order, one fused multiply-add each, then stored; the last
 * vector masked (cols ≥ 4: below 4 the wasm kernel sums one float at a time, unfused).
 */
int gemm_factors(call_t* call, gemm_factors_t* f) {
  const uint32_t aAt = arg_u32(call, 1), aRowBytes = arg_u32(call, 2), aStepBytes = arg_u32(call, 3);
  const uint32_t bAt = arg_u32(call, 4), bRowBytes = arg_u32(call, 5), cAt = arg_u32(call, 6), cRowBytes = arg_u32(call, 7);
  f->rows = arg_u32(call, 8);
  f->cols = arg_u32(call, 9);
  f->depth = arg_u32(call, 10);
  if (call->failed) return 0;
  if (((aRowBytes | aStepBytes | bRowBytes | cRowBytes) & 3) != 0) return fail(call, "a stride is not a whole number of floats"), 0;
  f->aRow = aRowBytes / 4, f->aStep = aStepBytes / 4, f->bRow = bRowBytes / 4, f->cRow = cRowBytes / 4;
  if (f->rows == 0 || f->cols == 0) {
    f->a = f->b = NULL;
    f->c = NULL;
    return 1;
  }
  /* The furthest element each factor reaches, in floats from its start (depth 0: A and B are not read). */
  const double aLast = f->depth ? ((double)f->rows - 1) * f->aRow + ((double)f->depth - 1) * f->aStep + 1 : 0;
  const double bLast = f->depth ? ((double)f->depth - 1) * f->bRow + f->cols : 0;
  f->a = region(call, aAt, aLast, 4);
  f->b = region(call, bAt, bLast, 4);
  f->c = region(call, cAt, ((double)f->rows - 1) * f->cRow + f->cols, 4);
  return f->a && f->b && f->c;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  napi_value args[13];
  call_t call;
  if (!start_call(&call, env, info, args, 13, "gemm")) return NULL;
  const int accumulate = arg_u32(&call, 11) != 0;
  const float scale = arg_f32(&call, 12);
  gemm_factors_t f;
  if (!gemm_factors(&call, &f)) return NULL;
  if (f.cols < 4 && f.cols != 0) return fail(&call, "the columns must be at least 4"), NULL;
  if (f.rows == 0 || f.cols == 0) return NULL;
  kernels->gemm(&f, accumulate, scale);
  if (accumulate) add_zero_where_overlapped(f.c, f.cRow, f.rows, f.cols);
  return NULL;
}

/*
 * matmulTransposeB(memory, a, b, out, m, n, k, mask, scratch): out[m,k] = a[m,n]·b[k,n]ᵀ (dY·Wᵀ),
 * as assembly/dot-matmul.ts sums each output of its pair tile: four lane sums over the vectors
 * of the rows (lane l over the columns j ≡ l mod 4, in order, one fused multiply-add each), folded
 * as (l0 + l2) + (l1 + l3). Here a 512-bit vector holds four outputs' four lane sums: sixteen rows
 * of b at a time are laid out in scratch (16·n floats) so that rows p..p+3's floats 4c..4c+3 lie
 * side by side, and each step multiplies them by a's four floats repeated. With mask (nonzero
 * offset) the outputs where mask ≤ 0 (or NaN) are +0, as matmulTransposeBMasked leaves them. m even
 * (the wasm kernel sums a lone last row in another order), n a multiple of 4, k of 16.
 */
static napi_value matmul_transpose_b(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulTransposeB")) return NULL;
  const uint32_t m = arg_u32(&call, 4), n = arg_u32(&call, 5), k = arg_u32(&call, 6), maskAt = arg_u32(&call, 7);
  if (m % 2 != 0 || n % 4 != 0 || k % 16 != 0) return fail(&call, "m must be even, n a multiple of 4 and k of 16"), NULL;
  const float* a = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)m * k, 4);
  const float* mask = optional_region(&call, maskAt, (double)m * k, 4);
  float* laid = region(&call, arg_u32(&call, 8), 16.0 * n, 4);
  if (call.failed) return NULL;
  kernels->transpose_b(a, b, out, m, n, k, mask, laid);
  return NULL;
}

void register_products(napi_env env, napi_value exports, const product_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "matmulSparseRows", matmul_sparse_rows);
  export_function(env, exports, "matmulTransposeASparseRowsAdd", matmul_transpose_a_sparse_rows_add);
  export_function(env, exports, "matmulSparse", matmul_sparse);
  export_function(env, exports, "matmulTransposeASparseAdd", matmul_transpose_a_sparse_add);
  export_function(env, exports, "gemm", gemm);
  export_function(env, exports, "gatherSparseRows", gather_sparse_rows);
  export_function(env, exports, "matmulTransposeB", matmul_transpose_b);
}
