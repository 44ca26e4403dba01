/*
 * negligible-updates.c's kernels in 256-bit AVX2 vectors, for CPUs without AVX-512F: the 512-bit
 * kernels' results (negligible-updates-avx512.c), eight columns a vector. The sums are the same adds
 * down the rows in row order, four vectors of columns at a time (four chains of adds the core
 * overlaps, where one would wait on each add); the maxima the same largest magnitudes, taken on
 * their bits; the test the same multiplies and comparisons on each element; and the moves move
 * bits. Where the 512-bit kernels compress and expand under a mask, these permute lanes
 * (native-call.h's orders) and store whole vectors where the memory is theirs to write: masked
 * stores are slow on AMD's cores, so only a region's last vector is stored under a mask, and a
 * moved row's last, partial vector goes one float at a time.
 */
#include <math.h>

#include "negligible-updates.h"

/* |v|: the sign bit cleared, as the wasm kernels' f32x4.abs (and _mm512_abs_ps). */
AVX2 static inline __m256 magnitude(__m256 v) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

/* columnSums: each column summed down the rows in order from +0, as the wasm kernel and the 512-bit one add. */
AVX2 static void column_sums(const float* a, uint32_t m, uint32_t k, float* sums) {
  uint32_t i = 0;
  for (; i + 32 <= k; i += 32) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (uint32_t t = 0; t < m; t++) {
      const float* row = a + (size_t)t * k + i;
      s0 = add_in_order_256(s0, magnitude(_mm256_loadu_ps(row)));
      s1 = add_in_order_256(s1, magnitude(_mm256_loadu_ps(row + 8)));
      s2 = add_in_order_256(s2, magnitude(_mm256_loadu_ps(row + 16)));
      s3 = add_in_order_256(s3, magnitude(_mm256_loadu_ps(row + 24)));
    }
    _mm256_storeu_ps(sums + i, s0);
    _mm256_storeu_ps(sums + i + 8, s1);
    _mm256_storeu_ps(sums + i + 16, s2);
    _mm256_storeu_ps(sums + i + 24, s3);
  }
  for (; i + 8 <= k; i += 8) {
    __m256 sum = _mm256_setzero_ps();
    for (uint32_t t = 0; t < m; t++) sum = add_in_order_256(sum, magnitude(_mm256_loadu_ps(a + (size_t)t * k + i)));
    _mm256_storeu_ps(sums + i, sum);
  }
  if (i < k) {
    const __m256i inside = first_lanes8(k - i);
    __m256 sum = _mm256_setzero_ps();
    for (uint32_t t = 0; t < m; t++) sum = add_in_order_256(sum, magnitude(_mm256_maskload_ps(a + (size_t)t * k + i, inside)));
    _mm256_maskstore_ps(sums + i, inside, sum);
  }
}

/*
 * The larger magnitude lane by lane, taken on the floats' bits: a magnitude's bits order as its
 * value does (+0 lowest, ∞ above every number), and a NaN's lie above ∞'s, so a NaN, once met,
 * stays.
 */
AVX2 static inline __m256i larger_magnitude(__m256i largest, __m256i bits) {
  return _mm256_max_epi32(largest, _mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff)));
}

AVX2 static inline __m256i bits_at(const float* p) {
  return _mm256_loadu_si256((const __m256i*)p);
}

/* The maxima as the 512-bit kernel stores them: the largest magnitude, or the quiet NaN 0x7fc00000 (the wasm max's) where a NaN was. */
AVX2 static inline __m256 stored_maxima(__m256i largest) {
  const __m256i nan = _mm256_cmpgt_epi32(largest, _mm256_set1_epi32(0x7f800000));
  return _mm256_castsi256_ps(_mm256_blendv_epi8(largest, _mm256_set1_epi32(0x7fc00000), nan));
}

