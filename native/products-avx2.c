/*
 * products.c's vector kernels in 256-bit AVX2 vectors with FMA, for CPUs without AVX-512F (most
 * x86-64 machines of the last decade): the same sequence of operations per output element as
 * products-avx512.c and the relaxed-SIMD build on FMA hardware, so the same bits. Where the
 * 512-bit kernels use mask registers and compress instructions, these use vector masks, masked
 * loads and stores, and a table of lane permutations; their tiles are sized for 16 registers.
 * The rescaled sums of the saturated networks are rescaled-avx2.c's.
 */
#include <string.h>

#include "products.h"

/*
 * out[0, n) for `count` entries (row, value): the rows are b + row·stride floats; any n. Eight
 * vectors (64 columns) are summed in registers over all entries, then single vectors, the last
 * masked.
 */
AVX2 static void sum_scaled_rows(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values, uint32_t count,
                                 enum sum_mode mode, float scale) {
  const __m256 factor = _mm256_set1_ps(scale);
  uint32_t j = 0;
  for (; j + 64 <= n; j += 64) {
    __m256 c[8];
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      const __m256 v = _mm256_set1_ps(values[0]);
      const float* r = b + rows[0] * stride + j;
      for (uint32_t q = 0; q < 8; q++) c[q] = mul_in_order_256(v, _mm256_loadu_ps(r + 8 * q));
      t = 1;
    } else {
      for (uint32_t q = 0; q < 8; q++) c[q] = _mm256_setzero_ps();
    }
    for (; t < count; t++) {
      const __m256 v = _mm256_set1_ps(values[t]);
      const float* r = b + rows[t] * stride + j;
      for (uint32_t q = 0; q < 8; q++) c[q] = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8 * q), c[q]);
    }
    float* o = out + j;
    if (mode == FROM_ZERO_ADDED)
      for (uint32_t q = 0; q < 8; q++) c[q] = add_in_order_256(_mm256_loadu_ps(o + 8 * q), mul_in_order_256(factor, c[q]));
    for (uint32_t q = 0; q < 8; q++) _mm256_storeu_ps(o + 8 * q, c[q]);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 c = _mm256_setzero_ps();
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      c = mul_in_order_256(_mm256_set1_ps(values[0]), _mm256_loadu_ps(b + rows[0] * stride + j));
      t = 1;
    }
    for (; t < count; t++) c = _mm256_fmadd_ps(_mm256_set1_ps(values[t]), _mm256_loadu_ps(b + rows[t] * stride + j), c);
    if (mode == FROM_ZERO_ADDED) c = add_in_order_256(_mm256_loadu_ps(out + j), mul_in_order_256(factor, c));
    _mm256_storeu_ps(out + j, c);
  }
  if (j < n) {
    /* The last, partial vector: its columns from n & ~3 on are summed unfused, as the wasm kernels' scalar columns are (products-avx512.c). */
    const __m256i inside = first_lanes8(n - j);
    const __m256 separate = _mm256_andnot_ps(_mm256_castsi256_ps(first_lanes8((n & ~3u) - j)), _mm256_castsi256_ps(inside));
    __m256 c = _mm256_setzero_ps();
    uint32_t t = 0;
    if (mode == FIRST_PRODUCT && count > 0) {
      c = mul_in_order_256(_mm256_set1_ps(values[0]), _mm256_maskload_ps(b + rows[0] * stride + j, inside));
      t = 1;
    }
    for (; t < count; t++) {
      const __m256 v = _mm256_set1_ps(values[t]), r = _mm256_maskload_ps(b + rows[t] * stride + j, inside);
      c = _mm256_blendv_ps(_mm256_fmadd_ps(v, r, c), add_in_order_256(c, mul_in_order_256(v, r)), separate);
    }
    if (mode == FROM_ZERO_ADDED) c = add_in_order_256(_mm256_maskload_ps(out + j, inside), mul_in_order_256(factor, c));
    _mm256_maskstore_ps(out + j, inside, c);
  }
}

/*
 * Packs one vector's kept lanes (of the `inside` lanes, those whose value is not ±0; NaN counts)
 * at rows and values, where `room` slots may be written: all 8 lanes stored where they fit (a
 * masked store is slow on AMD's cores: the batch draw took 1.9× the wasm kernel's time with one
 * per half-vector), else only the kept ones. Their count.
 */
