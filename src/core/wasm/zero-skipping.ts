/**
 * @file When the wasm backend skips the zeros of a product's left factor that may or may not be
 * sparse (`'measure'`: a hidden layer's ReLU outputs). The sparse kernels (assembly/sparse-matmul.ts)
 * do about half the multiply-adds per second of the register-tiled dense ones, so skipping pays
 * only when most entries are zero. The fractions below are the break-even points that
 * `node dist/bench/zero-skipping.js` measured on a 2-core AMD EPYC (Zen 4) for the article's hidden
 * layers ([60x128]·[128x128] and its weight gradient), on both builds, rounded toward dense.
 */

/** The two products whose left factor is an activation: x·W, and xᵀ·dY (the weight gradient). */
export type SparseProduct = 'forward' | 'weightGradient';

/**
 * Skip zeros when at most this fraction of the left factor is nonzero. Measured 2026-12-01 (sparse
 * time / dense time): x·W 1.08 at 40% zeros and 0.85 at 50% (relaxed SIMD; 0.94 and 0.76 in
 * SIMD128); xᵀ·dY 0.96 at 30% zeros and 0.84 at 40% (0.72, 0.75).
 */
export const MAX_NONZERO_FRACTION: Readonly<Record<SparseProduct, number>> = {
  forward: 0.55,
  weightGradient: 0.65,
};

/**
 * The same where the native products run (a backend with native code: 512-bit vectors, whose
 * register-tiled product gains more than the sparse ones). Measured 2026-12-02 on an Intel Xeon
 * (AVX-512), two runs: x·W 0.89-1.51 at 30-40% zeros, 0.98-1.01 at 50%, 0.79-0.80 at 60%; xᵀ·dY
 * 0.97-1.26 at 30-40%, 0.87-0.99 at 50%, 0.76-0.77 at 60%.
 */
export const NATIVE_MAX_NONZERO_FRACTION: Readonly<Record<SparseProduct, number>> = {
  forward: 0.45,
  weightGradient: 0.55,
};
