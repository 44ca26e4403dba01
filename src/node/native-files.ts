/**
 * @file Node's side of the native kernels: build/bnlab-native.node (scripts/build-native.mjs),
 * loaded once per thread when it was built and this CPU runs its vectors. BNLAB_NATIVE=off leaves
 * it out (the wasm kernels alone: the same numbers, slower), for comparisons; BNLAB_NATIVE=avx2
 * takes its 256-bit kernels on a CPU that runs AVX-512 too (native/addon.c), to test and time them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeKernels } from '../core/wasm/native-products.js';

const require = createRequire(import.meta.url);

/** Why the native kernels are not in use, or null when they are. */
export type NativeAbsence = string | null;

interface Loaded {
  products: NativeKernels | null;
  absence: NativeAbsence;
}

let loaded: Loaded | null = null;

/** The addon built beside the kernel modules (build/ at the package root: this file is dist/src/node/native-files.js). */
function addonFile(name: string): URL {
  return new URL(`../../../build/${name}`, import.meta.url);
}

/** The values BNLAB_NATIVE takes; unset (or empty), the addon runs the widest vectors this CPU has. */
export const NATIVE_CHOICES: readonly string[] = ['off', 'avx2'];

/** What is wrong with BNLAB_NATIVE's value, or null when it is unset or one of NATIVE_CHOICES (the CLI refuses to start on it). */
export function nativeChoiceProblem(value = process.env.BNLAB_NATIVE): string | null {
  if (value === undefined || value === '' || NATIVE_CHOICES.includes(value)) return null;
  return `BNLAB_NATIVE=${value} is not a choice: use off (the wasm kernels alone) or avx2 (the 256-bit native kernels where AVX-512 runs too), or unset it`;
}

function load(): Loaded {
  const asked = process.env.BNLAB_NATIVE;
  if (asked === 'off') return { products: null, absence: 'BNLAB_NATIVE=off' };
  const problem = nativeChoiceProblem(asked);
  if (problem) return { products: null, absence: problem };
  let status: { built: boolean; reason: string };
  try {
    status = JSON.parse(readFileSync(addonFile('bnlab-native.json'), 'utf8'));
  } catch {
    return { products: null, absence: 'not built (run npm run build)' };
  }
  if (!status.built) return { products: null, absence: `not built: ${status.reason}` };
  let addon: Partial<NativeKernels> & { vectors: string | null };
  try {
    addon = require(fileURLToPath(addonFile('bnlab-native.node')));
  } catch (error) {
    return { products: null, absence: `could not be loaded (${(error as Error).message.split('\n')[0]}); run npm run build` };
  }
  if (addon.vectors === null) return { products: null, absence: 'this CPU has neither AVX-512F nor AVX2 with FMA' };
  return { products: addon as NativeKernels, absence: null };
}

/** The native kernels for this thread, or null (`nativeAbsence` says why). */
export function nativeKernels(): NativeKernels | null {
  loaded ??= load();
  return loaded.products;
}

/** Why `nativeKernels()` is null, or null when it is not. */
export function nativeAbsence(): NativeAbsence {
  loaded ??= load();
  return loaded.absence;
}
