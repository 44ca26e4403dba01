/*
 * group-norm.c's kernels in 256-bit AVX2 vectors with FMA: group-norm-avx512.c's operations group
 * for group, so the same bits. Eight instances (a block) go at once: vector q of a block holds
 * instances 2q and 2q + 1, one per 128-bit half (groups of 4: the block's floats as they lie;
 * multiples of 16: the two instances' f32x4 vectors side by side, a 128-bit load each), so each
 * half sums exactly its wasm vector's floats in their order; the fold is sumLanes4's shuffles, 256
 * bits wide, and leaves the eight sums in one vector (instance 2q + b in lane 4b + q), whose
 * divisions and square root serve eight groups. The elementwise work (x̂, y, dx, dγ, dβ) runs on
 * the block's vectors as they lie (groups of 4: each half is one group of one row) or along each
 * instance's floats. Groups of 4 go through each phase (μ, 1/σ, x̂ and y; dx's coefficients, dx)
 * for eight blocks before the next phase, so that the blocks' chains of divisions overlap; no
 * group's arithmetic changes with the order of the blocks. Stores are whole vectors inside the
 * regions; only the last block's 1/σ, where it has fewer than eight instances, is masked (AMD's
 * masked stores are slow).
 */
#include "group-norm.h"

/*
 * The four lanes of each 128-bit half of t0 .. t3 summed as sumLanes4 sums them: half b of tq holds
 * instance 2q + b's four lane sums, and the result's lane 4b + q its total.
 */
