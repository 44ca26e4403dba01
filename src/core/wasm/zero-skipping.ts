/**
 * @file When the wasm backend skips the zeros of a product's left factor that may or may not be
 * sparse (`'measure'`: a hidden layer's ReLU outputs). The sparse kernels (assembly/sparse-matmul.ts)
 * do about half the multiply-adds per second of the register-tiled dense ones, so skipping pays
 * only when most entries are zero. The fractions below are the break-even points that
 * `node dist/bench/zero-skipping.js` measured on a 2-core AMD EPYC (Zen 4) for the article's hidden
 * layers ([60x128]·[128x128] and its weight gradient), on both builds, rounded toward dense; native
 * code has its own, per vector width.
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
 * The same where the native products run, by their vectors: the register-tiled product gains
 * more from native code than the sparse ones do (skipping's time over the dense product's).
 * 256-bit (AVX2): first measured 2026-12-02 on an Intel Xeon with the 512-bit build, before its
 * tiles kept their sums in registers (x·W 0.89-1.51 at 30-40% zeros, 0.98-1.01 at 50%, 0.79-0.80
 * at 60%; xᵀ·dY 0.97-1.26 at 30-40%, 0.87-0.99 at 50%, 0.76-0.77 at 60%), and on an AMD EPYC Zen 5
 * with BNLAB_NATIVE=avx2 (x·W 1.01 at 40%, 0.84 at 50%; xᵀ·dY 1.11 at 40%, 0.98 at 50%), which
 * agree. 512-bit (AVX-512F), its tiles' sums in registers, on the Zen 5: x·W 1.09 at 60% zeros,
 * 0.89 at 70%; xᵀ·dY 1.13 at 70%, 0.92 at 80% (`node dist/bench/zero-skipping.js`).
 */
export const NATIVE_MAX_NONZERO_FRACTION: Readonly<Record<'avx2' | 'avx512f', Readonly<Record<SparseProduct, number>>>> = {
  avx2: { forward: 0.45, weightGradient: 0.55 },
  avx512f: { forward: 0.3, weightGradient: 0.2 },
};

/** Where skipping pays for a backend: with native products of these vectors (null: the wasm kernels alone). */
export function maxNonzeroFraction(nativeVectors: string | null, product: SparseProduct): number {
  if (nativeVectors === null) return MAX_NONZERO_FRACTION[product];
  return (nativeVectors === 'avx512f' ? NATIVE_MAX_NONZERO_FRACTION.avx512f : NATIVE_MAX_NONZERO_FRACTION.avx2)[product];
}
