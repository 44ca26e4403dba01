/**
 * @file Choosing the kernel backend once, at start-up. `auto` takes the WebAssembly SIMD backend
 * wherever one of its builds validates and falls back to the plain-TypeScript reference
 * otherwise; `wasm` insists (an error that says why where it cannot run). Takes the modules'
 * bytes rather than paths, so a browser page can fetch and pass them (src/node/wasm-files.ts
 * reads them from build/ in Node).
 */
import { JsKernels } from './js-kernels.js';
import type { Kernels } from './kernels.js';
import { compileKernelModule, type WasmVariant } from './wasm/kernel-module.js';
import { WasmKernels, type WasmKernelsOptions } from './wasm/wasm-kernels.js';

export type BackendChoice = 'js' | 'wasm' | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['js', 'wasm', 'auto'];

/** The two builds of the kernel module; either may be missing (null). */
export interface KernelModules {
  /** With relaxed SIMD (f32x4.relaxed_madd): the fastest, where the engine has it. */
  relaxedSimd: BufferSource | null;
  /** Plain SIMD128: every engine with WebAssembly SIMD. */
  simd128: BufferSource | null;
}

/**
 * @param choice `js`, `wasm` (an error where it cannot run) or `auto`
 * @param modules the compiled kernel modules, or null where none is available
 */
export async function createKernels(choice: BackendChoice, modules: KernelModules | null, options: WasmKernelsOptions = {}): Promise<Kernels> {
  if (choice === 'js') return new JsKernels();
  const picked = pickKernelModule(modules);
  if (picked) return WasmKernels.create(await compiled(picked.bytes), picked.variant, options);
  if (choice === 'auto') return new JsKernels();
  if (!modules || (!modules.relaxedSimd && !modules.simd128)) {
    throw new Error('the wasm backend was asked for, but no kernel module was found; run `npm run build` (or use --backend js)');
  }
  throw new Error(
    'the wasm backend was asked for, but this JavaScript engine cannot run WebAssembly SIMD (the kernel modules do not validate); use --backend js',
  );
}

/** The best build this engine validates: relaxed SIMD first, then SIMD128; null if neither. */
export function pickKernelModule(modules: KernelModules | null): { variant: WasmVariant; bytes: BufferSource } | null {
  if (!modules || typeof WebAssembly !== 'object') return null;
  if (modules.relaxedSimd && WebAssembly.validate(modules.relaxedSimd)) return { variant: 'relaxed-simd', bytes: modules.relaxedSimd };
  if (modules.simd128 && WebAssembly.validate(modules.simd128)) return { variant: 'simd128', bytes: modules.simd128 };
  return null;
}

/** Compiled modules by their bytes: a process that builds many backends (a grid of runs) compiles once. */
const compiledModules = new WeakMap<object, Promise<WebAssembly.Module>>();

function compiled(bytes: BufferSource): Promise<WebAssembly.Module> {
  let module = compiledModules.get(bytes);
  if (!module) {
    module = compileKernelModule(bytes);
    compiledModules.set(bytes, module);
  }
  return module;
}
