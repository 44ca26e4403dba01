/*
 * rescaled-products.c's kernels in 512-bit AVX-512 vectors (rescaled-avx2.c has the same in
 * 256-bit ones): the wasm kernels for factors whose subnormals were scaled away beforehand
 * (assembly/rescaled-gemm.ts, rescaled-dot-matmul.ts, sparse-rows.ts' addScaledRowsRescaled),
 * with the same bits. Their sums are 2^E times the unscaled ones, and each step that lands where
 * the unscaled sum is subnormal is rounded again to the unscaled grid (assembly/rescaled-sums.ts
 * says why that gives the unscaled bits). Every lane here takes rescaled-sums.ts' `step` as it is
 * without deferring: the wasm kernels' deferral (sum the tile again when a step cancelled) only
 * moves work, never a lane's result.
 */
#include <string.h>

#include "products.h"

/* A rescaled kernel's constants: 2^−126·2^E (below it the unscaled sums are subnormal) as bits, and the factors that scale back. */
typedef struct {
  __m512i smallest;
  __m512 unscaleA, unscaleB, unscale;
} grid_t;

/* smallestSum's 2^(1 + E − 127), read from the exponent of unscaleA·unscaleB (checked by unscales_ok). */
AVX512 static grid_t grid_of(float unscaleA, float unscaleB) {
  const float both = unscaleA * unscaleB;
  uint32_t bits;
  memcpy(&bits, &both, 4);
  return (grid_t){_mm512_set1_epi32((int)((128 - (bits >> 23)) << 23)), _mm512_set1_ps(unscaleA), _mm512_set1_ps(unscaleB), _mm512_set1_ps(both)};
}

/* Lanes of v that are nonzero and below `limit` in magnitude (v's bits; NaN is above every limit). */
AVX512 static inline __mmask16 nonzero_below(__m512 v, __m512i limit) {
  const __m512i one = _mm512_set1_epi32(1), magnitude = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff));
  return _mm512_cmplt_epu32_mask(_mm512_sub_epi32(magnitude, one), _mm512_sub_epi32(limit, one));
}

/* Lanes of v that are infinite or NaN. */
AVX512 static inline __mmask16 not_finite(__m512 v) {
  return _mm512_cmpge_epu32_mask(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
}

/* The lanes `redo` of `rounded` from the step on the values scaled back, then scaled up again (where a sum cancelled to below 2^−126·2^E). */
AVX512 static __attribute__((noinline)) __m512 step_unscaled(__m512 factors, __m512 row, __m512 sum, __m512 rounded, __mmask16 redo, const grid_t* g) {
  const __m512 step = _mm512_div_ps(
    _mm512_fmadd_ps(mul_in_order(factors, g->unscaleA), mul_in_order(row, g->unscaleB), mul_in_order(sum, g->unscale)), g->unscale);
  return _mm512_mask_blend_ps(redo, rounded, step);
}

/*
 * rescaled-sums.ts' step where madd's sum `next` lands below 2^−126·2^E (the lanes `tiny`): the
 * unscaled rounding, madd(factors, row, sum + C) − C with C = ±2^−126·2^E of next's sign; or the
 * unscaled step where the sum cancelled to there.
 */
AVX512 static inline __attribute__((always_inline)) __m512 rounded_on_grid(__m512 factors, __m512 row, __m512 sum, __m512 next, __mmask16 tiny, const grid_t* g) {
  const __m512i sign = _mm512_set1_epi32((int)0x80000000), nextBits = _mm512_castps_si512(next);
  const __m512 offset = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(nextBits, sign, g->smallest, 0xEA)); /* (next & sign) | smallest */
  const __m512 shifted = _mm512_sub_ps(_mm512_fmadd_ps(factors, row, add_in_order(sum, offset)), offset);
  const __m512 onGrid = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(nextBits, sign, _mm512_castps_si512(shifted), 0xEA)); /* | next's sign */
  const __m512 rounded = _mm512_mask_blend_ps(tiny, next, onGrid);
  /* magnitudes' bits (and smallest's) are below 2^31: a signed compare orders them */
  const __mmask16 cancelled =
    _mm512_mask_cmpge_epi32_mask(tiny, _mm512_and_si512(_mm512_castps_si512(sum), _mm512_set1_epi32(0x7fffffff)), g->smallest);
  return __builtin_expect(cancelled != 0, 0) ? step_unscaled(factors, row, sum, rounded, cancelled, g) : rounded;
}

