/*
 * products.c's vector kernels in 512-bit AVX-512 vectors (the CPUs that have them; products-avx2.c
 * has the same in 256-bit ones): every output element the same sequence of operations as in the
 * relaxed-SIMD build on FMA hardware, its terms in the same order, each added with one fused
 * multiply-add (or, for the first term of a `sumScaledRows`, a plain product), then the same
 * store (as it is, or out + scale·sum with a separate multiply and add). Wider vectors change how
 * many elements one instruction serves, never an element's arithmetic, so the build must not
 * contract a multiply and an add on its own (-ffp-contract=off).
 */
#include <string.h>

#include "products.h"

/*
 * out[0, n) for `count` entries (row, value): the rows are b + row·stride floats; any n. Eight
 * vectors (128 columns) are summed in registers over all entries, then single vectors, the last
 * masked.
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
      c0 = mul_in_order(v, _mm512_loadu_ps(r));
      c1 = mul_in_order(v, _mm512_loadu_ps(r + 16));
      c2 = mul_in_order(v, _mm512_loadu_ps(r + 32));
      c3 = mul_in_order(v, _mm512_loadu_ps(r + 48));
      c4 = mul_in_order(v, _mm512_loadu_ps(r + 64));
      c5 = mul_in_order(v, _mm512_loadu_ps(r + 80));
      c6 = mul_in_order(v, _mm512_loadu_ps(r + 96));
      c7 = mul_in_order(v, _mm512_loadu_ps(r + 112));
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
      c0 = add_in_order(_mm512_loadu_ps(o), mul_in_order(factor, c0));
      c1 = add_in_order(_mm512_loadu_ps(o + 16), mul_in_order(factor, c1));
      c2 = add_in_order(_mm512_loadu_ps(o + 32), mul_in_order(factor, c2));
      c3 = add_in_order(_mm512_loadu_ps(o + 48), mul_in_order(factor, c3));
      c4 = add_in_order(_mm512_loadu_ps(o + 64), mul_in_order(factor, c4));
      c5 = add_in_order(_mm512_loadu_ps(o + 80), mul_in_order(factor, c5));
      c6 = add_in_order(_mm512_loadu_ps(o + 96), mul_in_order(factor, c6));
      c7 = add_in_order(_mm512_loadu_ps(o + 112), mul_in_order(factor, c7));
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
  for (; j + 16 <= n; j += 16) {
    __m512 c = _mm512_setzero_ps();
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      c = mul_in_order(_mm512_set1_ps(values[0]), _mm512_loadu_ps(b + rows[0] * stride + j));
      t = 1;
    }
    for (; t < count; t++) c = _mm512_fmadd_ps(_mm512_set1_ps(values[t]), _mm512_loadu_ps(b + rows[t] * stride + j), c);
    if (mode == FROM_ZERO_ADDED) c = add_in_order(_mm512_loadu_ps(out + j), mul_in_order(factor, c));
    _mm512_storeu_ps(out + j, c);
  }
  if (j < n) {
    /* The last, partial vector. The wasm kernels sum the columns from n & ~3 on one float at a
       time, a product rounded and then added (wasm has no scalar fused multiply-add): those lanes
       take a multiply and an add here, the others the fused multiply-add. */
    const __mmask16 inside = first_lanes(n - j), separate = inside & (__mmask16)~first_lanes((n & ~3u) - j);
    __m512 c = _mm512_setzero_ps();
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      c = mul_in_order(_mm512_set1_ps(values[0]), _mm512_maskz_loadu_ps(inside, b + rows[0] * stride + j));
      t = 1;
    }
    for (; t < count; t++) {
      const __m512 v = _mm512_set1_ps(values[t]), r = _mm512_maskz_loadu_ps(inside, b + rows[t] * stride + j);
      c = _mm512_mask_blend_ps(separate, _mm512_fmadd_ps(v, r, c), add_in_order(c, mul_in_order(v, r)));
    }
    if (mode == FROM_ZERO_ADDED) c = add_in_order(_mm512_maskz_loadu_ps(inside, out + j), mul_in_order(factor, c));
    _mm512_mask_storeu_ps(out + j, inside, c);
  }
}

