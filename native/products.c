/*
 * bnlab's native products (Node only): the sparse matrix products of the wasm kernels
 * (assembly/sparse-matmul.ts, assembly/sparse-rows.ts) in 512-bit AVX-512 vectors, on the wasm
 * module's own memory, with the same bits. Every output element is the same sequence of
 * operations as in the relaxed-SIMD build on FMA hardware: its nonzero terms in the same order,
 * each added with one fused multiply-add (or, for the first term of a `sumScaledRows`, a plain
 * product), then the same store (as it is, or out + scale·sum with a separate multiply and add).
 * Wider vectors change how many elements one instruction serves, never an element's arithmetic,
 * so the build must not contract a multiply and an add on its own (-ffp-contract=off).
 *
 * Offsets and sizes are bytes and counts in the wasm memory passed as an ArrayBuffer; every region
 * is checked against its length before it is read, and every entry's row against its factor, so a
 * wrong call throws a RangeError instead of reading outside the memory.
 */
#include <node_api.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f")))

/* How an output row's sums start and end, as the wasm kernel the call stands for does. */
enum sum_mode {
  FIRST_PRODUCT = 0, /* sumScaledRows: out = v0·b[row0], then out = fma(v, b[row], out) */
  FROM_ZERO = 1,     /* addScaledRowsInRegisters, overwrite: sum from +0, out = sum */
  FROM_ZERO_ADDED = 2 /* addScaledRowsInRegisters: sum from +0, out = out + scale·sum */
};

/*
 * out[0, n) for `count` entries (row, value): the rows are b + row·stride floats; n a multiple of
 * 16. Eight vectors (128 columns) are summed in registers over all entries, then single vectors.
 */
AVX512 static void sum_scaled_rows(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values,
                                   uint32_t count, enum sum_mode mode, float scale) {
  const __m512 factor = _mm512_set1_ps(scale);
  uint32_t j = 0;
  for (; j + 128 <= n; j += 128) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      const __m512 v = _mm512_set1_ps(values[0]);
      const float* r = b + rows[0] * stride + j;
      c0 = _mm512_mul_ps(v, _mm512_loadu_ps(r));
      c1 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 16));
      c2 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 32));
      c3 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 48));
      c4 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 64));
      c5 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 80));
      c6 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 96));
      c7 = _mm512_mul_ps(v, _mm512_loadu_ps(r + 112));
      t = 1;
    }
    for (; t < count; t++) {
      const __m512 v = _mm512_set1_ps(values[t]);
      const float* r = b + rows[t] * stride + j;
      c0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r), c0);
      c1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 16), c1);
      c2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 32), c2);
      c3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 48), c3);
      c4 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 64), c4);
      c5 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 80), c5);
      c6 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 96), c6);
      c7 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 112), c7);
    }
    float* o = out + j;
    if (mode == FROM_ZERO_ADDED) {
      c0 = _mm512_add_ps(_mm512_loadu_ps(o), _mm512_mul_ps(factor, c0));
      c1 = _mm512_add_ps(_mm512_loadu_ps(o + 16), _mm512_mul_ps(factor, c1));
      c2 = _mm512_add_ps(_mm512_loadu_ps(o + 32), _mm512_mul_ps(factor, c2));
      c3 = _mm512_add_ps(_mm512_loadu_ps(o + 48), _mm512_mul_ps(factor, c3));
      c4 = _mm512_add_ps(_mm512_loadu_ps(o + 64), _mm512_mul_ps(factor, c4));
      c5 = _mm512_add_ps(_mm512_loadu_ps(o + 80), _mm512_mul_ps(factor, c5));
      c6 = _mm512_add_ps(_mm512_loadu_ps(o + 96), _mm512_mul_ps(factor, c6));
      c7 = _mm512_add_ps(_mm512_loadu_ps(o + 112), _mm512_mul_ps(factor, c7));
    }
    _mm512_storeu_ps(o, c0);
    _mm512_storeu_ps(o + 16, c1);
    _mm512_storeu_ps(o + 32, c2);
    _mm512_storeu_ps(o + 48, c3);
    _mm512_storeu_ps(o + 64, c4);
    _mm512_storeu_ps(o + 80, c5);
    _mm512_storeu_ps(o + 96, c6);
    _mm512_storeu_ps(o + 112, c7);
  }
  for (; j < n; j += 16) {
    __m512 c = _mm512_setzero_ps();
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      c = _mm512_mul_ps(_mm512_set1_ps(values[0]), _mm512_loadu_ps(b + rows[0] * stride + j));
      t = 1;
    }
    for (; t < count; t++) c = _mm512_fmadd_ps(_mm512_set1_ps(values[t]), _mm512_loadu_ps(b + rows[t] * stride + j), c);
    if (mode == FROM_ZERO_ADDED) c = _mm512_add_ps(_mm512_loadu_ps(out + j), _mm512_mul_ps(factor, c));
    _mm512_storeu_ps(out + j, c);
  }
}