AVX2 static inline __m256 fold4(__m256 t0, __m256 t1, __m256 t2, __m256 t3) {
  const __m256 s01 = add_in_order_256(_mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 s23 = add_in_order_256(_mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(3, 2, 3, 2)));
  return add_in_order_256(_mm256_shuffle_ps(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)), _mm256_shuffle_ps(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* A folded vector (instance 2q + b in lane 4b + q) in instance order (instance j in lane j). */
AVX2 static inline __m256 in_instance_order(__m256 folded) {
  return _mm256_permutevar8x32_ps(folded, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* A vector in instance order folded: in_instance_order's inverse. */
AVX2 static inline __m256 folded(__m256 v) {
  return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
}

/* From a folded vector: vector q's value for each of its two instances, across the instance's half. */
AVX2 static inline __m256 spread(__m256 folded, int q) {
  return _mm256_permutevar_ps(folded, _mm256_set1_epi32(q));
}

/* A call's shape: instances of s floats (4, in groups a multiple of 4 to a row; or a multiple of 16), `groups` to a row. */
typedef struct {
  size_t s;
  size_t groups;
  size_t instances; /* m·groups */
  int centered;
  __m256 count; /* s as a float, in every lane */
} shape_t;

/* The instances of the block from instance `first`: 8, or fewer in the call's last block. */
static inline size_t block_size(const shape_t* shape, size_t first) {
  return shape->instances - first < 8 ? shape->instances - first : 8;
}

/* A block's folded values (1/σ) stored in instance order from `at`: whole, or masked where the block is the call's last and short. */
AVX2 static inline void store_instances(float* at, size_t valid, __m256 v) {
  if (valid == 8)
    _mm256_storeu_ps(at, in_instance_order(v));
  else
    _mm256_maskstore_ps(at, first_lanes8((uint32_t)valid), in_instance_order(v));
}

/* A block's values stored in instance order from `at` (1/σ), folded; lanes past `valid` 0. */
AVX2 static inline __m256 load_instances(const float* at, size_t valid) {
  return folded(valid == 8 ? _mm256_loadu_ps(at) : _mm256_maskload_ps(at, first_lanes8((uint32_t)valid)));
}

/* ---- groups of 4 ---- */

/*
 * Groups of 4, a multiple of 4 to a row: a row is whole vectors of two groups (16 floats or a
 * multiple), and a block is four vectors as they lie (32 floats from float 4·first), the call's
 * last two where m·groups is not a multiple of 8. Vector q of a block is inside it where q <
 * `vectors`; past them it is the block's first (computed, never stored). A block's μ, 1/σ and x̂
 * (and its dx coefficients and dx) wait on one another through a division, a square root and two
 * divisions, so each phase runs over a chunk of CHUNK blocks before the next, and the blocks'
 * chains overlap.
 */
#define CHUNK 8

/* Vector q of a block at float `at` with `vectors` inside the rows. */
AVX2 static inline __m256 fours_vector(const float* base, size_t at, int q, size_t vectors) {
  return _mm256_loadu_ps(base + at + ((size_t)q < vectors ? 8 * (size_t)q : 0));
}

/*
 * The columns (in gamma, beta, dGamma, dBeta) of a block's four vectors from its first's `column`,
 * in rows of n floats (vectors 2p and 2p + 1 lie in one row); returns the next block's.
 */
static inline size_t fours_columns(size_t column, size_t n, size_t columns[4]) {
  for (int q = 0; q < 4; q += 2) {
    columns[q] = column;
    columns[q + 1] = column + 8;
    column += 16;
    if (column == n) column = 0;
  }
  return column;
}

/* A block's μ (folded layout): Σx/s, or 0 where not centered. */
AVX2 static inline __m256 fours_mean(const shape_t* shape, const float* x, size_t first, size_t vectors) {
  const __m256 zero = _mm256_setzero_ps();
  if (!shape->centered) return zero;
  const size_t at = 4 * first;
  const __m256 t0 = add_in_order_256(zero, fours_vector(x, at, 0, vectors)), t1 = add_in_order_256(zero, fours_vector(x, at, 1, vectors));
  const __m256 t2 = add_in_order_256(zero, fours_vector(x, at, 2, vectors)), t3 = add_in_order_256(zero, fours_vector(x, at, 3, vectors));
  return _mm256_div_ps(fold4(t0, t1, t2, t3), shape->count);
}

/* A block's 1/σ = 1/√(Σ(x − μ)²/s + eps) (folded layout), stored in invStd. */
AVX2 static inline __m256 fours_inverse_std(const shape_t* shape, const float* x, size_t first, size_t vectors, __m256 mu, __m256 epsilon, float* invStd) {
  const __m256 zero = _mm256_setzero_ps();
  const size_t at = 4 * first;
  const __m256 d0 = _mm256_sub_ps(fours_vector(x, at, 0, vectors), spread(mu, 0)), d1 = _mm256_sub_ps(fours_vector(x, at, 1, vectors), spread(mu, 1));
  const __m256 d2 = _mm256_sub_ps(fours_vector(x, at, 2, vectors), spread(mu, 2)), d3 = _mm256_sub_ps(fours_vector(x, at, 3, vectors), spread(mu, 3));
  const __m256 squares = fold4(_mm256_fmadd_ps(d0, d0, zero), _mm256_fmadd_ps(d1, d1, zero), _mm256_fmadd_ps(d2, d2, zero), _mm256_fmadd_ps(d3, d3, zero));
  const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1), _mm256_sqrt_ps(add_in_order_256(_mm256_div_ps(squares, shape->count), epsilon)));
  store_instances(invStd + first, 2 * vectors, inv);
  return inv;
}

/* A block's x̂ = (x − μ)·(1/σ) and y = γ·x̂ + β, vector by vector. */
AVX2 static inline void fours_normalize(const float* x, size_t first, size_t vectors, const size_t columns[4], __m256 mu, __m256 inv, const float* gamma,
                                        const float* beta, float* xhat, float* y) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1);
  const size_t at = 4 * first;
  for (int q = 0; (size_t)q < vectors; q++) {
    const size_t p = at + 8 * q;
    const __m256 h = mul_in_order_256(_mm256_sub_ps(_mm256_loadu_ps(x + p), spread(mu, q)), spread(inv, q));
    _mm256_storeu_ps(xhat + p, h);
    const __m256 g = gamma ? _mm256_loadu_ps(gamma + columns[q]) : one;
    const __m256 b = beta ? _mm256_loadu_ps(beta + columns[q]) : zero;
    _mm256_storeu_ps(y + p, add_in_order_256(mul_in_order_256(g, h), b));
  }
}

