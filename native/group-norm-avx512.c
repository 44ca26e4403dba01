/*
 * group-norm.c's kernels in 512-bit AVX-512 vectors (group-norm-avx2.c has the same in 256-bit
 * ones). Sixteen instances (a block) go at once: vector q of a block holds instances 4q .. 4q + 3,
 * one per 128-bit quarter (groups of 4: the block's floats as they lie; multiples of 16: four
 * instances' vectors transposed by quarters), so each quarter sums exactly its wasm vector's floats
 * in their order; the fold is sumLanes4's shuffles, 512 bits wide, and leaves the sixteen sums in
 * one vector (instance 4q + b in lane 4b + q), whose divisions and square root serve sixteen
 * groups. The elementwise work (x̂, y, dx, dγ, dβ) runs on the block's vectors as they lie (groups
 * of 4: each quarter is one group of one row) or along each instance's floats.
 */
#include "group-norm.h"

/*
 * The four lanes of each 128-bit quarter of t0 .. t3 summed as sumLanes4 sums them: quarter b of tq
 * holds instance 4q + b's four lane sums, and the result's lane 4b + q its total.
 */
AVX512 static inline __m512 fold4(__m512 t0, __m512 t1, __m512 t2, __m512 t3) {
  const __m512 s01 = add_in_order(_mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 s23 = add_in_order(_mm512_shuffle_ps(t2, t3, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(t2, t3, _MM_SHUFFLE(3, 2, 3, 2)));
  return add_in_order(_mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
}

/*
 * A folded vector (instance 4q + b in lane 4b + q) in instance order (instance j in lane j), and
 * back: the permutation is its own inverse.
 */
AVX512 static inline __m512 transpose_lanes(__m512 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
}

/* From a folded vector: vector q's value for each of its four instances, across the instance's quarter. */
AVX512 static inline __m512 spread(__m512 folded, int q) {
  return _mm512_permutevar_ps(folded, _mm512_set1_epi32(q));
}

/* −v: the sign bit flipped, as f32x4.neg does (NaNs too). */
AVX512 static inline __m512 negate(__m512 v) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
}

/* The 4×4 transpose of 128-bit quarters: t[r] holds quarter r of v0, v1, v2 and v3, in that order. */
AVX512 static inline void transpose_quarters(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 t[4]) {
  const __m512 p = _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(1, 0, 1, 0)), q = _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(3, 2, 3, 2));
  const __m512 r = _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(1, 0, 1, 0)), s = _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(3, 2, 3, 2));
  t[0] = _mm512_shuffle_f32x4(p, r, _MM_SHUFFLE(2, 0, 2, 0));
  t[1] = _mm512_shuffle_f32x4(p, r, _MM_SHUFFLE(3, 1, 3, 1));
  t[2] = _mm512_shuffle_f32x4(q, s, _MM_SHUFFLE(2, 0, 2, 0));
  t[3] = _mm512_shuffle_f32x4(q, s, _MM_SHUFFLE(3, 1, 3, 1));
}

/* Floats k .. k + 15 of four instances (at[0..3] floats into base) as their f32x4 vectors k/4 .. k/4 + 3, each holding one quarter per instance. */
AVX512 static inline void chunks(const float* base, const size_t* at, size_t k, __m512 t[4]) {
  transpose_quarters(_mm512_loadu_ps(base + at[0] + k), _mm512_loadu_ps(base + at[1] + k), _mm512_loadu_ps(base + at[2] + k),
                     _mm512_loadu_ps(base + at[3] + k), t);
}

/* A call's shape: instances of s floats (4, in groups a multiple of 4 to a row; or a multiple of 16), `groups` to a row. */
typedef struct {
  size_t s;
  size_t groups;
  size_t instances; /* m·groups */
  int centered;
  __m512 count; /* s as a float, in every lane */
  /* Groups of 4, 4 | groups: a vector of the rows is four whole groups of one row */
  int fours;
} shape_t;

