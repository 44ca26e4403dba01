/*
 * rescaled-products.c's kernels in 256-bit AVX2 vectors with FMA: rescaled-avx512.c's
 * operations lane for lane (each lane takes assembly/rescaled-sums.ts' `step`, without deferring
 * a cancelled one), so the same bits; vector masks and movemask stand for its mask registers.
 */
#include <string.h>

#include "products.h"

/*
 * A rescaled kernel's constants: 2^−126·2^E (below it the unscaled sums are subnormal) as bits,
 * the same plus 2^31 − 1 (wrapping: nonzero_below's bound), and the factors that scale back.
 */
typedef struct {
  __m256i smallest, below;
  __m256 unscaleA, unscaleB, unscale;
} grid_t;

/* smallestSum's 2^(1 + E − 127), read from the exponent of unscaleA·unscaleB (checked by unscales_ok). */
AVX2 static grid_t grid_of(float unscaleA, float unscaleB) {
  const float both = unscaleA * unscaleB;
  uint32_t bits;
  memcpy(&bits, &both, 4);
  const uint32_t smallest = (128 - (bits >> 23)) << 23;
  return (grid_t){_mm256_set1_epi32((int)smallest), _mm256_set1_epi32((int)(smallest + 0x7fffffffu)), _mm256_set1_ps(unscaleA),
                  _mm256_set1_ps(unscaleB), _mm256_set1_ps(both)};
}

AVX2 static inline __m256i magnitude_bits(__m256 v) {
  return _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff));
}

/*
 * Lanes of v that are nonzero and below 2^−126·2^E in magnitude (NaN is above): |bits| + 2^31 − 1
 * wraps 0 to the largest int and the others below the bound's own shift, so one signed compare.
 */
AVX2 static inline __m256i nonzero_below(__m256 v, const grid_t* g) {
  return _mm256_cmpgt_epi32(g->below, _mm256_add_epi32(magnitude_bits(v), _mm256_set1_epi32(0x7fffffff)));
}

/* Lanes of v that are infinite or NaN (magnitudes' bits are below 2^31: a signed compare orders them). */
AVX2 static inline __m256i not_finite(__m256 v) {
  return _mm256_cmpgt_epi32(magnitude_bits(v), _mm256_set1_epi32(0x7f7fffff));
}

/* The lanes `redo` of `rounded` from the step on the values scaled back (where a sum cancelled to below 2^−126·2^E). */
AVX2 static __attribute__((noinline)) __m256 step_unscaled(__m256 factors, __m256 row, __m256 sum, __m256 rounded, __m256 redo, const grid_t* g) {
  const __m256 step = _mm256_div_ps(
    _mm256_fmadd_ps(mul_in_order_256(factors, g->unscaleA), mul_in_order_256(row, g->unscaleB), mul_in_order_256(sum, g->unscale)), g->unscale);
  return _mm256_blendv_ps(rounded, step, redo);
}

/*
 * rescaled-sums.ts' step where madd's sum `next` lands below 2^−126·2^E (the lanes `tiny`): the
 * unscaled rounding, madd(factors, row, sum + C) − C with C = ±2^−126·2^E of next's sign; or the
 * unscaled step where the sum cancelled to there.
 */
AVX2 static inline __attribute__((always_inline)) __m256 rounded_on_grid(__m256 factors, __m256 row, __m256 sum, __m256 next, __m256i tiny, const grid_t* g) {
  const __m256i sign = _mm256_and_si256(_mm256_castps_si256(next), _mm256_set1_epi32((int)0x80000000));
  const __m256 offset = _mm256_castsi256_ps(_mm256_or_si256(sign, g->smallest));
  const __m256 shifted = _mm256_sub_ps(_mm256_fmadd_ps(factors, row, add_in_order_256(sum, offset)), offset);
  const __m256 onGrid = _mm256_castsi256_ps(_mm256_or_si256(sign, _mm256_castps_si256(shifted)));
  const __m256 rounded = _mm256_blendv_ps(next, onGrid, _mm256_castsi256_ps(tiny));
  const __m256i cancelled = _mm256_and_si256(tiny, _mm256_cmpgt_epi32(magnitude_bits(sum), _mm256_sub_epi32(g->smallest, _mm256_set1_epi32(1))));
  return __builtin_expect(_mm256_testz_si256(cancelled, cancelled), 1) ? rounded
                                                                       : step_unscaled(factors, row, sum, rounded, _mm256_castsi256_ps(cancelled), g);
}