/*
 * `blocks` blocks from instance `first`, all of four vectors but the last, of `lastVectors` (a
 * whole chunk: CHUNK and 4, constants for the compiler), phase by phase; returns the next block's
 * first column.
 */
AVX2 static inline __attribute__((always_inline)) size_t forward_chunk(const shape_t* shape, size_t first, size_t blocks, size_t lastVectors,
                                                                      size_t column, const float* x, __m256 epsilon, const float* gamma,
                                                                      const float* beta, float* invStd, float* xhat, float* y) {
  __m256 mu[CHUNK], inv[CHUNK];
  for (size_t b = 0; b < blocks; b++) mu[b] = fours_mean(shape, x, first + 8 * b, b + 1 < blocks ? 4 : lastVectors);
  for (size_t b = 0; b < blocks; b++) inv[b] = fours_inverse_std(shape, x, first + 8 * b, b + 1 < blocks ? 4 : lastVectors, mu[b], epsilon, invStd);
  for (size_t b = 0; b < blocks; b++) {
    size_t columns[4];
    column = fours_columns(column, 4 * shape->groups, columns);
    fours_normalize(x, first + 8 * b, b + 1 < blocks ? 4 : lastVectors, columns, mu[b], inv[b], gamma, beta, xhat, y);
  }
  return column;
}

/* The forward pass: whole chunks, then the rest (m·groups is a multiple of 4: its last block has four vectors or two). */
AVX2 static void forward_fours(const shape_t* shape, const float* x, __m256 epsilon, const float* gamma, const float* beta, float* invStd, float* xhat,
                               float* y) {
  size_t first = 0, column = 0;
  for (; shape->instances - first >= 8 * CHUNK; first += 8 * CHUNK)
    column = forward_chunk(shape, first, CHUNK, 4, column, x, epsilon, gamma, beta, invStd, xhat, y);
  const size_t left = shape->instances - first;
  if (left > 0) forward_chunk(shape, first, (left + 7) / 8, left % 8 ? 2 : 4, column, x, epsilon, gamma, beta, invStd, xhat, y);
}

/*
 * One vector's g = dy·γ: its sum and Σg·x̂ from +0 (the wasm kernel's sums of a group of one vector);
 * dγ += dy·x̂ and dβ += dy where the vector is inside the rows.
 */
AVX2 static inline void fours_sums(const float* dy, const float* xhat, size_t at, int q, size_t vectors, const float* gamma, size_t column, float* dGamma,
                                   float* dBeta, __m256* sg, __m256* sgh) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 d = fours_vector(dy, at, q, vectors), h = fours_vector(xhat, at, q, vectors);
  const __m256 grad = mul_in_order_256(d, gamma ? _mm256_loadu_ps(gamma + column) : _mm256_set1_ps(1));
  *sg = add_in_order_256(zero, grad);
  *sgh = _mm256_fmadd_ps(grad, h, zero);
  if ((size_t)q < vectors) {
    if (dGamma) _mm256_storeu_ps(dGamma + column, _mm256_fmadd_ps(d, h, _mm256_loadu_ps(dGamma + column)));
    if (dBeta) _mm256_storeu_ps(dBeta + column, add_in_order_256(_mm256_loadu_ps(dBeta + column), d));
  }
}

/*
 * A block's dx coefficients (folded layout): a = 1/σ, c = −a·Σg/s (0·… where not centered) and
 * e = −a·Σg·x̂/s, with g = dy·γ, and dγ += dy·x̂, dβ += dy, as the wasm kernel adds them in its sums'
 * pass.
 */