AVX2 static inline uint32_t pack_vector(__m256 v, __m256i inside, __m256i lanes, uint32_t* rows, float* values, uint32_t room) {
  const __m256 nonzero = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ);
  const uint32_t kept = (uint32_t)_mm256_movemask_ps(_mm256_and_ps(nonzero, _mm256_castsi256_ps(inside)));
  const uint32_t count = (uint32_t)__builtin_popcount(kept);
  const __m256i order = compress_order(kept);
  const __m256 packedValues = _mm256_permutevar8x32_ps(v, order);
  const __m256i packedRows = _mm256_permutevar8x32_epi32(lanes, order);
  if (room >= 8) {
    _mm256_storeu_ps(values, packedValues);
    _mm256_storeu_si256((__m256i*)rows, packedRows);
  } else {
    const __m256i written = first_lanes8(count);
    _mm256_maskstore_ps(values, written, packedValues);
    _mm256_maskstore_epi32((int*)rows, written, packedRows);
  }
  return count;
}

/* The nonzeros (NaN counts) of a row of `count` floats, as (index, value) in index order, eight at a time without a branch per float. */
AVX2 static uint32_t pack_nonzeros(const float* a, uint32_t count, uint32_t* rows, float* values) {
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  uint32_t e = 0;
  for (uint32_t p = 0; p < count; p += 8) {
    const __m256i inside = first_lanes8(count - p);
    e += pack_vector(_mm256_maskload_ps(a + p, inside), inside, lanes, rows + e, values + e, count + 16 - e);
    lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32(8));
  }
  return e;
}

/* As pack_nonzeros for a column: the `count` floats `step` floats apart, gathered eight at a time. */
AVX2 static uint32_t pack_column_nonzeros(const float* a, uint32_t count, uint32_t step, uint32_t* rows, float* values) {
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i offsets = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int)step));
  uint32_t e = 0;
  for (uint32_t p = 0; p < count; p += 8) {
    const __m256i inside = first_lanes8(count - p);
    const __m256 v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), a + (size_t)p * step, offsets, _mm256_castsi256_ps(inside), 4);
    e += pack_vector(v, inside, lanes, rows + e, values + e, count + 16 - e);
    lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32(8));
  }
  return e;
}

/*
 * The nonzeros of one row of `width` bytes as (column, f32(byte)·scale) entries, in column order,
 * sixteen bytes at a time as the wasm kernel takes them (sixteen zero bytes together make no entry,
 * whatever the scale: products-avx512.c), each half of eight packed as pack_nonzeros packs floats,
 * within the `room` slots the region has.
 */
AVX2 static uint32_t pack_byte_row(const uint8_t* row, uint32_t width, float scale, uint32_t* indices, float* values, uint32_t room) {
  const __m256 factor = _mm256_set1_ps(scale);
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  uint32_t e = 0;
  for (uint32_t p = 0; p < width; p += 16) {
    uint8_t tail[16] = {0};
    if (width - p < 16) memcpy(tail, row + p, width - p); /* not a byte past the row */
    const __m128i packed = _mm_loadu_si128((const __m128i*)(width - p < 16 ? tail : row + p));
    if (width - p >= 16 && _mm_testz_si128(packed, packed)) {
      lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32(16));
      continue;
    }
    for (uint32_t half = 0; half < 2 && p + 8 * half < width; half++) {
      const __m256i inside = first_lanes8(width - p - 8 * half);
      const __m256i bytes = _mm256_cvtepu8_epi32(half ? _mm_srli_si128(packed, 8) : packed);
      /* bytesToFloats' conversion (exact) and product (one rounding) */
      const __m256 v = mul_in_order_256(_mm256_cvtepi32_ps(bytes), factor);
      e += pack_vector(v, inside, lanes, indices + e, values + e, room - e);
      lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32(8));
    }
  }
  return e;
}

/* One step t of a gemm tile: each row's a[r, t] times B's row t (`bv`), added to the row's sums. */
AVX2 static inline __attribute__((always_inline)) void gemm_step(__m256 sums[6][2], const float* at, size_t aRow, const __m256 bv[2], uint32_t rows,
                                                                  uint32_t vectors) {
  for (uint32_t r = 0; r < rows; r++) {
    const __m256 s = _mm256_set1_ps(at[r * aRow]);
    for (uint32_t v = 0; v < vectors; v++) sums[r][v] = _mm256_fmadd_ps(s, bv[v], sums[r][v]);
  }
}

