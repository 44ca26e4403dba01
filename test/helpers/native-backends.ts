/**
 * @file What the native-code tests share (test/core/native-*.test.ts): the native code's
 * methods wrapped to count their calls (so a test cannot pass without them running), the skip
 * where they cannot run here (not built, neither AVX-512F nor AVX2, BNLAB_NATIVE=off) and the
 * failure where they were built and yet are not loaded or lack a method, a pair of backends on one compiled module, one given the
 * native code and one not, and regions laid out in a wasm memory for kernels called directly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type TestContext, test } from 'node:test';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import type { NativeKernels } from '../../src/core/wasm/native-products.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { nativeAbsence, nativeKernels } from '../../src/node/native-files.js';
import { wasmBuildsHere } from './backends.js';

export type NativeMethod = Exclude<keyof NativeKernels, 'vectors'>;
export type Calls<M extends NativeMethod> = Record<M, number>;

/** A method's last call: its arguments and what it returned (matmulTransposeBRescaled's overflow flag). */
export interface LastCall {
  args: unknown[];
  result: unknown;
}

/**
 * The native code with `methods` counting their calls and keeping each one's last (everything else
 * passed on as it is); a method's return value is passed back to the backend.
 */
export function countingNative<M extends NativeMethod>(
  products: NativeKernels,
  methods: readonly M[],
): { native: NativeKernels; calls: Calls<M>; last: Partial<Record<M, LastCall>> } {
  const calls = Object.fromEntries(methods.map((method) => [method, 0])) as Calls<M>;
  const last: Partial<Record<M, LastCall>> = {};
  const native: Record<string, unknown> = { ...products };
  for (const method of methods) {
    const inner = products[method] as (...args: unknown[]) => unknown;
    native[method] = (...args: unknown[]) => {
      calls[method]++;
      const result = inner(...args);
      last[method] = { args, result };
      return result;
    };
  }
  return { native: native as unknown as NativeKernels, calls, last };
}

/** That the calls of `methods` since `before` are `expected` (a method not named: none). */
export function assertCalls<M extends NativeMethod>(
  methods: readonly M[],
  calls: Calls<M>,
  before: Calls<M>,
  expected: Partial<Calls<M>>,
  message: string,
): void {
  const made = Object.fromEntries(methods.map((method) => [method, calls[method] - before[method]]));
  assert.deepStrictEqual(made, Object.fromEntries(methods.map((method) => [method, expected[method] ?? 0])), message);
}

/** build/bnlab-native.json (scripts/build-native.mjs), or null when the build never ran. */
function buildStatus(): { built: boolean; reason: string } | null {
  try {
    return JSON.parse(readFileSync(new URL('../../../build/bnlab-native.json', import.meta.url), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The native code, checked to export `methods`, or null with the test skipped where it cannot run
 * here; fails where it was built and yet is not loaded, or where the build lacks a method.
 */
export function nativeOrSkip(t: TestContext, methods: readonly NativeMethod[]): NativeKernels | null {
  const products = nativeKernels();
  if (products) {
    const missing = methods.filter((method) => typeof (products as Partial<NativeKernels>)[method] !== 'function');
    assert.deepStrictEqual(missing, [], 'the addon exports every one of them');
    return products;
  }
  const absence = nativeAbsence() ?? 'no reason given';
  const status = buildStatus();
  if (/BNLAB_NATIVE=off|AVX-512F|AVX2/.test(absence) || status?.built === false) {
    t.skip(`native code not in use: ${status?.built === false ? `not built (${status.reason})` : absence}`);
    return null;
  }
  assert.fail(`native code not in use although ${status ? 'build/bnlab-native.json says it was built' : 'the build never ran (npm run build)'}: ${absence}`);
}

/**
 * A backend given the native code (its `methods` counting calls, each one's last kept) and a
 * wasm-only one, from the same compiled module. Both rescale subnormal factors, also on a CPU
 * where that does not pay (which leaves it off by default): the rescaled kernels are tested everywhere.
 */
export async function nativeBackendPair<M extends NativeMethod>(module: WebAssembly.Module, products: NativeKernels, methods: readonly M[]) {
  const { native, calls, last } = countingNative(products, methods);
  const withNative = await WasmKernels.create(module, 'relaxed-simd', { native });
  const wasmOnly = await WasmKernels.create(module, 'relaxed-simd', { native: null });
  withNative.rescaleSubnormals = wasmOnly.rescaleSubnormals = true;
  assert.equal(withNative.fusedMultiplyAdd, true, 'relaxed SIMD on a CPU with FMA (which both native builds need) fuses its multiply-adds');
  assert.notEqual(withNative.native, null, 'the backend given the native code uses it');
  assert.equal(withNative.variant, `wasm relaxed-simd + native ${products.vectors}`);
  assert.equal(wasmOnly.native, null);
  return { withNative, wasmOnly, calls, last };
}

/**
 * The relaxed-SIMD kernel module the native code is compared with (one, or none), and, inside the
 * calling describe(), a test that fails where it is missing.
 */
export async function relaxedSimdModules(): Promise<WebAssembly.Module[]> {
  const builds = wasmBuildsHere().filter(({ variant }) => variant === 'relaxed-simd');
  test('a relaxed-SIMD build is here to compare with', () => {
    assert.equal(builds.length, 1, 'build/bnlab-kernels.relaxed-simd.wasm is missing or does not validate: run npm run build');
  });
  return Promise.all(builds.map(({ bytes }) => compileKernelModule(bytes)));
}

/** Every counter that says which path a product took: zeros skipped, factors rescaled (one up and one down, or with the sums), updates left out. */
export type Moves = Record<keyof WasmKernels['zeroSkips'] | keyof WasmKernels['subnormalRescales'] | 'negligibleProducts' | 'negligibleElements', number>;
export const movesOf = (kernels: WasmKernels): Moves => ({
  ...kernels.zeroSkips,
  ...kernels.subnormalRescales,
  negligibleProducts: kernels.negligibleUpdates.products,
  negligibleElements: kernels.negligibleUpdates.elements,
});

/** How far each counter moved since `before`. */
export function movedSince(kernels: WasmKernels, before: Moves): Moves {
  const now = movesOf(kernels);
  return Object.fromEntries(Object.entries(now).map(([counter, count]) => [counter, count - before[counter as keyof Moves]])) as Moves;
}

/**
 * Regions of `sizes` floats laid out one after the other from `base` in a wasm memory, each
 * followed by at least 64 bytes of gap (a write past a region lands there, not in the next one):
 * their offsets (one per size, as a tuple of the same length) and the end of the last.
 */
export function layOutRegions<const S extends readonly number[]>(base: number, sizes: S): { offsets: { -readonly [K in keyof S]: number }; end: number } {
  const offsets: number[] = [];
  let at = base;
  for (const size of sizes) {
    offsets.push(at);
    at += Math.ceil((size * 4 + 64) / 64) * 64;
  }
  // One offset per size: the caller destructures them by position, with no cast.
  return { offsets: offsets as { -readonly [K in keyof S]: number }, end: at };
}
