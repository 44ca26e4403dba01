/*
 * A saturated network's weight updates that may count, found and moved in vectors
 * (assembly/negligible-updates.ts says why the test is safe): the column sums and maxima the test
 * reads, the test itself, and the gathering of the kept block and its scattering back. The same
 * floats, lists and counts as the wasm kernels: the test is the same multiplies and comparisons on
 * each element, the sums the same adds in the same order, and the moves move bits. Here each call's
 * arguments are read and checked, its lists read and its masks kept; the kernels of the CPU's
 * instruction set (negligible-updates-avx512.c or negligible-updates-avx2.c) compute.
 *
 * A kept list names columns in increasing order, so each 16 columns of a row are one mask, and a
 * row's kept columns are gathered and scattered back a vector at a time instead of one float at a
 * time. Any other list (repeats, out of order) is moved one float at a time, in the wasm kernel's
 * order; a list that names a column past the row is a bad call (a RangeError, nothing written).
 */
#include <math.h>
#include <stdlib.h>

#include "negligible-updates.h"

/* The kernels in use (register_negligible_updates). */
static const negligible_update_kernels_t* kernels;

/* The largest |scale| and depth the test holds for (negligible-updates.ts' LIMIT). */
#define LIMIT 1048576.0f
/* Rows this many 16-column chunks wide keep their masks on the stack (1,024 columns); wider ones allocate them. */
#define STACK_CHUNKS 64

/* A row's chunks' masks: on the stack when few, else allocated. */
typedef struct {
  uint16_t stack[STACK_CHUNKS];
  uint16_t* masks;
} chunk_masks_t;

/* `chunks` zeroed masks; NULL (and a throw) if they cannot be allocated. */
static uint16_t* chunk_masks(call_t* call, chunk_masks_t* holder, uint32_t chunks) {
  holder->masks = chunks <= STACK_CHUNKS ? holder->stack : calloc(chunks, sizeof(uint16_t));
  if (!holder->masks) return fail(call, "out of memory for the column masks"), NULL;
  if (holder->masks == holder->stack) {
    for (uint32_t c = 0; c < chunks; c++) holder->stack[c] = 0;
  }
  return holder->masks;
}

static void free_chunk_masks(chunk_masks_t* holder) {
  if (holder->masks != holder->stack) free(holder->masks);
}

static uint32_t chunks_of(uint32_t cols) {
  return (cols + 15) / 16;
}

/*
 * Reads `list` (count column indices of a row `cols` wide): 0 with a RangeError when one lies past
 * the row; else 1, with `masks` (chunks_of(cols), zeroed) set to its columns when they increase
 * strictly (`*increasing` 1), or left as they were (0: the list is moved one float at a time).
 */
static int read_list(call_t* call, const uint32_t* list, uint32_t count, uint32_t cols, uint16_t* masks, int* increasing) {
  *increasing = 1;
  for (uint32_t q = 0; q < count; q++) {
    if (list[q] >= cols) return fail(call, "a list names a column past the row"), 0;
    if (q > 0 && list[q] <= list[q - 1]) *increasing = 0;
  }
  if (*increasing) {
    for (uint32_t q = 0; q < count; q++) masks[list[q] / 16] |= (uint16_t)(1u << (list[q] % 16));
  }
  return 1;
}

/* Whether [a, a + aBytes) and [b, b + bBytes) share a byte (the fast moves read before they write; overlapping regions go one float at a time). */
static int overlap(const void* a, double aBytes, const void* b, double bBytes) {
  const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return (double)x < (double)y + bBytes && (double)y < (double)x + aBytes;
}

/*
 * The moves of a kept block between `wide` (rows `cols` floats wide: row rowList[p], or p without a
 * list) and `packed` (rows of `count`: row p): GATHER copies the listed columns of each wide row into
 * its packed row, SCATTER copies them back. Increasing lists go a chunk at a time where the two
 * regions do not overlap (`wideBytes` from wide); others one float at a time, in the wasm kernel's
 * order.
 */
typedef enum { GATHER, SCATTER } direction_t;