/*
 * One step of sixteen sums: madd(factors, row, sum), rounded as the unscaled sums are where that
 * lands below 2^−126·2^E. A branch around that rounding: done for every vector instead (no branch,
 * twice the instructions) it ran no faster where a fifth to a third of the vectors need it, and
 * slower where few do.
 */
AVX512 static inline __attribute__((always_inline)) __m512 step(__m512 factors, __m512 row, __m512 sum, const grid_t* g) {
  const __m512 next = _mm512_fmadd_ps(factors, row, sum);
  const __mmask16 tiny = nonzero_below(next, g->smallest);
  return __builtin_expect(tiny == 0, 1) ? next : rounded_on_grid(factors, row, sum, next, tiny, g);
}

/* ---- gemmAddRescaled ---- */

/*
 * gemm's C += scale·(A·B) summed from A·2^ea and B·2^eb as given: each element stepped from +0 over
 * t, then old + scale·(sum·unscale); a lane whose scaled sum overflowed is summed again from the
 * factors scaled back, as gemm sums it. Tiles of up to 4 rows × 2 vectors of 16 columns (`lanes`
 * of the last vector).
 */
AVX512 static inline __attribute__((always_inline)) void rescaled_tile(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c, size_t cRow,
                                                         uint32_t rows, uint32_t vectors, __mmask16 lanes, uint32_t depth, float scale, const grid_t* g) {
  __m512 sums[4][2];
  for (uint32_t r = 0; r < 4; r++) sums[r][0] = sums[r][1] = _mm512_setzero_ps();
  const __mmask16 first = vectors == 2 ? 0xFFFF : lanes;
  for (uint32_t t = 0; t < depth; t++) {
    const float* bt = b + t * bRow;
    const __m512 b0 = _mm512_maskz_loadu_ps(first, bt), b1 = vectors == 2 ? _mm512_maskz_loadu_ps(lanes, bt + 16) : b0;
    for (uint32_t r = 0; r < rows; r++) {
      const __m512 factors = _mm512_set1_ps(a[r * aRow + t * aStep]);
      sums[r][0] = step(factors, b0, sums[r][0], g);
      if (vectors == 2) sums[r][1] = step(factors, b1, sums[r][1], g);
    }
  }
  const __m512 factor = _mm512_set1_ps(scale);
  for (uint32_t r = 0; r < rows; r++) {
    for (uint32_t v = 0; v < vectors; v++) {
      const __mmask16 kept = v + 1 == vectors ? lanes : 0xFFFF;
      float* o = c + r * cRow + 16 * v;
      const __m512 old = _mm512_maskz_loadu_ps(kept, o);
      _mm512_mask_storeu_ps(o, kept, add_in_order(old, mul_in_order(factor, mul_in_order(sums[r][v], g->unscale))));
      const __mmask16 overflowed = not_finite(sums[r][v]) & kept;
      if (__builtin_expect(overflowed != 0, 0)) {
        const float* ar = a + r * aRow;
        __m512 sum = _mm512_setzero_ps();
        for (uint32_t t = 0; t < depth; t++)
          sum = _mm512_fmadd_ps(_mm512_set1_ps(ar[t * aStep] * _mm512_cvtss_f32(g->unscaleA)), mul_in_order(_mm512_maskz_loadu_ps(kept, b + t * bRow + 16 * v), g->unscaleB), sum);
        _mm512_mask_storeu_ps(o, overflowed, add_in_order(old, mul_in_order(factor, sum)));
      }
    }
  }
}