/*
 * Sixteen instances from `first` (fewer at the end: `valid`): each lane's instance's float offset in
 * the rows and its first column (in gamma, beta, dGamma, dBeta); lanes past `valid` repeat instance
 * `first` (their results are computed and never stored).
 */
typedef struct {
  size_t first;
  size_t valid;
  size_t at[16];
  size_t column[16];
} block_t;

/* The group `by` groups on from `group` in a row of `groups`, into the next rows (no division: it costs more than a block's sums). */
static inline size_t groups_on(size_t group, size_t by, size_t groups) {
  for (group += by; group >= groups;) group -= groups;
  return group;
}

/* The block from instance `first`, whose group in its row is `group`. */
static inline void lay_out(block_t* block, const shape_t* shape, size_t first, size_t group) {
  block->first = first;
  block->valid = shape->instances - first < 16 ? shape->instances - first : 16;
  if (shape->fours) { /* vector q: 16 floats from at[4q], 16 columns from column[4q] (the only lanes read) */
    for (size_t q = 0; q < 4; q++) {
      const int inside = 4 * q < block->valid;
      block->at[4 * q] = (inside ? first + 4 * q : first) * 4;
      block->column[4 * q] = inside ? 4 * groups_on(group, 4 * q, shape->groups) : block->column[0];
    }
    return;
  }
  for (size_t j = 0; j < 16; j++) {
    const int inside = j < block->valid;
    block->at[j] = (inside ? first + j : first) * shape->s;
    block->column[j] = inside ? group * shape->s : block->column[0];
    if (++group == shape->groups) group = 0;
  }
}

/* ---- forward ---- */

/* Vector q of a block of groups of 4: its four instances' floats. */
AVX512 static inline __m512 fours(const float* base, const block_t* block, int q) {
  return _mm512_loadu_ps(base + block->at[4 * q]);
}

/* A block's μ (folded layout): Σx/s, or 0 where not centered. */
AVX512 static inline __attribute__((always_inline)) __m512 block_mean(const shape_t* shape, const block_t* block, const float* x) {
  const __m512 zero = _mm512_setzero_ps();
  if (!shape->centered) return zero;
  __m512 t0 = zero, t1 = zero, t2 = zero, t3 = zero;
  if (shape->fours) {
    t0 = add_in_order(zero, fours(x, block, 0));
    t1 = add_in_order(zero, fours(x, block, 1));
    t2 = add_in_order(zero, fours(x, block, 2));
    t3 = add_in_order(zero, fours(x, block, 3));
  } else {
    __m512 c[4][4];
    for (size_t k = 0; k < shape->s; k += 16) {
      for (int q = 0; q < 4; q++) chunks(x, block->at + 4 * q, k, c[q]);
      for (int r = 0; r < 4; r++) {
        t0 = add_in_order(t0, c[0][r]);
        t1 = add_in_order(t1, c[1][r]);
        t2 = add_in_order(t2, c[2][r]);
        t3 = add_in_order(t3, c[3][r]);
      }
    }
  }
  return _mm512_div_ps(fold4(t0, t1, t2, t3), shape->count);
}