/* columnMaxima: four vectors of columns at a time, then single ones, the last masked. */
AVX2 static void column_maxima(const float* b, uint32_t m, uint32_t n, float* maxima) {
  uint32_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0;
    for (uint32_t t = 0; t < m; t++) {
      const float* row = b + (size_t)t * n + j;
      l0 = larger_magnitude(l0, bits_at(row));
      l1 = larger_magnitude(l1, bits_at(row + 8));
      l2 = larger_magnitude(l2, bits_at(row + 16));
      l3 = larger_magnitude(l3, bits_at(row + 24));
    }
    _mm256_storeu_ps(maxima + j, stored_maxima(l0));
    _mm256_storeu_ps(maxima + j + 8, stored_maxima(l1));
    _mm256_storeu_ps(maxima + j + 16, stored_maxima(l2));
    _mm256_storeu_ps(maxima + j + 24, stored_maxima(l3));
  }
  for (; j + 8 <= n; j += 8) {
    __m256i largest = _mm256_setzero_si256();
    for (uint32_t t = 0; t < m; t++) largest = larger_magnitude(largest, bits_at(b + (size_t)t * n + j));
    _mm256_storeu_ps(maxima + j, stored_maxima(largest));
  }
  if (j < n) {
    const __m256i inside = first_lanes8(n - j);
    __m256i largest = _mm256_setzero_si256();
    for (uint32_t t = 0; t < m; t++) largest = larger_magnitude(largest, _mm256_maskload_epi32((const int*)(b + (size_t)t * n + j), inside));
    _mm256_maskstore_ps(maxima + j, inside, stored_maxima(largest));
  }
}

/*
 * The lanes (bits of a byte) of eight elements c[i, j..] whose update is negligible: x·maxima[j] <
 * |old|·factor, with 2^−60 ≤ |old| < ∞ (x = sums[i]); a NaN anywhere fails it.
 */
AVX2 static inline uint32_t negligible(__m256 x, __m256 row, __m256 maxima, __m256 factor) {
  const __m256 old = magnitude(row);
  const __m256 below = _mm256_cmp_ps(_mm256_mul_ps(x, maxima), _mm256_mul_ps(old, factor), _CMP_LT_OQ);
  const __m256 inRange = _mm256_and_ps(_mm256_cmp_ps(old, _mm256_set1_ps(8.673617379884035e-19f), _CMP_GE_OQ), _mm256_cmp_ps(old, _mm256_set1_ps(INFINITY), _CMP_LT_OQ));
  return (uint32_t)_mm256_movemask_ps(_mm256_and_ps(below, inRange));
}

/* keptUpdates' test: sixteen columns (one mask) at a time, then the last chunk's vectors, the last one masked. */
AVX2 static uint32_t kept_rows(const float* sums, const float* maxima, const float* c, uint32_t k, uint32_t n, float factorOfOld, uint16_t* flags,
                               uint32_t* keptRows) {
  const __m256 factor = _mm256_set1_ps(factorOfOld);
  uint32_t rowCount = 0;
  for (uint32_t i = 0; i < k; i++) {
    const __m256 x = _mm256_set1_ps(sums[i]);
    const float* row = c + (size_t)i * n;
    uint32_t rowKept = 0, j = 0;
    for (; j + 16 <= n; j += 16) {
      const uint32_t low = negligible(x, _mm256_loadu_ps(row + j), _mm256_loadu_ps(maxima + j), factor);
      const uint32_t high = negligible(x, _mm256_loadu_ps(row + j + 8), _mm256_loadu_ps(maxima + j + 8), factor);
      const uint32_t kept = ~(low | high << 8) & 0xffff;
      flags[j / 16] |= (uint16_t)kept;
      rowKept |= kept;
    }
    for (; j < n; j += 8) {
      uint32_t kept;
      if (n - j >= 8) {
        kept = ~negligible(x, _mm256_loadu_ps(row + j), _mm256_loadu_ps(maxima + j), factor) & 0xff;
      } else {
        const __m256i inside = first_lanes8(n - j);
        kept = ~negligible(x, _mm256_maskload_ps(row + j, inside), _mm256_maskload_ps(maxima + j, inside), factor) & ((1u << (n - j)) - 1);
      }
      flags[j / 16] |= (uint16_t)(kept << (j % 16));
      rowKept |= kept;
    }
    if (rowKept) keptRows[rowCount++] = i;
  }
  return rowCount;
}