AVX2 static inline void fours_coefficients(const shape_t* shape, const float* dy, const float* xhat, const float* invStd, const float* gamma,
                                           float* dGamma, float* dBeta, size_t first, size_t vectors, const size_t columns[4], __m256* a, __m256* c,
                                           __m256* e) {
  const size_t at = 4 * first;
  __m256 sg0, sg1, sg2, sg3, sgh0, sgh1, sgh2, sgh3;
  fours_sums(dy, xhat, at, 0, vectors, gamma, columns[0], dGamma, dBeta, &sg0, &sgh0);
  fours_sums(dy, xhat, at, 1, vectors, gamma, columns[1], dGamma, dBeta, &sg1, &sgh1);
  fours_sums(dy, xhat, at, 2, vectors, gamma, columns[2], dGamma, dBeta, &sg2, &sgh2);
  fours_sums(dy, xhat, at, 3, vectors, gamma, columns[3], dGamma, dBeta, &sg3, &sgh3);
  const __m256 sumG = shape->centered ? fold4(sg0, sg1, sg2, sg3) : _mm256_setzero_ps();
  const __m256 sumGH = fold4(sgh0, sgh1, sgh2, sgh3);
  *a = load_instances(invStd + first, 2 * vectors);
  const __m256 minusInv = negated(*a);
  *c = _mm256_div_ps(mul_in_order_256(minusInv, sumG), shape->count);
  *e = _mm256_div_ps(mul_in_order_256(minusInv, sumGH), shape->count);
}

/* A block's dx = e·x̂ + (a·g + c), vector by vector. */
AVX2 static inline void fours_input_gradient(const float* dy, const float* xhat, const float* gamma, size_t first, size_t vectors, const size_t columns[4],
                                             __m256 a, __m256 c, __m256 e, float* dx) {
  const size_t at = 4 * first;
  for (int q = 0; (size_t)q < vectors; q++) {
    const size_t p = at + 8 * q;
    const __m256 grad = mul_in_order_256(_mm256_loadu_ps(dy + p), gamma ? _mm256_loadu_ps(gamma + columns[q]) : _mm256_set1_ps(1));
    const __m256 inner = _mm256_fmadd_ps(spread(a, q), grad, spread(c, q));
    _mm256_storeu_ps(dx + p, _mm256_fmadd_ps(spread(e, q), _mm256_loadu_ps(xhat + p), inner));
  }
}

/* As forward_chunk, for the backward pass (in the rows' order: dγ and dβ add up row by row). */
AVX2 static inline __attribute__((always_inline)) size_t backward_chunk(const shape_t* shape, size_t first, size_t blocks, size_t lastVectors,
                                                                       size_t column, const float* dy, const float* xhat, const float* invStd,
                                                                       const float* gamma, float* dx, float* dGamma, float* dBeta) {
  __m256 a[CHUNK], c[CHUNK], e[CHUNK];
  size_t columns[CHUNK][4];
  for (size_t b = 0; b < blocks; b++) {
    column = fours_columns(column, 4 * shape->groups, columns[b]);
    fours_coefficients(shape, dy, xhat, invStd, gamma, dGamma, dBeta, first + 8 * b, b + 1 < blocks ? 4 : lastVectors, columns[b], &a[b], &c[b], &e[b]);
  }
  for (size_t b = 0; b < blocks; b++)
    fours_input_gradient(dy, xhat, gamma, first + 8 * b, b + 1 < blocks ? 4 : lastVectors, columns[b], a[b], c[b], e[b], dx);
  return column;
}

/* The backward pass: whole chunks, then the rest (as forward_fours). */
AVX2 static void backward_fours(const shape_t* shape, const float* dy, const float* xhat, const float* invStd, const float* gamma, float* dx,
                                float* dGamma, float* dBeta) {
  size_t first = 0, column = 0;
  for (; shape->instances - first >= 8 * CHUNK; first += 8 * CHUNK)
    column = backward_chunk(shape, first, CHUNK, 4, column, dy, xhat, invStd, gamma, dx, dGamma, dBeta);
  const size_t left = shape->instances - first;
  if (left > 0) backward_chunk(shape, first, (left + 7) / 8, left % 8 ? 2 : 4, column, dy, xhat, invStd, gamma, dx, dGamma, dBeta);
}

/* ---- groups a multiple of 16 wide ---- */

