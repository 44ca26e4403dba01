/**
 * @file The kernel backend the benchmark measures, loaded as the CLI loads it: relaxed SIMD is
 * switched on before any WebAssembly compiles (V8 reads the flag at compile time, and the
 * TensorFlow.js wasm peer compiles a module too), then `loadKernels` picks the backend.
 */
import type { BackendChoice } from '../src/core/backend.js';
import type { Kernels } from '../src/core/kernels.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';

/** Call first thing in every benchmark process. */
export function prepareWasm(): void {
  enableRelaxedSimd();
}

/** A fresh backend (its own memory) for one measurement; `native: false` leaves the native products out. */
export async function loadBenchKernels(choice: BackendChoice, options: { native?: boolean } = {}): Promise<Kernels> {
  prepareWasm();
  return loadKernels(choice, options);
}
