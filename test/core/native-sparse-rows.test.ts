/**
 * @file The native batch draw (native/products.c gatherSparseRows: a batch of a dataset's byte
 * rows packed as their nonzeros, each f32(byte)·scale) packs what the wasm kernel packs
 * (assembly/sparse-rows.ts): two backends from one compiled relaxed-SIMD module, one with the
 * native code, draw the same rows and must hold the same row starts, column indices and value
 * bits. Widths from 1 to 40 (sixteen bytes at a time and every tail), 784 (MNIST) and 785; zero
 * fractions 0, a half, MNIST's 81% and all zeros; scales 1/255, −1/255, 2^−149 (subnormal
 * values), 0 (no entry), ∞ and NaN (zero bytes NaN entries, but for sixteen zero bytes together,
 * which the wasm kernel skips whatever the scale, and so the native one); bytes in the
 * backend's memory and outside it (copied in); rows drawn in any order and twice. A call whose
 * rows lie outside the memory throws a RangeError and writes nothing; rows without a zero byte fill
 * regions of exactly their size and write not a word past them (the AVX2 kernel stores whole
 * vectors only where they fit). Not vacuous: the native
 * gather is counted, and the entries are checked against their definition too.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SparseRows } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { nativeBackendPair, nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

const METHODS = ['gatherSparseRows'] as const;
/** Batches (rows, width) of bytes without a zero: whole 16-byte groups, groups with tails of 1, 8 and 15 bytes, and MNIST's width. */
const SHAPES_FILLED: ReadonlyArray<readonly [number, number]> = [
  [1, 16],
  [2, 17],
  [3, 24],
  [2, 31],
  [4, 40],
  [2, 784],
];

/** A drawn batch as it lies in its backend's memory: row starts, then each entry's column and value bits. */
function contents(kernels: WasmKernels, rows: SparseRows): { rowStart: number[]; indices: number[]; values: number[] } {
  const { rowStart, indices, values } = rows as unknown as { rowStart: number; indices: number; values: number };
  const buffer = kernels.matrix(1, 1).data.buffer; // the backend's memory
  return {
    rowStart: [...new Uint32Array(buffer, rowStart, rows.rows + 1)],
    indices: [...new Uint32Array(buffer, indices, rows.entries)],
    values: [...new Uint32Array(buffer, values, rows.entries)],
  };
}

/** The entries by their definition: the nonzeros (NaN counts) of f32(byte)·scale, row by row in column order. */
function expected(bytes: Uint8Array, picked: readonly number[], width: number, scale: number) {
  const rowStart = [0],
    indices: number[] = [],
    values: number[] = [];
  const value = new Float32Array(1);
  const bits = new Uint32Array(value.buffer);
  for (const row of picked) {
    for (let j = 0; j < width; j++) {
      value[0] = Math.fround(scale) * bytes[row * width + j]!;
      if (value[0] !== 0) {
        indices.push(j);
        values.push(bits[0]!);
      }
    }
    rowStart.push(indices.length);
  }
  return { rowStart, indices, values };
}

