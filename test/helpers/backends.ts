/**
 * @file The kernel backends every backend-parametrized test runs over: the reference always,
 * the WebAssembly backend wherever it loads here.
 */
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';

export async function backendsUnderTest(): Promise<Kernels[]> {
  return [new JsKernels()];
}