/*
 * Eight instances from `first` (fewer at the end: `valid`): each one's float offset in the rows and
 * its first column (in gamma, beta, dGamma, dBeta); entries past `valid` repeat instance `first`
 * (their results are computed and never stored).
 */
typedef struct {
  size_t first;
  size_t valid;
  size_t at[8];
  size_t column[8];
} block_t;

/* The block from instance `first`, whose group in its row is `group`; returns the group of instance first + 8. */
static inline size_t lay_out(block_t* block, const shape_t* shape, size_t first, size_t group) {
  block->first = first;
  block->valid = block_size(shape, first);
  for (size_t j = 0; j < 8; j++) {
    const int inside = j < block->valid;
    block->at[j] = (inside ? first + j : first) * shape->s;
    block->column[j] = inside ? group * shape->s : block->column[0];
    if (++group == shape->groups) group = 0;
  }
  return group;
}

/* The f32x4 vectors at floats a + k and b + k into base, side by side (a's in the low half). */
AVX2 static inline __m256 pair(const float* base, size_t a, size_t b, size_t k) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(base + a + k)), _mm_loadu_ps(base + b + k), 1);
}

/* A block's μ (folded layout): Σx/s, or 0 where not centered. */
AVX2 static inline __m256 block_mean(const shape_t* shape, const block_t* block, const float* x) {
  const __m256 zero = _mm256_setzero_ps();
  if (!shape->centered) return zero;
  const size_t* at = block->at;
  __m256 t0 = zero, t1 = zero, t2 = zero, t3 = zero;
  for (size_t k = 0; k < shape->s; k += 4) {
    t0 = add_in_order_256(t0, pair(x, at[0], at[1], k));
    t1 = add_in_order_256(t1, pair(x, at[2], at[3], k));
    t2 = add_in_order_256(t2, pair(x, at[4], at[5], k));
    t3 = add_in_order_256(t3, pair(x, at[6], at[7], k));
  }
  return _mm256_div_ps(fold4(t0, t1, t2, t3), shape->count);
}

/* A block's 1/σ = 1/√(Σ(x − μ)²/s + eps) (folded layout), stored in invStd. */
AVX2 static inline __m256 block_inverse_std(const shape_t* shape, const block_t* block, const float* x, __m256 mu, __m256 epsilon, float* invStd) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 mu0 = spread(mu, 0), mu1 = spread(mu, 1), mu2 = spread(mu, 2), mu3 = spread(mu, 3);
  const size_t* at = block->at;
  __m256 q0 = zero, q1 = zero, q2 = zero, q3 = zero;
  for (size_t k = 0; k < shape->s; k += 4) {
    const __m256 d0 = _mm256_sub_ps(pair(x, at[0], at[1], k), mu0), d1 = _mm256_sub_ps(pair(x, at[2], at[3], k), mu1);
    const __m256 d2 = _mm256_sub_ps(pair(x, at[4], at[5], k), mu2), d3 = _mm256_sub_ps(pair(x, at[6], at[7], k), mu3);
    q0 = _mm256_fmadd_ps(d0, d0, q0);
    q1 = _mm256_fmadd_ps(d1, d1, q1);
    q2 = _mm256_fmadd_ps(d2, d2, q2);
    q3 = _mm256_fmadd_ps(d3, d3, q3);
  }
  const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1), _mm256_sqrt_ps(add_in_order_256(_mm256_div_ps(fold4(q0, q1, q2, q3), shape->count), epsilon)));
  store_instances(invStd + block->first, block->valid, inv);
  return inv;
}