/* A block's 1/σ = 1/√(Σ(x − μ)²/s + eps) (folded layout), stored in invStd. */
AVX512 static inline __attribute__((always_inline)) __m512 block_inverse_std(const shape_t* shape, const block_t* block, const float* x, __m512 mu,
                                                                             __m512 epsilon, float* invStd) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 mu0 = spread(mu, 0), mu1 = spread(mu, 1), mu2 = spread(mu, 2), mu3 = spread(mu, 3);
  __m512 q0 = zero, q1 = zero, q2 = zero, q3 = zero;
  if (shape->fours) {
    const __m512 d0 = _mm512_sub_ps(fours(x, block, 0), mu0), d1 = _mm512_sub_ps(fours(x, block, 1), mu1);
    const __m512 d2 = _mm512_sub_ps(fours(x, block, 2), mu2), d3 = _mm512_sub_ps(fours(x, block, 3), mu3);
    q0 = _mm512_fmadd_ps(d0, d0, zero);
    q1 = _mm512_fmadd_ps(d1, d1, zero);
    q2 = _mm512_fmadd_ps(d2, d2, zero);
    q3 = _mm512_fmadd_ps(d3, d3, zero);
  } else {
    __m512 c[4][4];
    for (size_t k = 0; k < shape->s; k += 16) {
      for (int q = 0; q < 4; q++) chunks(x, block->at + 4 * q, k, c[q]);
      for (int r = 0; r < 4; r++) {
        const __m512 d0 = _mm512_sub_ps(c[0][r], mu0), d1 = _mm512_sub_ps(c[1][r], mu1), d2 = _mm512_sub_ps(c[2][r], mu2), d3 = _mm512_sub_ps(c[3][r], mu3);
        q0 = _mm512_fmadd_ps(d0, d0, q0);
        q1 = _mm512_fmadd_ps(d1, d1, q1);
        q2 = _mm512_fmadd_ps(d2, d2, q2);
        q3 = _mm512_fmadd_ps(d3, d3, q3);
      }
    }
  }
  const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1), _mm512_sqrt_ps(add_in_order(_mm512_div_ps(fold4(q0, q1, q2, q3), shape->count), epsilon)));
  _mm512_mask_storeu_ps(invStd + block->first, first_lanes(block->valid), transpose_lanes(inv));
  return inv;
}

/* A block's x̂ = (x − μ)·(1/σ) and y = γ·x̂ + β. */
AVX512 static inline __attribute__((always_inline)) void block_normalize(const shape_t* shape, const block_t* block, const float* x, __m512 mu, __m512 inv,
                                                                        const float* gamma, const float* beta, float* xhat, float* y) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1);
  if (shape->fours) {
    for (int q = 0; 4 * (size_t)q < block->valid; q++) {
      const size_t at = block->at[4 * q], column = block->column[4 * q];
      const __m512 h = mul_in_order(_mm512_sub_ps(_mm512_loadu_ps(x + at), spread(mu, q)), spread(inv, q));
      _mm512_storeu_ps(xhat + at, h);
      const __m512 g = gamma ? _mm512_loadu_ps(gamma + column) : one;
      const __m512 b = beta ? _mm512_loadu_ps(beta + column) : zero;
      _mm512_storeu_ps(y + at, add_in_order(mul_in_order(g, h), b));
    }
    return;
  }
  float muOf[16], invOf[16];
  _mm512_storeu_ps(muOf, transpose_lanes(mu));
  _mm512_storeu_ps(invOf, transpose_lanes(inv));
  const size_t s = shape->s;
  for (size_t j = 0; j < block->valid; j++) {
    const __m512 muV = _mm512_set1_ps(muOf[j]), invV = _mm512_set1_ps(invOf[j]);
    const size_t at = block->at[j], column = block->column[j];
    for (size_t k = 0; k < s; k += 16) {
      const __m512 h = mul_in_order(_mm512_sub_ps(_mm512_loadu_ps(x + at + k), muV), invV);
      _mm512_storeu_ps(xhat + at + k, h);
      const __m512 g = gamma ? _mm512_loadu_ps(gamma + column + k) : one;
      const __m512 b = beta ? _mm512_loadu_ps(beta + column + k) : zero;
      _mm512_storeu_ps(y + at + k, add_in_order(mul_in_order(g, h), b));
    }
  }
}

/* ---- backward ---- */

/*
 * A block's dx coefficients (folded layout): a = 1/σ, c = −a·Σg/s (0·… where not centered) and
 * e = −a·Σg·x̂/s, with g = dy·γ; for groups of 4, dγ += dy·x̂ and dβ += dy too, as the wasm kernel
 * adds them in its sums' pass.
 */
