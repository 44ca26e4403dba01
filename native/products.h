/*
 * What products.c, its vector kernels (products-avx512.c, products-avx2.c) and
 * rescaled-products.c share: the kernels' table, the 512-bit dY·Wᵀ's layout of W four rows side by
 * side and the fold of its lane sums (dot-matmul.ts' order), and the rescaled sums of the sparse
 * xᵀ·dY.
 */
#ifndef BNLAB_NATIVE_PRODUCTS_H
#define BNLAB_NATIVE_PRODUCTS_H

#include "native-call.h"

/*
 * laid[(r/4)·4n + 16c + 4(r%4) + l] = b[r, 4c + l] for the sixteen rows r of b[16,n] (n a multiple
 * of 4): rows r..r+3's floats 4c..4c+3 side by side. Sixteen rows at a time (8 kB for n = 128),
 * each block used by every row of the other factor while it is in L1.
 */
AVX512 static inline void lay_out_sixteen_rows(float* laid, const float* b, uint32_t n) {
  for (uint32_t r = 0; r < 16; r++)
    for (uint32_t c = 0; c < n / 4; c++) _mm_storeu_ps(laid + (size_t)(r / 4) * 4 * n + 16 * c + 4 * (r % 4), _mm_loadu_ps(b + (size_t)r * n + 4 * c));
}

/*
 * Sixteen outputs from four vectors of lane sums over laid-out rows (vector q: outputs 4q..4q+3,
 * four lane sums each), each folded as (l0 + l2) + (l1 + l3), sumLanes4's order.
 */
AVX512 static inline __m512 fold_lane_sums(__m512 s0, __m512 s1, __m512 s2, __m512 s3) {
  const __m512 sums[4] = {s0, s1, s2, s3};
  __m512 folded[4];
  for (uint32_t q = 0; q < 4; q++) {
    const __m512 pairs = add_in_order(sums[q], _mm512_permute_ps(sums[q], _MM_SHUFFLE(1, 0, 3, 2))); /* l0 + l2, l1 + l3 */
    folded[q] = add_in_order(pairs, _mm512_permute_ps(pairs, _MM_SHUFFLE(2, 3, 0, 1)));            /* lane 4r: output 4q + r */
  }
  /* lanes 0, 4, 8, 12 of each folded vector, in order */
  const __m512i firsts = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
  const __m512 low = _mm512_permutex2var_ps(folded[0], firsts, folded[1]), high = _mm512_permutex2var_ps(folded[2], firsts, folded[3]);
  return _mm512_shuffle_f32x4(low, high, _MM_SHUFFLE(1, 0, 1, 0));
}

/*
 * dY·Wᵀ's layout of sixteen rows of b[16,n] for 256-bit vectors: rows 2g and 2g + 1's floats
 * 4c..4c+3 side by side, laid[2n·g + 8c + 4(r%2) + l] = b[r, 4c + l] for g = r/2 (16·n floats).
 */
AVX2 static inline void lay_out_row_pairs(float* laid, const float* b, uint32_t n) {
  for (uint32_t r = 0; r < 16; r++)
    for (uint32_t c = 0; c < n / 4; c++) _mm_storeu_ps(laid + (size_t)(r / 2) * 2 * n + 8 * c + 4 * (r % 2), _mm_loadu_ps(b + (size_t)r * n + 4 * c));
}

/*
 * Eight outputs from four vectors of lane sums over laid-out pairs of rows (vector q: outputs 2q
 * and 2q + 1, four lane sums each), each folded as (l0 + l2) + (l1 + l3), dot-matmul.ts'
 * sumLanes4 order; +0 where mask ≤ 0 or NaN, when there is a mask.
 */
AVX2 static inline __m256 fold_pair_sums(__m256 s0, __m256 s1, __m256 s2, __m256 s3, const float* mask) {
  const __m256 sums[4] = {s0, s1, s2, s3};
  __m256 folded[4];
  for (uint32_t q = 0; q < 4; q++) {
    const __m256 pairs = add_in_order_256(sums[q], _mm256_permute_ps(sums[q], _MM_SHUFFLE(1, 0, 3, 2))); /* l0 + l2, l1 + l3 */
    folded[q] = add_in_order_256(pairs, _mm256_permute_ps(pairs, _MM_SHUFFLE(2, 3, 0, 1)));             /* lanes 0 and 4: outputs 2q, 2q + 1 */
  }
  /* lanes 0 and 4 of each folded vector, in order */
  const __m256 firsts = _mm256_shuffle_ps(_mm256_unpacklo_ps(folded[0], folded[1]), _mm256_unpacklo_ps(folded[2], folded[3]), _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 outputs = _mm256_permutevar8x32_ps(firsts, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return mask ? _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(mask), _mm256_setzero_ps(), _CMP_GT_OQ), outputs) : outputs;
}

/*
 * Where cols (≥ 4) is not a multiple of 4, the wasm gemm kernels' last tile overlaps the one before
 * it and, accumulating, adds +0 to the overlapped elements (−0 becomes +0): done after them.
 */
