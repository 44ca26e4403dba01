/** @file The core layer's public surface. */
export * from './matrix.js';
export * from './kernels.js';
export * from './js-kernels.js';
export * from './rng.js';
