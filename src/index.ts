/**
 * @file bnlab's library surface, browser-safe: kernels, layers, the network, the training loop,
 * data parsing and chart specs. Node-only helpers (files, wasm loading) are in `bnlab/node`.
 */
export * from './core/index.js';
export { createKernels, BACKEND_CHOICES, type BackendChoice } from './core/backend.js';
export * from './nn/index.js';
export * from './train/index.js';
export { encodeCheckpoint, decodeCheckpoint, CheckpointError } from './train/checkpoint.js';
export * from './data/index.js';
export * from './lab/charts/index.js';