/* One step of eight sums: madd(factors, row, sum), rounded as the unscaled sums are where that lands below 2^−126·2^E. */
AVX2 static inline __attribute__((always_inline)) __m256 step(__m256 factors, __m256 row, __m256 sum, const grid_t* g) {
  const __m256 next = _mm256_fmadd_ps(factors, row, sum);
  const __m256i tiny = nonzero_below(next, g);
  return __builtin_expect(_mm256_testz_si256(tiny, tiny), 1) ? next : rounded_on_grid(factors, row, sum, next, tiny, g);
}

/* A vector of `lanes` (all of them unless `partial`) at p, the others +0. */
AVX2 static inline __m256 load_lanes(const float* p, int partial, __m256i lanes) {
  return partial ? _mm256_maskload_ps(p, lanes) : _mm256_loadu_ps(p);
}

/*
 * old + scale·(sum·unscale) stored in the lanes `kept` (all unless `partial`) at o; where the scaled
 * sum overflowed, the sum again from the factors scaled back (`again`), as it is.
 */
#define STORE_RESCALED(o, sum, unscale, partial, kept, factor, again)                                                         \
  do {                                                                                                                       \
    const __m256 old = load_lanes(o, partial, kept);                                                                         \
    const __m256 stored = add_in_order_256(old, mul_in_order_256(factor, mul_in_order_256(sum, unscale)));                  \
    if (partial) _mm256_maskstore_ps(o, kept, stored);                                                                       \
    else _mm256_storeu_ps(o, stored);                                                                                        \
    const __m256i overflowed = _mm256_and_si256(not_finite(sum), kept);                                                      \
    if (__builtin_expect(!_mm256_testz_si256(overflowed, overflowed), 0)) {                                                  \
      __m256 redone = _mm256_setzero_ps();                                                                                   \
      again;                                                                                                                 \
      _mm256_maskstore_ps(o, overflowed, add_in_order_256(old, mul_in_order_256(factor, redone)));                          \
    }                                                                                                                        \
  } while (0)

/* ---- gemmAddRescaled ---- */

/*
 * C += scale·(A·B) summed from A·2^ea and B·2^eb as given: each element stepped from +0 over t, then
 * old + scale·(sum·unscale). Tiles of up to 4 rows × 2 vectors of 8 columns (`lanes` of the last
 * vector where `partial`).
 */
AVX2 static inline __attribute__((always_inline)) void rescaled_tile(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c,
                                                                      size_t cRow, uint32_t rows, uint32_t vectors, int partial, __m256i lanes,
                                                                      uint32_t depth, float scale, const grid_t* g) {
  const __m256i all = _mm256_set1_epi32(-1);
  __m256 sums[4][2];
  for (uint32_t r = 0; r < 4; r++) sums[r][0] = sums[r][1] = _mm256_setzero_ps();
  for (uint32_t t = 0; t < depth; t++) {
    const float* bt = b + t * bRow;
    const __m256 b0 = load_lanes(bt, partial && vectors == 1, lanes), b1 = vectors == 2 ? load_lanes(bt + 8, partial, lanes) : b0;
    for (uint32_t r = 0; r < rows; r++) {
      const __m256 factors = _mm256_set1_ps(a[r * aRow + t * aStep]);
      sums[r][0] = step(factors, b0, sums[r][0], g);
      if (vectors == 2) sums[r][1] = step(factors, b1, sums[r][1], g);
    }
  }
  const __m256 factor = _mm256_set1_ps(scale);
  const float unscaleA = _mm256_cvtss_f32(g->unscaleA);
  for (uint32_t r = 0; r < rows; r++) {
    for (uint32_t v = 0; v < vectors; v++) {
      const int last = partial && v + 1 == vectors;
      const __m256i kept = last ? lanes : all;
      const float* ar = a + r * aRow;
      STORE_RESCALED(c + r * cRow + 8 * v, sums[r][v], g->unscale, last, kept, factor,
                     for (uint32_t t = 0; t < depth; t++) redone = _mm256_fmadd_ps(_mm256_set1_ps(ar[t * aStep] * unscaleA),
                                                                                   mul_in_order_256(load_lanes(b + t * bRow + 8 * v, last, kept), g->unscaleB), redone));
    }
  }
}