/*
 * A tile of gemm: `rows` (≤ 6) rows × `vectors` (≤ 2) vectors of sums in registers (12 of the 16),
 * each element summed from +0 over t in order with one fused multiply-add; the last vector masked
 * by `lanes` where `masked`. A masked vector of B is read whole in its first `wholeReads` steps,
 * where that stays inside B (the next row's floats; its extra lanes sum values never stored), and
 * masked only after: with a masked load at every step, the output layer's 10 columns took 2.5-2.8×
 * the time of 16 on a Zen 3 (9-10 µs against 3-4 for [60x128]·[128x10]), the same with it now.
 */
AVX2 static inline __attribute__((always_inline)) void gemm_tile(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c,
                                                                  size_t cRow, uint32_t rows, uint32_t vectors, int masked, __m256i lanes,
                                                                  uint32_t depth, uint32_t wholeReads, int accumulate, float scale) {
  __m256 sums[6][2];
  for (uint32_t r = 0; r < 6; r++) sums[r][0] = sums[r][1] = _mm256_setzero_ps();
  /* Two loops, so that neither chooses its load per step (which made the compiler keep the sums in memory too). */
  uint32_t t = 0;
  for (; t < (masked ? wholeReads : depth); t++) {
    __m256 bv[2];
    for (uint32_t v = 0; v < vectors; v++) bv[v] = _mm256_loadu_ps(b + t * bRow + 8 * v);
    gemm_step(sums, a + t * aStep, aRow, bv, rows, vectors);
  }
  for (; t < depth; t++) {
    __m256 bv[2];
    for (uint32_t v = 0; v < vectors; v++) bv[v] = v + 1 == vectors ? _mm256_maskload_ps(b + t * bRow + 8 * v, lanes) : _mm256_loadu_ps(b + t * bRow + 8 * v);
    gemm_step(sums, a + t * aStep, aRow, bv, rows, vectors);
  }
  const __m256 factor = _mm256_set1_ps(scale);
  for (uint32_t r = 0; r < rows; r++) {
    for (uint32_t v = 0; v < vectors; v++) {
      float* o = c + r * cRow + v * 8;
      const int partial = masked && v + 1 == vectors;
      __m256 result = sums[r][v];
      if (accumulate) result = add_in_order_256(partial ? _mm256_maskload_ps(o, lanes) : _mm256_loadu_ps(o), mul_in_order_256(factor, result));
      if (partial) _mm256_maskstore_ps(o, lanes, result);
      else _mm256_storeu_ps(o, result);
    }
  }
}

/* The tile for constant rows, vectors and masking, so that its loops unroll and its sums stay in registers. */
#define GEMM_TILE(ROWS, VECTORS, MASKED)                                                                                                      \
  AVX2 static void gemm_tile_##ROWS##x##VECTORS##_##MASKED(const float* a, size_t aRow, size_t aStep, const float* b, size_t bRow, float* c, \
                                                           size_t cRow, __m256i lanes, uint32_t depth, uint32_t wholeReads, int accumulate,   \
                                                           float scale) {                                                                     \
    gemm_tile(a, aRow, aStep, b, bRow, c, cRow, ROWS, VECTORS, MASKED, lanes, depth, wholeReads, accumulate, scale);                        \
  }
GEMM_TILE(6, 2, 0)
GEMM_TILE(6, 2, 1)
GEMM_TILE(6, 1, 1)
GEMM_TILE(1, 2, 0)
GEMM_TILE(1, 2, 1)
GEMM_TILE(1, 1, 1)

/*
 * How many steps of B's masked block at column j (`vectors` wide) may be read whole: those whose
 * whole vectors end within B ((depth − 1)·bRow + cols floats, as gemm_factors checked it).
 */
static uint32_t whole_reads(uint32_t j, uint32_t vectors, uint32_t cols, size_t bRow, uint32_t depth) {
  const size_t over = (size_t)j + 8 * vectors - cols; /* floats a whole read reaches past row t's columns */
  if (bRow == 0) return 0;
  const size_t rowsAfter = (over + bRow - 1) / bRow; /* rows of B that must follow row t */
  return rowsAfter >= depth ? 0 : depth - (uint32_t)rowsAfter;
}

/*
 * gemm in tiles of 6 rows × 16 columns, then single rows; a block of 16 columns of B (depth·64
 * bytes) serves every row tile while it is in L1. The columns past the last multiple of 16 take
 * a masked tile.
 */