static void move_block(call_t* call, direction_t direction, float* wide, double wideBytes, uint32_t cols, const uint32_t* rowList, uint32_t rows,
                       const uint32_t* list, uint32_t count, float* packed) {
  chunk_masks_t holder;
  uint16_t* masks = chunk_masks(call, &holder, chunks_of(cols));
  int increasing = 0;
  if (masks && read_list(call, list, count, cols, masks, &increasing)) {
    if (increasing && !overlap(wide, wideBytes, packed, (double)rows * count * 4)) {
      if (direction == GATHER) kernels->gather_rows(wide, cols, rowList, rows, masks, count, packed);
      else kernels->scatter_rows(wide, cols, rowList, rows, masks, count, packed);
    } else {
      for (uint32_t p = 0; p < rows; p++) {
        float* wideRow = wide + (size_t)(rowList ? rowList[p] : p) * cols;
        float* packedRow = packed + (size_t)p * count;
        if (direction == GATHER)
          for (uint32_t q = 0; q < count; q++) packedRow[q] = wideRow[list[q]];
        else
          for (uint32_t q = 0; q < count; q++) wideRow[list[q]] = packedRow[q];
      }
    }
  }
  free_chunk_masks(&holder);
}

/* gatherColumns(memory, src, rows, cols, list, count, out): out[r, q] = src[r, list[q]]. */
static napi_value gather_columns(napi_env env, napi_callback_info info) {
  napi_value args[7];
  call_t call;
  if (!start_call(&call, env, info, args, 7, "gatherColumns")) return NULL;
  const uint32_t rows = arg_u32(&call, 2), cols = arg_u32(&call, 3), count = arg_u32(&call, 5);
  float* src = region(&call, arg_u32(&call, 1), (double)rows * cols, 4);
  const uint32_t* list = region(&call, arg_u32(&call, 4), count, 4);
  float* out = region(&call, arg_u32(&call, 6), (double)rows * count, 4);
  if (out) move_block(&call, GATHER, src, (double)rows * cols * 4, cols, NULL, rows, list, count, out);
  return NULL;
}

/* scatterColumns(memory, block, rows, count, dst, cols, list): dst[r, list[q]] = block[r, q]. */
static napi_value scatter_columns(napi_env env, napi_callback_info info) {
  napi_value args[7];
  call_t call;
  if (!start_call(&call, env, info, args, 7, "scatterColumns")) return NULL;
  const uint32_t rows = arg_u32(&call, 2), count = arg_u32(&call, 3), cols = arg_u32(&call, 5);
  float* block = region(&call, arg_u32(&call, 1), (double)rows * count, 4);
  float* dst = region(&call, arg_u32(&call, 4), (double)rows * cols, 4);
  const uint32_t* list = region(&call, arg_u32(&call, 6), count, 4);
  if (list) move_block(&call, SCATTER, dst, (double)rows * cols * 4, cols, NULL, rows, list, count, block);
  return NULL;
}

/*
 * The rows of c (`cols` floats wide, at byte offset cOffset) up to the highest rowList names,
 * checked inside memory, and their span in bytes; NULL with a RangeError when one lies outside.
 */
static float* listed_rows(call_t* call, uint32_t cOffset, uint32_t cols, const uint32_t* rowList, uint32_t rowCount, double* spanBytes) {
  uint32_t highest = 0;
  for (uint32_t p = 0; p < rowCount; p++) highest = rowList[p] > highest ? rowList[p] : highest;
  *spanBytes = ((double)highest + 1) * cols * 4;
  return region(call, cOffset, rowCount > 0 ? ((double)highest + 1) * cols : 0, 4);
}

/* gatherBlock(memory, c, cols, rowList, rowCount, colList, colCount, out): out[p, q] = c[rowList[p], colList[q]]. */
static napi_value gather_block(napi_env env, napi_callback_info info) {
  napi_value args[8];
  call_t call;
  if (!start_call(&call, env, info, args, 8, "gatherBlock")) return NULL;
  const uint32_t cols = arg_u32(&call, 2), rowCount = arg_u32(&call, 4), colCount = arg_u32(&call, 6);
  const uint32_t* rowList = region(&call, arg_u32(&call, 3), rowCount, 4);
  const uint32_t* colList = region(&call, arg_u32(&call, 5), colCount, 4);
  float* out = region(&call, arg_u32(&call, 7), (double)rowCount * colCount, 4);
  if (!out) return NULL;
  double span = 0;
  float* c = listed_rows(&call, arg_u32(&call, 1), cols, rowList, rowCount, &span);
  if (c) move_block(&call, GATHER, c, span, cols, rowList, rowCount, colList, colCount, out);
  return NULL;
}