/*
 * The nonzeros (NaN counts) of a row of `count` floats, as (index, value) in index order, sixteen
 * at a time without a branch per float (a branch would mispredict on every new batch): a compare
 * gives a 16-bit mask, the compress instructions move the kept lanes to the front, and the write
 * position advances by the mask's population count. rows and values need count + 16 slots.
 */
AVX512 static uint32_t pack_nonzeros(const float* a, uint32_t count, uint32_t* rows, float* values) {
  const __m512 zero = _mm512_setzero_ps();
  __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint32_t e = 0;
  for (uint32_t p = 0; p < count; p += 16) {
    const __mmask16 inside = first_lanes(count - p);
    const __m512 v = _mm512_maskz_loadu_ps(inside, a + p);
    const __mmask16 kept = _mm512_mask_cmp_ps_mask(inside, v, zero, _CMP_NEQ_UQ);
    _mm512_storeu_ps(values + e, _mm512_maskz_compress_ps(kept, v));
    _mm512_storeu_si512(rows + e, _mm512_maskz_compress_epi32(kept, lanes));
    e += (uint32_t)__builtin_popcount(kept);
    lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
  }
  return e;
}

/* As pack_nonzeros for a column: the `count` floats `step` floats apart, gathered sixteen at a time. */
AVX512 static uint32_t pack_column_nonzeros(const float* a, uint32_t count, uint32_t step, uint32_t* rows, float* values) {
  const __m512 zero = _mm512_setzero_ps();
  __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i offsets = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)step));
  uint32_t e = 0;
  for (uint32_t p = 0; p < count; p += 16) {
    const __mmask16 inside = first_lanes(count - p);
    const __m512 v = _mm512_mask_i32gather_ps(zero, inside, offsets, a + (size_t)p * step, 4);
    const __mmask16 kept = _mm512_mask_cmp_ps_mask(inside, v, zero, _CMP_NEQ_UQ);
    _mm512_storeu_ps(values + e, _mm512_maskz_compress_ps(kept, v));
    _mm512_storeu_si512(rows + e, _mm512_maskz_compress_epi32(kept, lanes));
    e += (uint32_t)__builtin_popcount(kept);
    lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
  }
  return e;
}

/*
 * The nonzeros of one row of `width` bytes as (column, f32(byte)·scale) entries, in column order
 * (NaN counts, but for sixteen zero bytes together: see below), sixteen bytes at a time as
 * pack_nonzeros packs floats;
 * written only up to the entries' count (the SparseRows layout has 4 slots of slack, not 16).
 */
AVX512 static uint32_t pack_byte_row(const uint8_t* row, uint32_t width, float scale, uint32_t* indices, float* values, uint32_t room) {
  (void)room; /* masked stores write the entries alone */
  const __m512 factor = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
  __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint32_t e = 0;
  for (uint32_t p = 0; p < width; p += 16) {
    const __mmask16 inside = first_lanes(width - p);
    uint8_t tail[16] = {0};
    if (width - p < 16) memcpy(tail, row + p, width - p); /* not a byte past the row */
    const __m128i packed = width - p < 16 ? _mm_loadu_si128((const __m128i*)tail) : _mm_loadu_si128((const __m128i*)(row + p));
    const __m512i bytes = _mm512_cvtepu8_epi32(packed);
    if (width - p >= 16 && _mm512_test_epi32_mask(bytes, bytes) == 0) {
      /* sixteen zero bytes: no entry, whatever the scale (as the wasm kernel skips them; its last bytes go one at a time) */
      lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
      continue;
    }
    /* bytesToFloats' conversion (exact) and product (one rounding) */
    const __m512 v = mul_in_order(_mm512_cvtepi32_ps(bytes), factor);
    const __mmask16 kept = _mm512_mask_cmp_ps_mask(inside, v, zero, _CMP_NEQ_UQ);
    const __mmask16 written = first_lanes((uint32_t)__builtin_popcount(kept));
    _mm512_mask_storeu_ps(values + e, written, _mm512_maskz_compress_ps(kept, v));
    _mm512_mask_storeu_epi32(indices + e, written, _mm512_maskz_compress_epi32(kept, lanes));
    e += (uint32_t)__builtin_popcount(kept);
    lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
  }
  return e;
}

