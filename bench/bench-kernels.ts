/**
 * @file The kernel backend the benchmark measures: `loadKernels` from src/node/wasm-files.ts
 * (relaxed SIMD switched on first, as the CLI does), or the plain-TypeScript reference where that
 * module is not part of this build yet, with a note that says so.
 */
import { createKernels, type BackendChoice } from '../src/core/backend.js';
import type { Kernels } from '../src/core/kernels.js';

export interface LoadedKernels {
  kernels: Kernels;
  /** Why the backend is not what was asked for, or null. */
  note: string | null;
}

let relaxedSimdEnabled = false;

/** Must run before any WebAssembly compiles in this process (V8 reads the flag at compile time). */
export async function prepareWasm(): Promise<void> {
  if (relaxedSimdEnabled) return;
  const wasmFiles = await importWasmFiles();
  wasmFiles?.enableRelaxedSimd();
  relaxedSimdEnabled = true;
}

export async function loadBenchKernels(choice: BackendChoice): Promise<LoadedKernels> {
  await prepareWasm();
  const wasmFiles = await importWasmFiles();
  if (wasmFiles) return { kernels: await wasmFiles.loadKernels(choice), note: null };
  return {
    kernels: await createKernels(choice === 'wasm' ? 'auto' : choice, null),
    note: 'src/node/wasm-files.ts is not in this build: bnlab ran on the plain-TypeScript reference kernels',
  };
}

type WasmFilesModule = typeof import('../src/node/wasm-files.js');

async function importWasmFiles(): Promise<WasmFilesModule | null> {
  try {
    return await import('../src/node/wasm-files.js');
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw error;
  }
}
