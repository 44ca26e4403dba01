/** @file The data layer's public surface: IDX parsing, the MNIST split and mini-batching (no Node APIs). */

export * from './batch-feeder.js';
export * from './batcher.js';
export * from './idx.js';
export * from './mnist.js';
export * from './resident-pixels.js';
export * from './shared-batches.js';
