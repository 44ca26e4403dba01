/** @file The core layer's public surface. */

export * from './js-kernels.js';
export * from './kernels.js';
export * from './matrix.js';
export * from './rng.js';