/*
 * gemm's tiles: 6 rows × 64 columns (24 vectors of sums) where cols is a multiple of 64, then 4
 * rows × 64, 32 and 16 columns, then single rows; the last vector masked.
 */
AVX512 static inline __attribute__((always_inline)) void gemm_tile(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c, size_t cRow, uint32_t rows,
                             uint32_t vectors, __mmask16 lanes, uint32_t depth, int accumulate, float scale) {
  /* rows ≤ 6 and vectors ≤ 4: the compiler keeps the used accumulators in registers; `lanes` are the last vector's */
  __m512 sums[6][4];
  for (uint32_t r = 0; r < 6; r++) sums[r][0] = sums[r][1] = sums[r][2] = sums[r][3] = _mm512_setzero_ps();
  for (uint32_t t = 0; t < depth; t++) {
    const float* bt = b + t * bRow;
    __m512 bv[4];
    for (uint32_t v = 0; v < vectors; v++) bv[v] = _mm512_maskz_loadu_ps(v + 1 == vectors ? lanes : 0xFFFF, bt + 16 * v);
    for (uint32_t r = 0; r < rows; r++) {
      const __m512 s = _mm512_set1_ps(a[r * aRow + t * aStep]);
      for (uint32_t v = 0; v < vectors; v++) sums[r][v] = _mm512_fmadd_ps(s, bv[v], sums[r][v]);
    }
  }
  const __m512 factor = _mm512_set1_ps(scale);
  /* Unrolled in full, so that the sums are read from registers: left as loops (24 sums with their
     accumulate branch are past the compiler's own limit), they were stored to the stack at every
     step t, and the 6x4 tile's [60x128]·[128x128] took 26.7 µs instead of 9.1 on a Zen 5. */
#pragma GCC unroll 6
  for (uint32_t r = 0; r < rows; r++) {
#pragma GCC unroll 4
    for (uint32_t v = 0; v < vectors; v++) {
      const __mmask16 kept = v + 1 == vectors ? lanes : 0xFFFF;
      float* o = c + r * cRow + v * 16;
      _mm512_mask_storeu_ps(o, kept, accumulate ? add_in_order(_mm512_maskz_loadu_ps(kept, o), mul_in_order(factor, sums[r][v])) : sums[r][v]);
    }
  }
}

/* The tile for constant rows and vectors, so that its loops unroll and its sums stay in registers. */
#define GEMM_TILE(ROWS, VECTORS)                                                                                       \
  AVX512 static void gemm_tile_##ROWS##x##VECTORS(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c, \
                                                    size_t cRow, __mmask16 lanes, uint32_t depth, int accumulate, float scale) { \
    gemm_tile(a, aRow, aStep, b, bRow, c, cRow, ROWS, VECTORS, lanes, depth, accumulate, scale);                      \
  }
GEMM_TILE(6, 4)
GEMM_TILE(4, 4)
GEMM_TILE(4, 2)
GEMM_TILE(4, 1)
GEMM_TILE(1, 2)
GEMM_TILE(1, 1)


AVX512 static void gemm_in_tiles(const gemm_factors_t* f, int accumulate, float scale) {
  const float *a = f->a, *b = f->b;
  float* c = f->c;
  const uint32_t rows = f->rows, cols = f->cols, depth = f->depth;
  const size_t aRow = f->aRow, aStep = f->aStep, bRow = f->bRow, cRow = f->cRow;
  uint32_t i = 0;
  for (; i + 6 <= rows && cols % 64 == 0; i += 6)
    for (uint32_t j = 0; j < cols; j += 64) gemm_tile_6x4(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, 0xFFFF, depth, accumulate, scale);
  for (; i + 4 <= rows; i += 4) {
    uint32_t j = 0;
    for (; j + 48 < cols; j += 64) gemm_tile_4x4(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j - 48), depth, accumulate, scale);
    for (; j + 16 < cols; j += 32) gemm_tile_4x2(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j - 16), depth, accumulate, scale);
    if (j < cols) gemm_tile_4x1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j), depth, accumulate, scale);
  }
  for (; i < rows; i++) {
    uint32_t j = 0;
    for (; j + 16 < cols; j += 32) gemm_tile_1x2(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j - 16), depth, accumulate, scale);
    if (j < cols) gemm_tile_1x1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, first_lanes(cols - j), depth, accumulate, scale);
  }
}