AVX512 static inline __attribute__((always_inline)) void block_coefficients(const shape_t* shape, const block_t* block, const float* dy, const float* xhat,
                                                                           const float* invStd, const float* gamma, float* dGamma, float* dBeta, __m512* a,
                                                                           __m512* c, __m512* e) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1);
  __m512 sg[4] = {zero, zero, zero, zero}, sgh[4] = {zero, zero, zero, zero};
  if (shape->fours) {
    for (int q = 0; q < 4; q++) {
      const size_t at = block->at[4 * q], column = block->column[4 * q];
      const __m512 d = _mm512_loadu_ps(dy + at), h = _mm512_loadu_ps(xhat + at);
      const __m512 grad = mul_in_order(d, gamma ? _mm512_loadu_ps(gamma + column) : one);
      sg[q] = add_in_order(zero, grad);
      sgh[q] = _mm512_fmadd_ps(grad, h, zero);
      if (4 * (size_t)q < block->valid) {
        if (dGamma) _mm512_storeu_ps(dGamma + column, _mm512_fmadd_ps(d, h, _mm512_loadu_ps(dGamma + column)));
        if (dBeta) _mm512_storeu_ps(dBeta + column, add_in_order(_mm512_loadu_ps(dBeta + column), d));
      }
    }
  } else {
    for (size_t k = 0; k < shape->s; k += 16) {
      for (int q = 0; q < 4; q++) {
        /* g = dy·γ along each instance's floats (the same products), then both by f32x4 vectors */
        const size_t* at = block->at + 4 * q;
        const size_t* column = block->column + 4 * q;
        __m512 g[4], h[4];
        transpose_quarters(mul_in_order(_mm512_loadu_ps(dy + at[0] + k), gamma ? _mm512_loadu_ps(gamma + column[0] + k) : one),
                           mul_in_order(_mm512_loadu_ps(dy + at[1] + k), gamma ? _mm512_loadu_ps(gamma + column[1] + k) : one),
                           mul_in_order(_mm512_loadu_ps(dy + at[2] + k), gamma ? _mm512_loadu_ps(gamma + column[2] + k) : one),
                           mul_in_order(_mm512_loadu_ps(dy + at[3] + k), gamma ? _mm512_loadu_ps(gamma + column[3] + k) : one), g);
        chunks(xhat, at, k, h);
        for (int r = 0; r < 4; r++) {
          sg[q] = add_in_order(sg[q], g[r]);
          sgh[q] = _mm512_fmadd_ps(g[r], h[r], sgh[q]);
        }
      }
    }
  }
  const __m512 sumG = shape->centered ? fold4(sg[0], sg[1], sg[2], sg[3]) : zero;
  const __m512 sumGH = fold4(sgh[0], sgh[1], sgh[2], sgh[3]);
  *a = transpose_lanes(_mm512_maskz_loadu_ps(first_lanes(block->valid), invStd + block->first));
  const __m512 minusInv = negate(*a);
  *c = _mm512_div_ps(mul_in_order(minusInv, sumG), shape->count);
  *e = _mm512_div_ps(mul_in_order(minusInv, sumGH), shape->count);
}

/* A block's dx = e·x̂ + (a·g + c); for other groups than 4, dγ += dy·x̂ and dβ += dy too (their columns in the rows' order). */
AVX512 static inline __attribute__((always_inline)) void block_input_gradient(const shape_t* shape, const block_t* block, const float* dy, const float* xhat,
                                                                             const float* gamma, __m512 a, __m512 c, __m512 e, float* dx, float* dGamma,
                                                                             float* dBeta) {
  const __m512 one = _mm512_set1_ps(1);
  if (shape->fours) {
    for (int q = 0; 4 * (size_t)q < block->valid; q++) {
      const size_t at = block->at[4 * q], column = block->column[4 * q];
      const __m512 grad = mul_in_order(_mm512_loadu_ps(dy + at), gamma ? _mm512_loadu_ps(gamma + column) : one);
      const __m512 inner = _mm512_fmadd_ps(spread(a, q), grad, spread(c, q));
      _mm512_storeu_ps(dx + at, _mm512_fmadd_ps(spread(e, q), _mm512_loadu_ps(xhat + at), inner));
    }
    return;
  }
  float aOf[16], cOf[16], eOf[16];
  _mm512_storeu_ps(aOf, transpose_lanes(a));
  _mm512_storeu_ps(cOf, transpose_lanes(c));
  _mm512_storeu_ps(eOf, transpose_lanes(e));
  const size_t s = shape->s;
  for (size_t j = 0; j < block->valid; j++) {
    const __m512 aV = _mm512_set1_ps(aOf[j]), cV = _mm512_set1_ps(cOf[j]), eV = _mm512_set1_ps(eOf[j]);
    const size_t at = block->at[j], column = block->column[j];
    for (size_t k = 0; k < s; k += 16) {
      const __m512 d = _mm512_loadu_ps(dy + at + k), h = _mm512_loadu_ps(xhat + at + k);
      const __m512 grad = mul_in_order(d, gamma ? _mm512_loadu_ps(gamma + column + k) : one);
      _mm512_storeu_ps(dx + at + k, _mm512_fmadd_ps(eV, h, _mm512_fmadd_ps(aV, grad, cV)));
      if (dGamma) _mm512_storeu_ps(dGamma + column + k, _mm512_fmadd_ps(d, h, _mm512_loadu_ps(dGamma + column + k)));
      if (dBeta) _mm512_storeu_ps(dBeta + column + k, add_in_order(_mm512_loadu_ps(dBeta + column + k), d));
    }
  }
}

