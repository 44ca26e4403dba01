/**
 * @file The kernel backends every backend-parametrized test runs over: the reference always,
 * and the WebAssembly backend in each build that validates here (relaxed SIMD once its flag is
 * on, and SIMD128). The wasm modules come from build/ (`npm run build`); when they are missing
 * the suite still runs on the reference, and the kernels test fails on purpose to say so.
 */
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { compileKernelModule, WASM_VARIANTS, type WasmVariant } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { enableRelaxedSimd, readKernelModules } from '../../src/node/wasm-files.js';

/** The module bytes of each wasm build that exists in build/ and validates here. */
export function wasmBuildsHere(): Array<{ variant: WasmVariant; bytes: BufferSource }> {
  enableRelaxedSimd();
  const modules = readKernelModules();
  const bytesOf: Record<WasmVariant, BufferSource | null> = { 'relaxed-simd': modules.relaxedSimd, simd128: modules.simd128 };
  return WASM_VARIANTS.flatMap((variant) => {
    const bytes = bytesOf[variant];
    return bytes && WebAssembly.validate(bytes) ? [{ variant, bytes }] : [];
  });
}

export async function backendsUnderTest(): Promise<Kernels[]> {
  const backends: Kernels[] = [new JsKernels()];
  for (const { variant, bytes } of wasmBuildsHere()) {
    backends.push(await WasmKernels.create(await compileKernelModule(bytes), variant, { initialMemoryBytes: 4 * 1024 * 1024 }));
  }
  return backends;
}

/** A rows × cols matrix of `kernels`' memory holding `data` (row-major). */
export function placedMatrix(kernels: Kernels, rows: number, cols: number, data: ArrayLike<number>): Matrix {
  const placed = kernels.matrix(rows, cols);
  placed.data.set(data);
  return placed;
}