/* scatterBlock(memory, block, c, cols, rowList, rowCount, colList, colCount): c[rowList[p], colList[q]] = block[p, q]. */
static napi_value scatter_block(napi_env env, napi_callback_info info) {
  napi_value args[8];
  call_t call;
  if (!start_call(&call, env, info, args, 8, "scatterBlock")) return NULL;
  const uint32_t cols = arg_u32(&call, 3), rowCount = arg_u32(&call, 5), colCount = arg_u32(&call, 7);
  const uint32_t* rowList = region(&call, arg_u32(&call, 4), rowCount, 4);
  const uint32_t* colList = region(&call, arg_u32(&call, 6), colCount, 4);
  float* block = region(&call, arg_u32(&call, 1), (double)rowCount * colCount, 4);
  if (!block) return NULL;
  double span = 0;
  float* c = listed_rows(&call, arg_u32(&call, 2), cols, rowList, rowCount, &span);
  if (c) move_block(&call, SCATTER, c, span, cols, rowList, rowCount, colList, colCount, block);
  return NULL;
}

/* columnSums(memory, a, m, k, sums): sums[i] = Σ_t |a[t, i]|, added in t order. */
static napi_value column_sums(napi_env env, napi_callback_info info) {
  napi_value args[5];
  call_t call;
  if (!start_call(&call, env, info, args, 5, "columnSums")) return NULL;
  const uint32_t m = arg_u32(&call, 2), k = arg_u32(&call, 3);
  const float* a = region(&call, arg_u32(&call, 1), (double)m * k, 4);
  float* sums = region(&call, arg_u32(&call, 4), k, 4);
  if (!sums) return NULL;
  kernels->column_sums(a, m, k, sums);
  return NULL;
}

/* sparseColumnSums(memory, indices, values, entries, k, sums): columnSums of k columns given as their nonzeros, in entry order. */
static napi_value sparse_column_sums(napi_env env, napi_callback_info info) {
  napi_value args[6];
  call_t call;
  if (!start_call(&call, env, info, args, 6, "sparseColumnSums")) return NULL;
  const uint32_t entries = arg_u32(&call, 3), k = arg_u32(&call, 4);
  const uint32_t* indices = region(&call, arg_u32(&call, 1), entries, 4);
  const float* values = region(&call, arg_u32(&call, 2), entries, 4);
  float* sums = region(&call, arg_u32(&call, 5), k, 4);
  if (!sums) return NULL;
  for (uint32_t e = 0; e < entries; e++) {
    if (indices[e] >= k) return fail(&call, "an entry's column lies past k"), NULL;
  }
  for (uint32_t i = 0; i < k; i++) sums[i] = 0;
  for (uint32_t e = 0; e < entries; e++) sums[indices[e]] = sums[indices[e]] + fabsf(values[e]);
  return NULL;
}

/* columnMaxima(memory, b, m, n, maxima): maxima[j] = max_t |b[t, j]|; a NaN stays, as the quiet NaN the wasm max gives. */
static napi_value column_maxima(napi_env env, napi_callback_info info) {
  napi_value args[5];
  call_t call;
  if (!start_call(&call, env, info, args, 5, "columnMaxima")) return NULL;
  const uint32_t m = arg_u32(&call, 2), n = arg_u32(&call, 3);
  const float* b = region(&call, arg_u32(&call, 1), (double)m * n, 4);
  float* maxima = region(&call, arg_u32(&call, 4), n, 4);
  if (!maxima) return NULL;
  kernels->column_maxima(b, m, n, maxima);
  return NULL;
}

/*
 * keptUpdates(memory, sums, maxima, c, m, k, n, scale, unscaleA, unscaleB, keptRows, keptCols, counts):
 * the rows and columns of c[k, n] += scale·(aᵀ·b) whose update may count (negligible-updates.ts'
 * keptUpdates: the same test on each element, the same lists and counts).
 */
