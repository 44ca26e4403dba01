/**
 * @file Node's side of the wasm backend: the kernel modules' bytes read from the package's
 * build/ folder (found relative to this compiled file, so any working directory works), the V8
 * flag that Node 20 needs for relaxed SIMD, and `loadKernels`, which combines both with
 * `createKernels`.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { type BackendChoice, createKernels, type KernelModules } from '../core/backend.js';
import type { Kernels } from '../core/kernels.js';
import { supportsRelaxedSimd } from '../core/wasm/feature-probe.js';
import { KERNEL_MODULE_FILES } from '../core/wasm/kernel-module.js';
import { nativeKernels } from './native-files.js';

/** build/ at the package root: this file is dist/src/node/wasm-files.js. */
export function kernelBuildDirectory(): URL {
  return new URL('../../../build/', import.meta.url);
}

/** Both builds' bytes; a file that is not there (not built yet) is null. */
export function readKernelModules(directory: URL = kernelBuildDirectory()): KernelModules {
  return {
    relaxedSimd: readIfPresent(new URL(KERNEL_MODULE_FILES.relaxedSimd, directory)),
    simd128: readIfPresent(new URL(KERNEL_MODULE_FILES.simd128, directory)),
  };
}

function readIfPresent(file: URL): Uint8Array<ArrayBuffer> | null {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Switches on relaxed SIMD where this Node needs the flag (Node 20; later versions have it by
 * default, and then nothing is set). Call it before compiling a kernel module; the flag cannot
 * go in NODE_OPTIONS. Idempotent.
 */
export function enableRelaxedSimd(): void {
  if (!supportsRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** build/'s modules, read once: the same bytes each time let createKernels reuse the compiled module. */
let packagedModules: KernelModules | null = null;

/**
 * The kernel backend for `choice`, from the modules in build/ (relaxed SIMD switched on first),
 * with the native products where they were built (native-files.ts) unless `native` is false (the
 * wasm kernels alone, for comparisons). Each call returns a new backend with its own memory; the
 * modules compile once per process.
 */
export async function loadKernels(choice: BackendChoice, { native = true }: { native?: boolean } = {}): Promise<Kernels> {
  if (choice === 'js') return createKernels('js', null);
  enableRelaxedSimd();
  packagedModules ??= readKernelModules();
  return createKernels(choice, packagedModules, { native: native ? nativeKernels() : null });
}