#define RESCALED_TILE(ROWS, VECTORS, PARTIAL)                                                                                                       \
  AVX2 static void rescaled_tile_##ROWS##x##VECTORS##_##PARTIAL(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c,   \
                                                               size_t cRow, __m256i lanes, uint32_t depth, float scale, const grid_t* g) {         \
    rescaled_tile(a, aRow, aStep, b, bRow, c, cRow, ROWS, VECTORS, PARTIAL, lanes, depth, scale, g);                                               \
  }
RESCALED_TILE(4, 2, 0)
RESCALED_TILE(4, 2, 1)
RESCALED_TILE(4, 1, 1)
RESCALED_TILE(1, 2, 0)
RESCALED_TILE(1, 2, 1)
RESCALED_TILE(1, 1, 1)

/* gemmAddRescaled's tiles: 4 rows × 16 columns, then single rows; the columns past the last multiple of 16 in a masked tile. */
AVX2 static void gemm_rescaled_in_tiles(const gemm_factors_t* f, float scale, float unscaleA, float unscaleB) {
  const float *a = f->a, *b = f->b;
  float* c = f->c;
  const uint32_t rows = f->rows, cols = f->cols, depth = f->depth;
  const size_t aRow = f->aRow, aStep = f->aStep, bRow = f->bRow, cRow = f->cRow;
  const grid_t g = grid_of(unscaleA, unscaleB);
  const __m256i all = _mm256_set1_epi32(-1);
  uint32_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    uint32_t j = 0;
    for (; j + 16 <= cols; j += 16) rescaled_tile_4x2_0(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, all, depth, scale, &g);
    if (j + 8 < cols) rescaled_tile_4x2_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes8(cols - j - 8), depth, scale, &g);
    else if (j < cols) rescaled_tile_4x1_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes8(cols - j), depth, scale, &g);
  }
  for (; i < rows; i++) {
    uint32_t j = 0;
    for (; j + 16 <= cols; j += 16) rescaled_tile_1x2_0(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, all, depth, scale, &g);
    if (j + 8 < cols) rescaled_tile_1x2_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes8(cols - j - 8), depth, scale, &g);
    else if (j < cols) rescaled_tile_1x1_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes8(cols - j), depth, scale, &g);
  }
}

/* ---- matmulTransposeBRescaled ---- */