/* The nonzeros (NaN counts) of `count` floats `step` apart, as (index, value) in index order; returns how many. */
static uint32_t pack_nonzeros(const float* a, uint32_t count, size_t step, uint32_t* rows, float* values) {
  uint32_t e = 0;
  for (uint32_t p = 0; p < count; p++) {
    const float v = a[p * step];
    if (v != 0) {
      rows[e] = p;
      values[e] = v;
      e++;
    }
  }
  return e;
}

/* ---- arguments and bounds ---- */

typedef struct {
  napi_env env;
  napi_value* args;
  size_t count;
  uint8_t* memory;
  size_t length;
  const char* kernel;
  int failed;
} call_t;

static void fail(call_t* call, const char* what) {
  if (call->failed) return;
  call->failed = 1;
  char message[200];
  snprintf(message, sizeof message, "%s (native): %s", call->kernel, what);
  napi_throw_range_error(call->env, NULL, message);
}

static int start_call(call_t* call, napi_env env, napi_callback_info info, napi_value* args, size_t expected, const char* kernel) {
  call->env = env;
  call->args = args;
  call->count = expected;
  call->kernel = kernel;
  call->failed = 0;
  size_t given = expected;
  napi_get_cb_info(env, info, &given, args, NULL, NULL);
  void* data = NULL;
  bool isBuffer = false;
  if (given != expected) return fail(call, "wrong number of arguments"), 0;
  if (napi_is_arraybuffer(env, args[0], &isBuffer) != napi_ok || !isBuffer) return fail(call, "the first argument must be the wasm memory's ArrayBuffer"), 0;
  napi_get_arraybuffer_info(env, args[0], &data, &call->length);
  call->memory = (uint8_t*)data;
  return 1;
}

static uint32_t arg_u32(call_t* call, size_t i) {
  double x = -1;
  napi_get_value_double(call->env, call->args[i], &x);
  if (!(x >= 0 && x <= 4294967295.0 && x == (double)(uint32_t)x)) fail(call, "an offset or size is not a u32");
  return (uint32_t)x;
}

static float arg_f32(call_t* call, size_t i) {
  double x = 0;
  napi_get_value_double(call->env, call->args[i], &x);
  return (float)x;
}

/* A region of `count` elements of `size` bytes at `offset`, 4-byte aligned and inside memory; NULL (and a throw) if not. */
static void* region(call_t* call, uint32_t offset, double count, size_t size) {
  if (call->failed) return NULL;
  if ((offset & 3) != 0 || (double)offset + count * (double)size > (double)call->length) {
    fail(call, "a region lies outside the wasm memory or is misaligned");
    return NULL;
  }
  return call->memory + offset;
}

/* Every entry's row below `rows`. */
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

static int columns_ok(call_t* call, uint32_t n) {
  if (n % 16 != 0) return fail(call, "the columns must be a multiple of 16"), 0;
  return 1;
}

/* ---- the products ---- */

/* matmulSparseRows(memory, rowStart, indices, values, m, k, b, out, n, fromZero): out[m,n] = a·b[k,n], a as its rows' nonzeros. */
AVX512 static napi_value matmul_sparse_rows(napi_env env, napi_callback_info info) {
  napi_value args[10];
  call_t call;
  if (!start_call(&call, env, info, args, 10, "matmulSparseRows")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 8);
  const enum sum_mode mode = arg_u32(&call, 9) ? FROM_ZERO : FIRST_PRODUCT;
  const uint32_t *rowStart, *indices;
  uint32_t entries;
  const float* values;
  if (!columns_ok(&call, n) || !sparse_rows(&call, arg_u32(&call, 1), arg_u32(&call, 2), arg_u32(&call, 3), m, k, &rowStart, &indices, &values, &entries)) return NULL;
  const float* b = region(&call, arg_u32(&call, 6), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 7), (double)m * n, 4);
  if (!b || !out) return NULL;
  for (uint32_t i = 0; i < m; i++) {
    const uint32_t start = rowStart[i];
    sum_scaled_rows(out + (size_t)i * n, b, n, n, indices + start, values + start, rowStart[i + 1] - start, mode, 1);
  }
  return NULL;
}