#define RESCALED_TILE(ROWS, VECTORS)                                                                                                         \
  AVX512 static void rescaled_tile_##ROWS##x##VECTORS(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c, size_t cRow, \
                                                      __mmask16 lanes, uint32_t depth, float scale, const grid_t* g) {                        \
    rescaled_tile(a, aRow, aStep, b, bRow, c, cRow, ROWS, VECTORS, lanes, depth, scale, g);                                                 \
  }
RESCALED_TILE(4, 2)
RESCALED_TILE(4, 1)
RESCALED_TILE(1, 2)
RESCALED_TILE(1, 1)


/* gemmAddRescaled's tiles: 4 rows × 2 vectors of 16 columns, then single vectors and rows. */
AVX512 static void gemm_rescaled_in_tiles(const gemm_factors_t* f, float scale, float unscaleA, float unscaleB) {
  const float *a = f->a, *b = f->b;
  float* c = f->c;
  const uint32_t rows = f->rows, cols = f->cols, depth = f->depth;
  const size_t aRow = f->aRow, aStep = f->aStep, bRow = f->bRow, cRow = f->cRow;
  const grid_t g = grid_of(unscaleA, unscaleB);
  uint32_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    uint32_t j = 0;
    for (; j + 16 < cols; j += 32) rescaled_tile_4x2(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j - 16), depth, scale, &g);
    if (j < cols) rescaled_tile_4x1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j), depth, scale, &g);
  }
  for (; i < rows; i++) {
    uint32_t j = 0;
    for (; j + 16 < cols; j += 32) rescaled_tile_1x2(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j - 16), depth, scale, &g);
    if (j < cols) rescaled_tile_1x1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j), depth, scale, &g);
  }
}

/* matmulTransposeBRescaled's pair tiles over sixteen laid-out rows of b at a time; 1 where a sum overflowed scaled up. */
AVX512 static int transpose_b_rescaled_in_blocks(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, float unscaleA, float* laid) {
  const grid_t g = grid_of(unscaleA, 1);
  const size_t group = 4 * (size_t)n; /* floats between groups of four laid-out rows */
  __mmask16 overflowed = 0;
  for (uint32_t p = 0; p < k; p += 16) {
    lay_out_sixteen_rows(laid, b + (size_t)p * n, n); /* as matmulTransposeB: a block of b for every row of a */
    const float* w = laid;
    for (uint32_t i = 0; i < m; i += 2) {
      const float *a0 = a + (size_t)i * n, *a1 = a0 + n;
      __m512 s00 = _mm512_setzero_ps(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (uint32_t c = 0; c < n / 4; c++) {
        const __m512 x0 = _mm512_broadcast_f32x4(_mm_loadu_ps(a0 + 4 * c)), x1 = _mm512_broadcast_f32x4(_mm_loadu_ps(a1 + 4 * c));
        const float* wc = w + 16 * c;
        __m512 v = _mm512_loadu_ps(wc);
        s00 = step(x0, v, s00, &g);
        s10 = step(x1, v, s10, &g);
        v = _mm512_loadu_ps(wc + group);
        s01 = step(x0, v, s01, &g);
        s11 = step(x1, v, s11, &g);
        v = _mm512_loadu_ps(wc + 2 * group);
        s02 = step(x0, v, s02, &g);
        s12 = step(x1, v, s12, &g);
        v = _mm512_loadu_ps(wc + 3 * group);
        s03 = step(x0, v, s03, &g);
        s13 = step(x1, v, s13, &g);
      }
      /* adding two sums on the grid 2^(−149+E) is exact below 2^−126·2^E and scales above: plain adds keep the bits */
      const __m512 r0 = fold_lane_sums(s00, s01, s02, s03), r1 = fold_lane_sums(s10, s11, s12, s13);
      overflowed |= not_finite(r0) | not_finite(r1);
      _mm512_storeu_ps(out + (size_t)i * k + p, mul_in_order(r0, g.unscaleA));
      _mm512_storeu_ps(out + (size_t)(i + 1) * k + p, mul_in_order(r1, g.unscaleA));
    }
  }
  return overflowed != 0;
}

/* Sums stepped over the entries for `vectors` (≤ 8) vectors of columns from j (`lanes` of the last), then stored as addScaledRowsRescaled stores them. */
AVX512 static inline __attribute__((always_inline)) void rescaled_rows_block(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values,
                                                               uint32_t count, uint32_t vectors, __mmask16 lanes, float scale, const grid_t* g) {
  __m512 sums[8];
  for (uint32_t v = 0; v < 8; v++) sums[v] = _mm512_setzero_ps();
  for (uint32_t t = 0; t < count; t++) {
    const __m512 factors = _mm512_set1_ps(values[t]);
    const float* row = b + rows[t] * stride;
    for (uint32_t v = 0; v < vectors; v++) sums[v] = step(factors, _mm512_maskz_loadu_ps(v + 1 == vectors ? lanes : 0xFFFF, row + 16 * v), sums[v], g);
  }
  const __m512 factor = _mm512_set1_ps(scale);
  for (uint32_t v = 0; v < vectors; v++) {
    const __mmask16 kept = v + 1 == vectors ? lanes : 0xFFFF;
    float* o = out + 16 * v;
    const __m512 old = _mm512_maskz_loadu_ps(kept, o);
    _mm512_mask_storeu_ps(o, kept, add_in_order(old, mul_in_order(factor, mul_in_order(sums[v], g->unscaleB))));
    const __mmask16 overflowed = not_finite(sums[v]) & kept;
    if (__builtin_expect(overflowed != 0, 0)) {
      /* summed again from b scaled back */
      __m512 sum = _mm512_setzero_ps();
      for (uint32_t t = 0; t < count; t++)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(values[t]), mul_in_order(_mm512_maskz_loadu_ps(kept, b + rows[t] * stride + 16 * v), g->unscaleB), sum);
      _mm512_mask_storeu_ps(o, overflowed, add_in_order(old, mul_in_order(factor, sum)));
    }
  }
}

