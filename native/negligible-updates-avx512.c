/*
 * negligible-updates.c's kernels in 512-bit AVX-512 vectors (negligible-updates-avx2.c has the same
 * in 256-bit ones): the column sums and maxima the test reads, the test itself, and the gathering
 * of the kept block and its scattering back. The same floats, lists and counts as the wasm
 * kernels: the test is the same multiplies and comparisons on each element, the sums the same adds
 * in the same order, and the moves move bits. Each 16 columns of a row are one mask, so a row's
 * kept columns are gathered with a compress and scattered back with an expand instead of one
 * float at a time.
 */
#include <math.h>

#include "negligible-updates.h"

/* to[q] = from[columns q names], for one row: the kept lanes of each chunk compressed to the front and stored. */
AVX512 static void gather_row(const float* from, uint32_t cols, const uint16_t* masks, float* to) {
  uint32_t at = 0;
  for (uint32_t c = 0, j = 0; j < cols; c++, j += 16) {
    const __mmask16 kept = masks[c];
    if (!kept) continue;
    const __m512 v = _mm512_maskz_loadu_ps(first_lanes(cols - j), from + j);
    const uint32_t taken = (uint32_t)__builtin_popcount(kept);
    _mm512_mask_storeu_ps(to + at, first_lanes(taken), _mm512_maskz_compress_ps(kept, v));
    at += taken;
  }
}

/* to[columns q names] = from[q], for one row: gather_row undone with expands and masked stores. */
AVX512 static void scatter_row(const float* from, uint32_t cols, const uint16_t* masks, float* to) {
  uint32_t at = 0;
  for (uint32_t c = 0, j = 0; j < cols; c++, j += 16) {
    const __mmask16 kept = masks[c];
    if (!kept) continue;
    const uint32_t taken = (uint32_t)__builtin_popcount(kept);
    const __m512 v = _mm512_maskz_loadu_ps(first_lanes(taken), from + at);
    _mm512_mask_storeu_ps(to + j, kept, _mm512_maskz_expand_ps(kept, v));
    at += taken;
  }
}

/* The fast path of negligible-updates.c's moves: gather_row for each row. */
AVX512 static void gather_rows(const float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, float* packed) {
  for (uint32_t p = 0; p < rows; p++) gather_row(wide + (size_t)(rowList ? rowList[p] : p) * cols, cols, masks, packed + (size_t)p * count);
}

/* ... and scatter_row for each row. */
AVX512 static void scatter_rows(float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, const float* packed) {
  for (uint32_t p = 0; p < rows; p++) scatter_row(packed + (size_t)p * count, cols, masks, wide + (size_t)(rowList ? rowList[p] : p) * cols);
}

/* columnSums: sixteen columns at a time, each summed down the rows in order. */
AVX512 static void column_sums(const float* a, uint32_t m, uint32_t k, float* sums) {
  for (uint32_t i = 0; i < k; i += 16) {
    const __mmask16 inside = first_lanes(k - i);
    __m512 sum = _mm512_setzero_ps();
    for (uint32_t t = 0; t < m; t++) sum = add_in_order(sum, _mm512_abs_ps(_mm512_maskz_loadu_ps(inside, a + (size_t)t * k + i)));
    _mm512_mask_storeu_ps(sums + i, inside, sum);
  }
}

/* columnMaxima: sixteen columns at a time; a NaN stays, as the quiet NaN the wasm max gives. */
AVX512 static void column_maxima(const float* b, uint32_t m, uint32_t n, float* maxima) {
  for (uint32_t j = 0; j < n; j += 16) {
    const __mmask16 inside = first_lanes(n - j);
    __m512 largest = _mm512_setzero_ps();
    __mmask16 nan = 0;
    for (uint32_t t = 0; t < m; t++) {
      const __m512 v = _mm512_abs_ps(_mm512_maskz_loadu_ps(inside, b + (size_t)t * n + j));
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      largest = _mm512_max_ps(largest, v);
    }
    _mm512_mask_storeu_ps(maxima + j, inside, _mm512_mask_blend_ps(nan, largest, _mm512_set1_ps(NAN)));
  }
}

/*
 * The test on sixteen elements c[i, j..] of a row: x·maxima[j] < |old|·factor, with 2^−60 ≤ |old| < ∞
 * (x = sums[i]). Whole vectors, then the last one masked: masked in every iteration, such loops ran
 * about half as fast here.
 */
AVX512 static inline __mmask16 negligible(__m512 x, __m512 row, __m512 maxima, __m512 factor) {
  const __m512 old = _mm512_abs_ps(row);
  return _mm512_cmp_ps_mask(_mm512_mul_ps(x, maxima), _mm512_mul_ps(old, factor), _CMP_LT_OQ) &
         _mm512_cmp_ps_mask(old, _mm512_set1_ps(8.673617379884035e-19f), _CMP_GE_OQ) & _mm512_cmp_ps_mask(old, _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
}

/* keptUpdates' test, sixteen columns of a row at a time. */
AVX512 static uint32_t kept_rows(const float* sums, const float* maxima, const float* c, uint32_t k, uint32_t n, float factorOfOld, uint16_t* flags,
                                 uint32_t* keptRows) {
  const __m512 factor = _mm512_set1_ps(factorOfOld);
  uint32_t rowCount = 0;
  for (uint32_t i = 0; i < k; i++) {
    const __m512 x = _mm512_set1_ps(sums[i]);
    const float* row = c + (size_t)i * n;
    __mmask16 rowKept = 0;
    uint32_t j = 0, chunk = 0;
    for (; j + 16 <= n; j += 16, chunk++) {
      const __mmask16 kept = (__mmask16)~negligible(x, _mm512_loadu_ps(row + j), _mm512_loadu_ps(maxima + j), factor);
      flags[chunk] |= kept;
      rowKept |= kept;
    }
    if (j < n) {
      const __mmask16 inside = first_lanes(n - j);
      const __mmask16 kept = inside & (__mmask16)~negligible(x, _mm512_maskz_loadu_ps(inside, row + j), _mm512_maskz_loadu_ps(inside, maxima + j), factor);
      flags[chunk] |= kept;
      rowKept |= kept;
    }
    if (rowKept) keptRows[rowCount++] = i;
  }
  return rowCount;
}

const negligible_update_kernels_t avx512_negligible_updates = {column_sums, column_maxima, kept_rows, gather_rows, scatter_rows};
