/** @file The train layer's public surface. */
export * from './config.js';
export * from './networks.js';
export * from './seeds.js';
export * from './trainer.js';
