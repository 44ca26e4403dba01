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

/** Skip zeros when at most this fraction of the left factor is nonzero. */
export const MAX_NONZERO_FRACTION: Readonly<Record<SparseProduct, number>> = {
  forward: 0.5,
  weightGradient: 0.5,
};