/* ---- the kernels ---- */

/* The shape of a call whose groups group-norm.c has checked. */
AVX512 static void shape_of(shape_t* shape, uint32_t m, uint32_t n, uint32_t groups, uint32_t centered) {
  shape->s = n / groups;
  shape->groups = groups;
  shape->instances = (size_t)m * groups;
  shape->centered = centered != 0;
  shape->count = _mm512_set1_ps((float)shape->s);
  shape->fours = shape->s == 4 && groups % 4 == 0;
}

/* The forward pass, block by block. */
AVX512 static void forward(const shape_t* shape, const float* x, float eps, const float* gamma, const float* beta, float* invStd, float* xhat, float* y) {
  const __m512 epsilon = _mm512_set1_ps(eps);
  block_t block;
  for (size_t first = 0, group = 0; first < shape->instances; first += 16, group = groups_on(group, 16, shape->groups)) {
    lay_out(&block, shape, first, group);
    const __m512 mu = block_mean(shape, &block, x);
    const __m512 inv = block_inverse_std(shape, &block, x, mu, epsilon, invStd);
    block_normalize(shape, &block, x, mu, inv, gamma, beta, xhat, y);
  }
}

/* The backward pass, block by block (in the rows' order: dγ and dβ add up row by row). */
AVX512 static void backward(const shape_t* shape, const float* dy, const float* xhat, const float* invStd, const float* gamma, float* dx, float* dGamma,
                            float* dBeta) {
  block_t block;
  for (size_t first = 0, group = 0; first < shape->instances; first += 16, group = groups_on(group, 16, shape->groups)) {
    lay_out(&block, shape, first, group);
    __m512 a, c, e;
    block_coefficients(shape, &block, dy, xhat, invStd, gamma, dGamma, dBeta, &a, &c, &e);
    block_input_gradient(shape, &block, dy, xhat, gamma, a, c, e, dx, dGamma, dBeta);
  }
}

/* The table's forward: the call's shape, then the pass. */
AVX512 static void forward_call(const float* x, uint32_t m, uint32_t n, uint32_t groups, uint32_t centered, float eps, const float* gamma,
                                const float* beta, float* invStd, float* xhat, float* y) {
  shape_t shape;
  shape_of(&shape, m, n, groups, centered);
  forward(&shape, x, eps, gamma, beta, invStd, xhat, y);
}

/* The table's backward: the call's shape, then the pass. */
AVX512 static void backward_call(const float* dy, const float* xhat, const float* invStd, uint32_t groups, uint32_t centered, const float* gamma,
                                 uint32_t m, uint32_t n, float* dx, float* dGamma, float* dBeta) {
  shape_t shape;
  shape_of(&shape, m, n, groups, centered);
  backward(&shape, dy, xhat, invStd, gamma, dx, dGamma, dBeta);
}

const group_norm_kernels_t avx512_group_norm = {forward_call, backward_call};