/*
 * Sixteen outputs (p .. p + 15 of w, laid out in fours) for each of `rows` consecutive rows of a:
 * four vectors of lane sums a row, their chunks in order. Four rows keep 16 sums in flight, enough
 * to hide the multiply-add's latency (two rows' 8 just fill it).
 */
AVX512 static inline __attribute__((always_inline)) void dot_rows(const float* a, const float* w, uint32_t n, float* out, uint32_t k, const float* mask,
                                                                   uint32_t rows) {
  const size_t g = 4 * (size_t)n;
  __m512 sums[4][4];
  for (uint32_t r = 0; r < rows; r++) sums[r][0] = sums[r][1] = sums[r][2] = sums[r][3] = _mm512_setzero_ps();
  for (uint32_t c = 0; c < n / 4; c++) {
    __m512 x[4];
    for (uint32_t r = 0; r < rows; r++) x[r] = _mm512_broadcast_f32x4(_mm_loadu_ps(a + (size_t)r * n + 4 * c));
    const float* wc = w + 16 * c;
    for (uint32_t q = 0; q < 4; q++) {
      const __m512 v = _mm512_loadu_ps(wc + q * g);
      for (uint32_t r = 0; r < rows; r++) sums[r][q] = _mm512_fmadd_ps(x[r], v, sums[r][q]);
    }
  }
#pragma GCC unroll 4 /* as gemm_tile's: the sums read from registers, not stored at every chunk */
  for (uint32_t r = 0; r < rows; r++) {
    const __m512 outputs = fold_lane_sums(sums[r][0], sums[r][1], sums[r][2], sums[r][3]);
    float* o = out + (size_t)r * k;
    if (mask) {
      const __mmask16 kept = _mm512_cmp_ps_mask(_mm512_loadu_ps(mask + (size_t)r * k), _mm512_setzero_ps(), _CMP_GT_OQ);
      _mm512_storeu_ps(o, _mm512_maskz_mov_ps(kept, outputs));
    } else {
      _mm512_storeu_ps(o, outputs);
    }
  }
}
AVX512 static void dot_rows_4(const float* a, const float* w, uint32_t n, float* out, uint32_t k, const float* mask) { dot_rows(a, w, n, out, k, mask, 4); }
AVX512 static void dot_rows_2(const float* a, const float* w, uint32_t n, float* out, uint32_t k, const float* mask) { dot_rows(a, w, n, out, k, mask, 2); }


/* dY·Wᵀ: sixteen rows of b at a time laid out, for every row of a (b whole, 64 kB for 128×128, does not fit L1). */
AVX512 static void transpose_b_in_blocks(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, const float* mask, float* laid) {
  for (uint32_t p = 0; p < k; p += 16) {
    lay_out_sixteen_rows(laid, b + (size_t)p * n, n);
    uint32_t i = 0;
    for (; i + 4 <= m; i += 4) dot_rows_4(a + (size_t)i * n, laid, n, out + (size_t)i * k + p, k, mask ? mask + (size_t)i * k + p : NULL);
    for (; i < m; i += 2) dot_rows_2(a + (size_t)i * n, laid, n, out + (size_t)i * k + p, k, mask ? mask + (size_t)i * k + p : NULL);
  }
}

const product_kernels_t avx512_products = {
    .vectors = "avx512f",
    .sum_scaled_rows = sum_scaled_rows,
    .pack_nonzeros = pack_nonzeros,
    .pack_column_nonzeros = pack_column_nonzeros,
    .pack_byte_row = pack_byte_row,
    .gemm = gemm_in_tiles,
    .transpose_b = transpose_b_in_blocks,
    .rescaled = &avx512_rescaled,
};