AVX2 static void gemm_in_tiles(const gemm_factors_t* f, int accumulate, float scale) {
  const float *a = f->a, *b = f->b;
  float* c = f->c;
  const uint32_t rows = f->rows, cols = f->cols, depth = f->depth;
  const size_t aRow = f->aRow, aStep = f->aStep, bRow = f->bRow, cRow = f->cRow;
  const __m256i all = _mm256_set1_epi32(-1);
  uint32_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    uint32_t i = 0;
    for (; i + 6 <= rows; i += 6) gemm_tile_6x2_0(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, all, depth, depth, accumulate, scale);
    for (; i < rows; i++) gemm_tile_1x2_0(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, all, depth, depth, accumulate, scale);
  }
  if (j < cols) {
    const uint32_t left = cols - j;
    uint32_t i = 0;
    if (left > 8) {
      const __m256i lanes = first_lanes8(left - 8);
      const uint32_t whole = whole_reads(j, 2, cols, bRow, depth);
      for (; i + 6 <= rows; i += 6) gemm_tile_6x2_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, lanes, depth, whole, accumulate, scale);
      for (; i < rows; i++) gemm_tile_1x2_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, lanes, depth, whole, accumulate, scale);
    } else {
      const __m256i lanes = first_lanes8(left);
      const uint32_t whole = whole_reads(j, 1, cols, bRow, depth);
      for (; i + 6 <= rows; i += 6) gemm_tile_6x1_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, lanes, depth, whole, accumulate, scale);
      for (; i < rows; i++) gemm_tile_1x1_1(a + i * aRow, aRow, aStep, b + j, bRow, c + i * cRow + j, cRow, lanes, depth, whole, accumulate, scale);
    }
  }
}

/*
 * Eight outputs (four laid-out pairs of b's rows) for two rows of a: eight vectors of lane sums
 * over the chunks in order, in registers (named, not an array, which the compiler kept in memory).
 */
AVX2 static void dot_two_rows(const float* a, const float* laid, uint32_t n, float* out, uint32_t k, const float* mask) {
  const size_t g = 2 * (size_t)n;
  __m256 s00 = _mm256_setzero_ps(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
  for (uint32_t c = 0; c < n / 4; c++) {
    const __m256 x0 = _mm256_broadcast_ps((const __m128*)(a + 4 * c)), x1 = _mm256_broadcast_ps((const __m128*)(a + n + 4 * c));
    const float* lc = laid + 8 * c;
    const __m256 v0 = _mm256_loadu_ps(lc), v1 = _mm256_loadu_ps(lc + g), v2 = _mm256_loadu_ps(lc + 2 * g), v3 = _mm256_loadu_ps(lc + 3 * g);
    s00 = _mm256_fmadd_ps(x0, v0, s00);
    s10 = _mm256_fmadd_ps(x1, v0, s10);
    s01 = _mm256_fmadd_ps(x0, v1, s01);
    s11 = _mm256_fmadd_ps(x1, v1, s11);
    s02 = _mm256_fmadd_ps(x0, v2, s02);
    s12 = _mm256_fmadd_ps(x1, v2, s12);
    s03 = _mm256_fmadd_ps(x0, v3, s03);
    s13 = _mm256_fmadd_ps(x1, v3, s13);
  }
  _mm256_storeu_ps(out, fold_pair_sums(s00, s01, s02, s03, mask));
  _mm256_storeu_ps(out + k, fold_pair_sums(s10, s11, s12, s13, mask ? mask + k : NULL));
}

/* dY·Wᵀ: sixteen rows of b at a time laid out, each half of them (eight outputs) for every pair of rows of a while it is in L1. */
AVX2 static void transpose_b_in_blocks(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, const float* mask, float* laid) {
  for (uint32_t p = 0; p < k; p += 16) {
    lay_out_row_pairs(laid, b + (size_t)p * n, n);
    for (uint32_t h = 0; h < 16; h += 8)
      for (uint32_t i = 0; i < m; i += 2)
        dot_two_rows(a + (size_t)i * n, laid + (size_t)h * n, n, out + (size_t)i * k + p + h, k, mask ? mask + (size_t)i * k + p + h : NULL);
  }
}

const product_kernels_t avx2_products = {
    .vectors = "avx2",
    .sum_scaled_rows = sum_scaled_rows,
    .pack_nonzeros = pack_nonzeros,
    .pack_column_nonzeros = pack_column_nonzeros,
    .pack_byte_row = pack_byte_row,
    .gemm = gemm_in_tiles,
    .transpose_b = transpose_b_in_blocks,
    .rescaled = &avx2_rescaled,
};
