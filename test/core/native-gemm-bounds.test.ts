/**
 * @file The native gemm's last, masked block of columns reads B's vectors whole in the steps
 * where B goes on past them (its next row's floats; a masked load is slow on AMD's cores), and
 * masked only where a whole read would leave B. Checked where leaving B faults: B's last float is
 * the wasm memory's last, for every width from 4 to 40 (one or two vectors in the masked block),
 * row strides from the width up, depths 1 to 7 and row counts that fill tiles and leave single
 * rows; the result has the relaxed-SIMD kernel's bits, and nothing past `out` is written.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

describe("native gemm: B's masked columns read inside B only", async () => {
  for (const module of await relaxedSimdModules()) {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const wasm = await instantiateKernelModule(module, memory);
    const base = wasm.heapBase() + 64;
    const floats = () => new Float32Array(memory.buffer);
    const words = (at: number, count: number) => [...new Uint32Array(memory.buffer, at, count)];

    test("B ending at the memory's end: widths 4-40, strides from the width up, depths 1-7, 1-13 rows", (t) => {
      const native = nativeOrSkip(t, ['gemm']);
      if (!native) return;
      const end = memory.buffer.byteLength;
      const rng = new Rng(40);
      let products = 0;
      for (let cols = 4; cols <= 40; cols++) {
        for (const bRow of [cols, cols + 3, 16 * Math.ceil(cols / 16)]) {
          for (const depth of [1, 2, 3, 7]) {
            for (const rows of [1, 6, 7, 13]) {
              for (const accumulate of [0, 1] as const) {
                const bFloats = (depth - 1) * bRow + cols;
                const b = end - bFloats * 4; // B's last float is the memory's last
                const a = base,
                  outNative = a + rows * depth * 4 + 64,
                  outWasm = outNative + (rows * cols + 16) * 4;
                const f = floats();
                for (let i = 0; i < rows * depth; i++) f[a / 4 + i] = rng.normal();
                for (let i = 0; i < bFloats; i++) f[b / 4 + i] = rng.normal();
                for (let i = 0; i < rows * cols + 1; i++) f[outNative / 4 + i] = f[outWasm / 4 + i] = i === rows * cols ? 12345 : rng.normal();
                native.gemm(memory.buffer, a, depth * 4, 4, b, bRow * 4, outNative, cols * 4, rows, cols, depth, accumulate, 0.5);
                wasm.gemm(a, depth * 4, 4, b, bRow * 4, outWasm, cols * 4, rows, cols, depth, accumulate, 0.5);
                const what = `${rows}x${depth}·${depth}x${cols} (B's rows ${bRow} apart), accumulate ${accumulate}`;
                assert.deepStrictEqual(words(outNative, rows * cols), words(outWasm, rows * cols), what);
                assert.equal(floats()[outNative / 4 + rows * cols], 12345, `${what}: nothing written past out`);
                products++;
              }
            }
          }
        }
      }
      assert.equal(products, 37 * 3 * 4 * 4 * 2);
    });
  }
});