static inline void add_zero_where_overlapped(float* c, size_t cRow, uint32_t rows, uint32_t cols) {
  if (cols % 4 != 0)
    for (uint32_t r = 0; r < rows; r++)
      for (uint32_t j = cols - 4; j < cols - cols % 4; j++) c[r * cRow + j] = c[r * cRow + j] + 0.0f;
}

/* A gemm call's factors (arguments 1-10: a, aRowStride, aStep, b, bRowStride, c, cRowStride in bytes, rows, cols, depth), strides in floats. */
typedef struct {
  const float *a, *b;
  float* c;
  size_t aRow, aStep, bRow, cRow;
  uint32_t rows, cols, depth;
} gemm_factors_t;

/* Reads and checks them: strides whole floats, every element reached inside the memory; 0 (and a throw) if not. With no rows or columns nothing is read. */
int gemm_factors(call_t* call, gemm_factors_t* f);

/* How a sparse product's sums start and are stored. */
enum sum_mode {
  FIRST_PRODUCT = 0, /* sumScaledRows: out = v0·b[row0], then out = fma(v, b[row], out) */
  FROM_ZERO = 1,     /* addScaledRowsInRegisters, overwrite: sum from +0, out = sum */
  FROM_ZERO_ADDED = 2 /* addScaledRowsInRegisters: sum from +0, out = out + scale·sum */
};

/*
 * The vector kernels behind products.c's calls, one table per instruction set (products-avx512.c,
 * products-avx2.c): products.c reads and checks a call's arguments, these compute, each with the
 * same bits in either set.
 */
typedef struct {
  const char* vectors; /* the instruction set, "avx512f" or "avx2", as the addon reports it */
  /* out[0, n) from `count` entries (row, value) of rows b + row·stride, as `mode` says; any n */
  void (*sum_scaled_rows)(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values, uint32_t count,
                          enum sum_mode mode, float scale);
  /* a row's nonzeros (NaN counts) as (index, value) in index order; rows and values need count + 16 slots */
  uint32_t (*pack_nonzeros)(const float* a, uint32_t count, uint32_t* rows, float* values);
  /* the same for the `count` floats of a column, `step` floats apart */
  uint32_t (*pack_column_nonzeros)(const float* a, uint32_t count, uint32_t step, uint32_t* rows, float* values);
  /* a row of bytes as its nonzeros f32(byte)·scale; `room` (≥ width) entries may be written, not a slot past their count beyond that */
  uint32_t (*pack_byte_row)(const uint8_t* row, uint32_t width, float scale, uint32_t* indices, float* values, uint32_t room);
  /* gemm on checked factors (rows and cols nonzero, cols ≥ 4), before add_zero_where_overlapped */
  void (*gemm)(const gemm_factors_t* f, int accumulate, float scale);
  /* out[m,k] = a[m,n]·b[k,n]ᵀ, masked where mask is not NULL; m even, n a multiple of 4, k of 16; laid holds 16·n floats */
  void (*transpose_b)(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, const float* mask, float* laid);
  /* the rescaled products (rescaled-products.c) */
  const struct rescaled_kernels* rescaled;
} product_kernels_t;

/*
 * The rescaled products' kernels (rescaled-avx512.c, rescaled-avx2.c): factors given as a·2^ea and
 * b·2^eb (unscaleA = 2^−ea, unscaleB = 2^−eb, checked by unscales_ok), their sums stepped as
 * assembly/rescaled-sums.ts steps them.
 */
typedef struct rescaled_kernels {
  /* gemmAddRescaled on checked factors (rows nonzero, cols ≥ 4), before add_zero_where_overlapped */
  void (*gemm_add)(const gemm_factors_t* f, float scale, float unscaleA, float unscaleB);
  /* matmulTransposeBRescaled (m even, n a multiple of 4, k of 16; laid holds 16·n floats): 1 where a sum overflowed scaled up */
  int (*transpose_b)(const float* a, const float* b, float* out, uint32_t m, uint32_t n, uint32_t k, float unscaleA, float* laid);
  /*
   * out[0, n) += scale·Σ_t values[t]·b[rows[t]·stride …] for b given as b·2^E (unscaleB = 2^−E, a
   * power of two from 2^−23 to 2^−126), as sparse-rows.ts' addScaledRowsRescaled sums it; any n.
   */
  void (*add_scaled_rows)(float* out, const float* b, uint32_t n, size_t stride, const uint32_t* rows, const float* values, uint32_t count,
                          float scale, float unscaleB);
} rescaled_kernels_t;

extern const product_kernels_t avx512_products, avx2_products;
extern const rescaled_kernels_t avx512_rescaled, avx2_rescaled;

/* products.c's and rescaled-products.c's exports, computed by `kernels`. */
void register_products(napi_env env, napi_value exports, const product_kernels_t* kernels);
void register_rescaled_products(napi_env env, napi_value exports, const product_kernels_t* kernels);

/* Whether unscaleA·unscaleB is 2^−E with E from 23 to 126, each a power of two at most 1 (the rescaled kernels' grid); if not, fails the call. */
int unscales_ok(call_t* call, float unscaleA, float unscaleB);

#endif
