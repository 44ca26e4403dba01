/**
 * @file bnlab's library surface, browser-safe: kernels, layers, the network, the training loop,
 * data parsing and chart specs. Node-only helpers (files, wasm loading) are in `bnlab/node`.
 */

export { BACKEND_CHOICES, type BackendChoice, createKernels } from './core/backend.js';
export * from './core/index.js';
export * from './data/index.js';
export * from './lab/charts/index.js';
export * from './nn/index.js';
export { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './train/checkpoint.js';
export * from './train/index.js';