/* A block's x̂ = (x − μ)·(1/σ) and y = γ·x̂ + β, along each instance's floats. */
AVX2 static inline void block_normalize(const shape_t* shape, const block_t* block, const float* x, __m256 mu, __m256 inv, const float* gamma,
                                        const float* beta, float* xhat, float* y) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1);
  float muOf[8], invOf[8];
  _mm256_storeu_ps(muOf, in_instance_order(mu));
  _mm256_storeu_ps(invOf, in_instance_order(inv));
  const size_t s = shape->s;
  for (size_t j = 0; j < block->valid; j++) {
    const __m256 muV = _mm256_set1_ps(muOf[j]), invV = _mm256_set1_ps(invOf[j]);
    const size_t at = block->at[j], column = block->column[j];
    for (size_t k = 0; k < s; k += 8) {
      const __m256 h = mul_in_order_256(_mm256_sub_ps(_mm256_loadu_ps(x + at + k), muV), invV);
      _mm256_storeu_ps(xhat + at + k, h);
      const __m256 g = gamma ? _mm256_loadu_ps(gamma + column + k) : one;
      const __m256 b = beta ? _mm256_loadu_ps(beta + column + k) : zero;
      _mm256_storeu_ps(y + at + k, add_in_order_256(mul_in_order_256(g, h), b));
    }
  }
}

/* The forward pass, block by block. */
AVX2 static void forward_wide(const shape_t* shape, const float* x, __m256 epsilon, const float* gamma, const float* beta, float* invStd, float* xhat,
                              float* y) {
  block_t block;
  for (size_t first = 0, group = 0; first < shape->instances; first += 8) {
    group = lay_out(&block, shape, first, group);
    const __m256 mu = block_mean(shape, &block, x);
    const __m256 inv = block_inverse_std(shape, &block, x, mu, epsilon, invStd);
    block_normalize(shape, &block, x, mu, inv, gamma, beta, xhat, y);
  }
}

/* Instances 2q and 2q + 1 of a block, their f32x4 vectors k/4 side by side: Σg += g and Σg·x̂ += g·x̂ (g = dy·γ). */
AVX2 static inline void add_pair_sums(const block_t* block, int q, size_t k, const float* dy, const float* xhat, const float* gamma, __m256* sg,
                                      __m256* sgh) {
  const size_t* at = block->at + 2 * q;
  const size_t* column = block->column + 2 * q;
  const __m256 grad = mul_in_order_256(pair(dy, at[0], at[1], k), gamma ? pair(gamma, column[0], column[1], k) : _mm256_set1_ps(1));
  *sg = add_in_order_256(*sg, grad);
  *sgh = _mm256_fmadd_ps(grad, pair(xhat, at[0], at[1], k), *sgh);
}

/* A block's dx coefficients (folded layout): a = 1/σ, c = −a·Σg/s (0·… where not centered) and e = −a·Σg·x̂/s, with g = dy·γ. */
AVX2 static inline void block_coefficients(const shape_t* shape, const block_t* block, const float* dy, const float* xhat, const float* invStd,
                                           const float* gamma, __m256* a, __m256* c, __m256* e) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 sg0 = zero, sg1 = zero, sg2 = zero, sg3 = zero, sgh0 = zero, sgh1 = zero, sgh2 = zero, sgh3 = zero;
  for (size_t k = 0; k < shape->s; k += 4) {
    add_pair_sums(block, 0, k, dy, xhat, gamma, &sg0, &sgh0);
    add_pair_sums(block, 1, k, dy, xhat, gamma, &sg1, &sgh1);
    add_pair_sums(block, 2, k, dy, xhat, gamma, &sg2, &sgh2);
    add_pair_sums(block, 3, k, dy, xhat, gamma, &sg3, &sgh3);
  }
  const __m256 sumG = shape->centered ? fold4(sg0, sg1, sg2, sg3) : zero;
  const __m256 sumGH = fold4(sgh0, sgh1, sgh2, sgh3);
  *a = load_instances(invStd + block->first, block->valid);
  const __m256 minusInv = negated(*a);
  *c = _mm256_div_ps(mul_in_order_256(minusInv, sumG), shape->count);
  *e = _mm256_div_ps(mul_in_order_256(minusInv, sumGH), shape->count);
}