/* The lanes of columns j..j+7 the masks keep (half of a 16-column chunk's mask). */
static inline uint32_t kept_lanes(const uint16_t* masks, uint32_t j) {
  return (uint32_t)(masks[j / 16] >> (j % 16)) & 0xff;
}

/*
 * The fast path of negligible-updates.c's moves, gathering: each whole vector's kept lanes permuted
 * to the front and stored whole where the packed region has room for eight floats (the lanes past
 * the kept ones land where later ones are stored), else under a mask; a row's last, partial vector
 * one kept float at a time (with a masked load and store there, 10-column rows took twice as long).
 */
AVX2 static void gather_rows(const float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, float* packed) {
  const float* end = packed + (size_t)rows * count;
  for (uint32_t p = 0; p < rows; p++) {
    const float* from = wide + (size_t)(rowList ? rowList[p] : p) * cols;
    float* to = packed + (size_t)p * count;
    uint32_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      const uint32_t kept = kept_lanes(masks, j);
      if (!kept) continue;
      const uint32_t taken = (uint32_t)__builtin_popcount(kept);
      const __m256 front = _mm256_permutevar8x32_ps(_mm256_loadu_ps(from + j), compress_order(kept));
      if (end - to >= 8) _mm256_storeu_ps(to, front);
      else _mm256_maskstore_ps(to, first_lanes8(taken), front);
      to += taken;
    }
    for (uint32_t kept = j < cols ? kept_lanes(masks, j) : 0; kept; kept &= kept - 1) *to++ = from[j + (uint32_t)__builtin_ctz(kept)];
  }
}

/*
 * ... and scattering: each whole vector's packed floats (loaded whole where the packed region has
 * eight left, else under a mask) permuted to their kept lanes and blended into the wide row's,
 * stored whole (the other lanes written back as they were read: the regions do not overlap, so
 * nothing else writes them meanwhile); a row's last, partial vector one kept float at a time.
 */
AVX2 static void scatter_rows(float* wide, uint32_t cols, const uint32_t* rowList, uint32_t rows, const uint16_t* masks, uint32_t count, const float* packed) {
  const float* end = packed + (size_t)rows * count;
  const __m256i laneBits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (uint32_t p = 0; p < rows; p++) {
    const float* from = packed + (size_t)p * count;
    float* to = wide + (size_t)(rowList ? rowList[p] : p) * cols;
    uint32_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      const uint32_t kept = kept_lanes(masks, j);
      if (!kept) continue;
      const uint32_t taken = (uint32_t)__builtin_popcount(kept);
      const __m256 front = end - from >= 8 ? _mm256_loadu_ps(from) : _mm256_maskload_ps(from, first_lanes8(taken));
      const __m256 spread = _mm256_permutevar8x32_ps(front, expand_order(kept));
      const __m256i keptLanes = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)kept), laneBits), laneBits);
      _mm256_storeu_ps(to + j, _mm256_blendv_ps(_mm256_loadu_ps(to + j), spread, _mm256_castsi256_ps(keptLanes)));
      from += taken;
    }
    for (uint32_t kept = j < cols ? kept_lanes(masks, j) : 0; kept; kept &= kept - 1) to[j + (uint32_t)__builtin_ctz(kept)] = *from++;
  }
}

const negligible_update_kernels_t avx2_negligible_updates = {column_sums, column_maxima, kept_rows, gather_rows, scatter_rows};
