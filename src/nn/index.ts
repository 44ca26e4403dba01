/** @file The nn layer's public surface. */

export * from './activation.js';
export * from './batch-norm.js';
export * from './build-layers.js';
export * from './dense.js';
export * from './example-norm.js';
export * from './example-source.js';
export * from './group-norm.js';
export * from './layer.js';
export * from './layer-norm.js';
export * from './mlp.js';
export * from './network-memory.js';
export * from './rms-norm.js';
export * from './sgd.js';
export * from './softmax-cross-entropy.js';
export * from './spec.js';