static napi_value kept_updates(napi_env env, napi_callback_info info) {
  napi_value args[13];
  call_t call;
  if (!start_call(&call, env, info, args, 13, "keptUpdates")) return NULL;
  const uint32_t m = arg_u32(&call, 4), k = arg_u32(&call, 5), n = arg_u32(&call, 6);
  const float scale = arg_f32(&call, 7), unscaleA = arg_f32(&call, 8), unscaleB = arg_f32(&call, 9);
  const float* sums = region(&call, arg_u32(&call, 1), k, 4);
  const float* maxima = region(&call, arg_u32(&call, 2), n, 4);
  const float* c = region(&call, arg_u32(&call, 3), (double)k * n, 4);
  uint32_t* keptRows = region(&call, arg_u32(&call, 10), k, 4);
  uint32_t* keptCols = region(&call, arg_u32(&call, 11), n, 4);
  uint32_t* counts = region(&call, arg_u32(&call, 12), 2, 4);
  if (!counts) return NULL;
  if (!(fabsf(scale) <= LIMIT) || (float)m > LIMIT) {
    for (uint32_t i = 0; i < k; i++) keptRows[i] = i;
    for (uint32_t j = 0; j < n; j++) keptCols[j] = j;
    counts[0] = k;
    counts[1] = n;
    return NULL;
  }
  chunk_masks_t holder;
  chunk_masks_t testedHolder;
  uint16_t* flags = chunk_masks(&call, &holder, chunks_of(n));
  uint16_t* tested = flags ? chunk_masks(&call, &testedHolder, chunks_of(n)) : NULL;
  if (!tested) return free_chunk_masks(&holder), NULL;
  /* 2^−27/|scale|, times 2^E for the scaled factors (one rounding, as in the wasm kernel) */
  const float factorOfOld = (float)(1.0 / (134217728.0 * (double)fabsf(scale) * (double)unscaleA * (double)unscaleB));
  const uint32_t rowCount = kernels->kept_rows(sums, maxima, c, k, n, factorOfOld, flags, keptRows);
  /* whole tiles of 4 columns: the first columns not kept join until the count is a multiple of 4 (or n) */
  uint32_t flagged = 0;
  for (uint32_t chunk = 0; chunk < chunks_of(n); chunk++) {
    flagged += (uint32_t)__builtin_popcount(flags[chunk]);
    tested[chunk] = flags[chunk];
  }
  for (uint32_t j = 0; (flagged & 3) != 0 && j < n; j++) {
    if (!(flags[j / 16] & (1u << (j % 16)))) {
      flags[j / 16] |= (uint16_t)(1u << (j % 16));
      flagged++;
    }
  }
  uint32_t colCount = 0;
  for (uint32_t j = 0; j < n; j++) {
    if (flags[j / 16] & (1u << (j % 16))) keptCols[colCount++] = j;
  }
  /* past the list, what the wasm kernel leaves there: its flags (all ones for a column the test kept, 1 for one joined to fill a tile) */
  for (uint32_t j = colCount; j < n; j++) keptCols[j] = (tested[j / 16] & (1u << (j % 16))) ? 0xffffffffu : (flags[j / 16] & (1u << (j % 16))) ? 1 : 0;
  counts[0] = rowCount;
  counts[1] = colCount;
  free_chunk_masks(&holder);
  free_chunk_masks(&testedHolder);
  return NULL;
}

void register_negligible_updates(napi_env env, napi_value exports, const negligible_update_kernels_t* chosen) {
  kernels = chosen;
  export_function(env, exports, "keptUpdates", kept_updates);
  export_function(env, exports, "columnSums", column_sums);
  export_function(env, exports, "sparseColumnSums", sparse_column_sums);
  export_function(env, exports, "columnMaxima", column_maxima);
  export_function(env, exports, "gatherColumns", gather_columns);
  export_function(env, exports, "gatherBlock", gather_block);
  export_function(env, exports, "scatterBlock", scatter_block);
  export_function(env, exports, "scatterColumns", scatter_columns);
}