typedef void (*rescaled_rows_t)(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values, uint32_t count, __mmask16 lanes,
                                float scale, const grid_t* g);
#define RESCALED_ROWS(VECTORS)                                                                                                               \
  AVX512 static void rescaled_rows_##VECTORS(float* out, const float* b, size_t stride, const uint32_t* rows, const float* values, uint32_t count, \
                                             __mmask16 lanes, float scale, const grid_t* g) {                                                \
    rescaled_rows_block(out, b, stride, rows, values, count, VECTORS, lanes, scale, g);                                                     \
  }
RESCALED_ROWS(1)
RESCALED_ROWS(2)
RESCALED_ROWS(3)
RESCALED_ROWS(4)
RESCALED_ROWS(5)
RESCALED_ROWS(6)
RESCALED_ROWS(7)
RESCALED_ROWS(8)
static const rescaled_rows_t RESCALED_ROWS_OF[9] = {NULL,            rescaled_rows_1, rescaled_rows_2, rescaled_rows_3, rescaled_rows_4,
                                                    rescaled_rows_5, rescaled_rows_6, rescaled_rows_7, rescaled_rows_8};

/*
 * Blocks of 8 vectors (128 columns), then one block of the vectors left (a gathered block of kept
 * columns is often 112 or 120 wide): the vectors of a block are independent chains of steps, which
 * the core overlaps; one vector at a time, each step would wait for the one before it.
 */
AVX512 static void add_scaled_rows_rescaled(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values, uint32_t count,
                                     float scale, float unscaleB) {
  const grid_t g = grid_of(1, unscaleB);
  uint32_t j = 0;
  for (; j + 128 <= n; j += 128) rescaled_rows_8(out + j, b + j, stride, rows, values, count, 0xFFFF, scale, &g);
  if (j < n) RESCALED_ROWS_OF[(n - j + 15) / 16](out + j, b + j, stride, rows, values, count, first_lanes(n - j - (n - j - 1) / 16 * 16), scale, &g);
}

const rescaled_kernels_t avx512_rescaled = {
    .gemm_add = gemm_rescaled_in_tiles,
    .transpose_b = transpose_b_rescaled_in_blocks,
    .add_scaled_rows = add_scaled_rows_rescaled,
};