/* products-avx2.c's dY·Wᵀ blocks with each lane sum stepped, folded, then times unscaleA; 1 where a sum overflowed scaled up. */
AVX2 static int transpose_b_rescaled_in_blocks(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, float unscaleA, float* laid) {
  const grid_t g = grid_of(unscaleA, 1);
  const size_t group = 2 * (size_t)n; /* floats between laid-out pairs of rows */
  __m256i overflowed = _mm256_setzero_si256();
  for (uint32_t p = 0; p < k; p += 16) {
    lay_out_row_pairs(laid, b + (size_t)p * n, n);
    for (uint32_t h = 0; h < 16; h += 8) {
      const float* w = laid + (size_t)h * n;
      for (uint32_t i = 0; i < m; i += 2) {
        const float *a0 = a + (size_t)i * n, *a1 = a0 + n;
        __m256 s00 = _mm256_setzero_ps(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (uint32_t c = 0; c < n / 4; c++) {
          const __m256 x0 = _mm256_broadcast_ps((const __m128*)(a0 + 4 * c)), x1 = _mm256_broadcast_ps((const __m128*)(a1 + 4 * c));
          const float* wc = w + 8 * c;
          __m256 v = _mm256_loadu_ps(wc);
          s00 = step(x0, v, s00, &g);
          s10 = step(x1, v, s10, &g);
          v = _mm256_loadu_ps(wc + group);
          s01 = step(x0, v, s01, &g);
          s11 = step(x1, v, s11, &g);
          v = _mm256_loadu_ps(wc + 2 * group);
          s02 = step(x0, v, s02, &g);
          s12 = step(x1, v, s12, &g);
          v = _mm256_loadu_ps(wc + 3 * group);
          s03 = step(x0, v, s03, &g);
          s13 = step(x1, v, s13, &g);
        }
        /* adding two sums on the grid 2^(−149+E) is exact below 2^−126·2^E and scales above: plain adds keep the bits */
        const __m256 r0 = fold_pair_sums(s00, s01, s02, s03, NULL), r1 = fold_pair_sums(s10, s11, s12, s13, NULL);
        overflowed = _mm256_or_si256(overflowed, _mm256_or_si256(not_finite(r0), not_finite(r1)));
        _mm256_storeu_ps(out + (size_t)i * k + p + h, mul_in_order_256(r0, g.unscaleA));
        _mm256_storeu_ps(out + (size_t)(i + 1) * k + p + h, mul_in_order_256(r1, g.unscaleA));
      }
    }
  }
  return !_mm256_testz_si256(overflowed, overflowed);
}

/* ---- the sparse xᵀ·dY's rescaled sums ---- */

/* Sums stepped over the entries for `vectors` (≤ 4) vectors of columns (`lanes` of the last where `partial`), then stored as addScaledRowsRescaled stores them. */
AVX2 static inline __attribute__((always_inline)) void rescaled_rows_block(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values,
                                                                            uint32_t count, uint32_t vectors, int partial, __m256i lanes, float scale,
                                                                            const grid_t* g) {
  const __m256i all = _mm256_set1_epi32(-1);
  __m256 sums[4];
  for (uint32_t v = 0; v < 4; v++) sums[v] = _mm256_setzero_ps();
  for (uint32_t t = 0; t < count; t++) {
    const __m256 factors = _mm256_set1_ps(values[t]);
    const float* row = b + rows[t] * stride;
    for (uint32_t v = 0; v < vectors; v++) sums[v] = step(factors, load_lanes(row + 8 * v, partial && v + 1 == vectors, lanes), sums[v], g);
  }
  const __m256 factor = _mm256_set1_ps(scale);
  for (uint32_t v = 0; v < vectors; v++) {
    const int last = partial && v + 1 == vectors;
    const __m256i kept = last ? lanes : all;
    /* summed again from b scaled back */
    STORE_RESCALED(out + 8 * v, sums[v], g->unscaleB, last, kept, factor,
                   for (uint32_t t = 0; t < count; t++) redone = _mm256_fmadd_ps(_mm256_set1_ps(values[t]),
                                                                                 mul_in_order_256(load_lanes(b + rows[t] * stride + 8 * v, last, kept), g->unscaleB), redone));
  }
}

typedef void (*rescaled_rows_t)(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values, uint32_t count, __m256i lanes,
                                float scale, const grid_t* g);
#define RESCALED_ROWS(VECTORS, PARTIAL)                                                                                                            \
  AVX2 static void rescaled_rows_##VECTORS##_##PARTIAL(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values,        \
                                                       uint32_t count, __m256i lanes, float scale, const grid_t* g) {                            \
    rescaled_rows_block(out, b, stride, rows, values, count, VECTORS, PARTIAL, lanes, scale, g);                                                  \
  }
RESCALED_ROWS(4, 0)
RESCALED_ROWS(1, 1)
RESCALED_ROWS(2, 1)
RESCALED_ROWS(3, 1)
RESCALED_ROWS(4, 1)
static const rescaled_rows_t PARTIAL_ROWS_OF[5] = {NULL, rescaled_rows_1_1, rescaled_rows_2_1, rescaled_rows_3_1, rescaled_rows_4_1};

/* Blocks of 4 vectors (32 columns: four independent chains of steps, which the core overlaps), then one block of the vectors left. */
AVX2 static void add_scaled_rows_rescaled(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values, uint32_t count,
                                          float scale, float unscaleB) {
  const grid_t g = grid_of(1, unscaleB);
  uint32_t j = 0;
  for (; j + 32 <= n; j += 32) rescaled_rows_4_0(out + j, b + j, stride, rows, values, count, _mm256_set1_epi32(-1), scale, &g);
  if (j < n) PARTIAL_ROWS_OF[(n - j + 7) / 8](out + j, b + j, stride, rows, values, count, first_lanes8(n - j - (n - j - 1) / 8 * 8), scale, &g);
}

const rescaled_kernels_t avx2_rescaled = {
    .gemm_add = gemm_rescaled_in_tiles,
    .transpose_b = transpose_b_rescaled_in_blocks,
    .add_scaled_rows = add_scaled_rows_rescaled,
};