/*
 * matmulTransposeASparseRowsAdd(memory, rowStart, indices, values, m, k, b, out, n, scale, scratch):
 * out[k,n] += scale·aᵀ·b[m,n], a as its rows' nonzeros. A counting sort makes its columns (examples
 * in order within each), as the wasm kernel's does; scratch holds (k + 4 + 2·entries) u32.
 */
AVX512 static napi_value matmul_transpose_a_sparse_rows_add(napi_env env, napi_callback_info info) {
  napi_value args[11];
  call_t call;
  if (!start_call(&call, env, info, args, 11, "matmulTransposeASparseRowsAdd")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 8);
  const float scale = arg_f32(&call, 9);
  const uint32_t *rowStart, *indices;
  uint32_t entries;
  const float* values;
  if (!columns_ok(&call, n) || !sparse_rows(&call, arg_u32(&call, 1), arg_u32(&call, 2), arg_u32(&call, 3), m, k, &rowStart, &indices, &values, &entries)) return NULL;
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
    if (end != start) sum_scaled_rows(out + (size_t)p * n, b, n, n, columnRows + start, columnValues + start, end - start, FROM_ZERO_ADDED, scale);
    start = end;
  }
  return NULL;
}

/* matmulSparse(memory, a, b, out, m, k, n, fromZero, scratch): out[m,n] = a[m,k]·b[k,n], skipping a's zeros; scratch holds 2·k u32. */
AVX512 static napi_value matmul_sparse(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulSparse")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  const enum sum_mode mode = arg_u32(&call, 7) ? FROM_ZERO : FIRST_PRODUCT;
  if (!columns_ok(&call, n)) return NULL;
  const float* a = region(&call, arg_u32(&call, 1), (double)m * k, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)k * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)m * n, 4);
  uint32_t* rows = region(&call, arg_u32(&call, 8), 2.0 * k, 4);
  if (!a || !b || !out || !rows) return NULL;
  float* packed = (float*)(rows + k);
  for (uint32_t i = 0; i < m; i++) {
    const uint32_t count = pack_nonzeros(a + (size_t)i * k, k, 1, rows, packed);
    sum_scaled_rows(out + (size_t)i * n, b, n, n, rows, packed, count, mode, 1);
  }
  return NULL;
}

/* matmulTransposeASparseAdd(memory, a, b, out, m, k, n, scale, scratch): out[k,n] += scale·a[m,k]ᵀ·b[m,n], skipping a's zeros; scratch holds 2·m u32. */
AVX512 static napi_value matmul_transpose_a_sparse_add(napi_env env, napi_callback_info info) {
  napi_value args[9];
  call_t call;
  if (!start_call(&call, env, info, args, 9, "matmulTransposeASparseAdd")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  const float scale = arg_f32(&call, 7);
  if (!columns_ok(&call, n)) return NULL;
  const float* a = region(&call, arg_u32(&call, 1), (double)m * k, 4);
  const float* b = region(&call, arg_u32(&call, 2), (double)m * n, 4);
  float* out = region(&call, arg_u32(&call, 3), (double)k * n, 4);
  uint32_t* rows = region(&call, arg_u32(&call, 8), 2.0 * m, 4);
  if (!a || !b || !out || !rows) return NULL;
  float* packed = (float*)(rows + m);
  for (uint32_t p = 0; p < k; p++) {
    const uint32_t count = pack_nonzeros(a + p, m, k, rows, packed);
    if (count != 0) sum_scaled_rows(out + (size_t)p * n, b, n, n, rows, packed, count, FROM_ZERO_ADDED, scale);
  }
  return NULL;
}

static void export_function(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

/* `vectors` names what this CPU runs ("avx512f"), or is null: then the products must not be called (they would fault). */
NAPI_MODULE_INIT() {
  napi_value vectors;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    napi_create_string_utf8(env, "avx512f", NAPI_AUTO_LENGTH, &vectors);
    export_function(env, exports, "matmulSparseRows", matmul_sparse_rows);
    export_function(env, exports, "matmulTransposeASparseRowsAdd", matmul_transpose_a_sparse_rows_add);
    export_function(env, exports, "matmulSparse", matmul_sparse);
    export_function(env, exports, "matmulTransposeASparseAdd", matmul_transpose_a_sparse_add);
  } else {
    napi_get_null(env, &vectors);
  }
  napi_set_named_property(env, exports, "vectors", vectors);
  return exports;
}