describe('native batch draw: the entries of the wasm kernel', async () => {
  for (const module of await relaxedSimdModules()) {
    test('gatherSparseRows over widths, zero fractions, scales and row orders, bytes in memory and outside', async (t) => {
      const products = nativeOrSkip(t, METHODS);
      if (!products) return;
      const { withNative, wasmOnly, calls } = await nativeBackendPair(module, products, METHODS);
      const rng = new Rng(29);
      const datasetRows = 9;
      let cases = 0;
      for (const width of [...Array.from({ length: 40 }, (_, i) => i + 1), 784, 785]) {
        for (const zeros of [0, 0.5, 0.81, 1]) {
          const data = Uint8Array.from({ length: datasetRows * width }, () => (rng.uniform() < zeros ? 0 : 1 + Math.floor(rng.uniform() * 255)));
          for (const scale of [1 / 255, -1 / 255, 2 ** -149, 0, Infinity, Number.NaN]) {
            for (const picked of [[3], [8, 0, 5, 5, 2, 7, 1]]) {
              for (const inMemory of [true, false]) {
                const sides = [withNative, wasmOnly].map((kernels) => {
                  const rows = kernels.sparseRows(picked.length, width);
                  let source: Uint8Array = data;
                  if (inMemory) {
                    source = kernels.byteBuffer(data.length).data;
                    source.set(data);
                  }
                  kernels.gatherSparseRows(source, picked, scale, rows);
                  return contents(kernels, rows);
                });
                const label = `${picked.length} rows of ${width} bytes, ${zeros} zeros, scale ${scale}, bytes ${inMemory ? 'in memory' : 'outside'}`;
                assert.deepEqual(sides[0], sides[1], label);
                // ∞ and NaN make zero bytes NaN entries, but for sixteen together, which both kernels skip whatever the scale.
                if (Number.isFinite(scale)) assert.deepEqual(sides[0], expected(data, picked, width, scale), `${label}: by definition`);
                cases++;
              }
            }
          }
        }
      }
      assert.equal(calls.gatherSparseRows, cases, 'the native gather drew every batch of the backend given it');
    });

    test('rows outside the memory: a RangeError, and nothing written', async (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const { withNative } = await nativeBackendPair(module, native, METHODS);
      const buffer = withNative.matrix(1, 1).data.buffer as ArrayBuffer;
      const at = withNative.matrix(1, 64).data.byteOffset;
      const outside = buffer.byteLength; // a byte offset past the memory's end
      new Uint32Array(buffer, at, 1)[0] = 1; // row 1 of the "dataset"
      const calls: Array<[string, () => void]> = [
        ['a row past the memory', () => native.gatherSparseRows(buffer, outside - 784, at, 1, 784, 1, at + 16, at + 32, at + 64)],
        ['row starts past the memory', () => native.gatherSparseRows(buffer, 0, at, 1, 4, 1, outside, at + 32, at + 64)],
        ['a misaligned region', () => native.gatherSparseRows(buffer, 0, at + 2, 1, 4, 1, at + 16, at + 32, at + 64)],
      ];
      for (const [what, call] of calls) {
        new Uint32Array(buffer, at, 1)[0] = 1;
        const snapshot = [...new Uint32Array(buffer, at, 64)];
        assert.throws(call, RangeError, what);
        assert.deepEqual([...new Uint32Array(buffer, at, 64)], snapshot, `${what}: nothing written`);
      }
    });

    test('rows without a zero byte fill their regions to the last slot, and not a word past them', async (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const { withNative } = await nativeBackendPair(module, native, METHODS);
      const SENTINEL = 0xdeadbeef;
      const GAP = 16; // sentinel words after each region
      for (const [count, width] of SHAPES_FILLED) {
        // In one scratch matrix: the bytes, the row list, rowStart, indices and values, each region exactly its size, then sentinels.
        const words = [Math.ceil((count * width) / 4), count, count + 1 + GAP, count * width + GAP, count * width + GAP];
        const scratch = withNative.matrix(
          1,
          words.reduce((sum, w) => sum + w, 0),
        ).data;
        new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length).fill(SENTINEL);
        const [bytesAt, rowsAt, rowStartAt, indicesAt, valuesAt] = words.map(
          (_, i) => scratch.byteOffset + 4 * words.slice(0, i).reduce((sum, w) => sum + w, 0),
        ) as [number, number, number, number, number];
        new Uint8Array(scratch.buffer, bytesAt, count * width).set(Array.from({ length: count * width }, (_, i) => 1 + (i % 255)));
        new Uint32Array(scratch.buffer, rowsAt, count).set(Array.from({ length: count }, (_, i) => count - 1 - i));
        native.gatherSparseRows(scratch.buffer as ArrayBuffer, bytesAt, rowsAt, count, width, 1, rowStartAt, indicesAt, valuesAt);
        const label = `${count} rows of ${width} nonzero bytes`;
        assert.equal(new Uint32Array(scratch.buffer, rowStartAt, count + 1)[count], count * width, `${label}: every byte an entry`);
        const regions = { indices: indicesAt, values: valuesAt };
        for (const [region, at] of Object.entries(regions)) {
          const after = [...new Uint32Array(scratch.buffer, at + 4 * count * width, GAP)];
          assert.deepEqual(after, new Array(GAP).fill(SENTINEL), `${label}: nothing written past the ${region}`);
        }
      }
    });
  }
});
