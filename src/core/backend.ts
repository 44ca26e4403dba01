/**
 * @file Choosing the kernel backend once, at start-up. `auto` takes the WebAssembly SIMD backend
 * wherever its module validates and falls back to the plain-TypeScript reference otherwise.
 * Takes the module's bytes rather than a path, so a browser page can fetch and pass them.
 */
import { JsKernels } from './js-kernels.js';
import type { Kernels } from './kernels.js';

export type BackendChoice = 'js' | 'wasm' | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['js', 'wasm', 'auto'];

/**
 * @param choice `js`, `wasm` (an error where it cannot run) or `auto`
 * @param wasmBytes the compiled kernel module, or null where none is available
 */
export async function createKernels(choice: BackendChoice, wasmBytes: BufferSource | null): Promise<Kernels> {
  if (choice === 'js') return new JsKernels();
  if (choice === 'wasm' && !wasmBytes) throw new Error('the wasm backend was asked for, but no kernel module was found; run `npm run build`');
  // The WebAssembly backend lands with the speed issue; until then `auto` means the reference.
  if (choice === 'wasm') throw new Error('the wasm backend is not available in this build; use --backend js');
  return new JsKernels();
}