/* A block's dx = e·x̂ + (a·g + c), and dγ += dy·x̂ and dβ += dy (their columns in the rows' order), along each instance's floats. */
AVX2 static inline void block_input_gradient(const shape_t* shape, const block_t* block, const float* dy, const float* xhat, const float* gamma, __m256 a,
                                             __m256 c, __m256 e, float* dx, float* dGamma, float* dBeta) {
  const __m256 one = _mm256_set1_ps(1);
  float aOf[8], cOf[8], eOf[8];
  _mm256_storeu_ps(aOf, in_instance_order(a));
  _mm256_storeu_ps(cOf, in_instance_order(c));
  _mm256_storeu_ps(eOf, in_instance_order(e));
  const size_t s = shape->s;
  for (size_t j = 0; j < block->valid; j++) {
    const __m256 aV = _mm256_set1_ps(aOf[j]), cV = _mm256_set1_ps(cOf[j]), eV = _mm256_set1_ps(eOf[j]);
    const size_t at = block->at[j], column = block->column[j];
    for (size_t k = 0; k < s; k += 8) {
      const __m256 d = _mm256_loadu_ps(dy + at + k), h = _mm256_loadu_ps(xhat + at + k);
      const __m256 grad = mul_in_order_256(d, gamma ? _mm256_loadu_ps(gamma + column + k) : one);
      _mm256_storeu_ps(dx + at + k, _mm256_fmadd_ps(eV, h, _mm256_fmadd_ps(aV, grad, cV)));
      if (dGamma) _mm256_storeu_ps(dGamma + column + k, _mm256_fmadd_ps(d, h, _mm256_loadu_ps(dGamma + column + k)));
      if (dBeta) _mm256_storeu_ps(dBeta + column + k, add_in_order_256(_mm256_loadu_ps(dBeta + column + k), d));
    }
  }
}

/* The backward pass, block by block (in the rows' order: dγ and dβ add up row by row). */
AVX2 static void backward_wide(const shape_t* shape, const float* dy, const float* xhat, const float* invStd, const float* gamma, float* dx, float* dGamma,
                               float* dBeta) {
  block_t block;
  for (size_t first = 0, group = 0; first < shape->instances; first += 8) {
    group = lay_out(&block, shape, first, group);
    __m256 a, c, e;
    block_coefficients(shape, &block, dy, xhat, invStd, gamma, &a, &c, &e);
    block_input_gradient(shape, &block, dy, xhat, gamma, a, c, e, dx, dGamma, dBeta);
  }
}

/* ---- the kernels ---- */

/* The shape of a call whose groups group-norm.c has checked. */
AVX2 static shape_t shape_of(uint32_t m, uint32_t n, uint32_t groups, uint32_t centered) {
  const size_t s = n / groups;
  return (shape_t){.s = s, .groups = groups, .instances = (size_t)m * groups, .centered = centered != 0, .count = _mm256_set1_ps((float)s)};
}

/* The table's forward: groups of 4, or a multiple of 16 wide. */
AVX2 static void forward(const float* x, uint32_t m, uint32_t n, uint32_t groups, uint32_t centered, float eps, const float* gamma, const float* beta,
                         float* invStd, float* xhat, float* y) {
  const shape_t shape = shape_of(m, n, groups, centered);
  const __m256 epsilon = _mm256_set1_ps(eps);
  if (shape.s == 4)
    forward_fours(&shape, x, epsilon, gamma, beta, invStd, xhat, y);
  else
    forward_wide(&shape, x, epsilon, gamma, beta, invStd, xhat, y);
}

/* The table's backward, as forward. */
AVX2 static void backward(const float* dy, const float* xhat, const float* invStd, uint32_t groups, uint32_t centered, const float* gamma, uint32_t m,
                          uint32_t n, float* dx, float* dGamma, float* dBeta) {
  const shape_t shape = shape_of(m, n, groups, centered);
  if (shape.s == 4)
    backward_fours(&shape, dy, xhat, invStd, gamma, dx, dGamma, dBeta);
  else
    backward_wide(&shape, dy, xhat, invStd, gamma, dx, dGamma, dBeta);
}

const group_norm_kernels_t avx2_group_norm = {forward, backward};
