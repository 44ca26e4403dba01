/**
 * @file gatherBytesToFloats on every backend: row rows[i] of the bytes, converted, equals copying
 * those rows together and calling bytesToFloats, bit for bit, over row widths on and off the
 * 16-byte vector edges, rows repeated and in any order, from the backend's own bytes and from
 * bytes elsewhere, and after wasm memory grows; indices that name no whole row are refused first.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { backendsUnderTest, wasmBuildsHere } from '../helpers/backends.js';

/** Rows `rows` of `bytes` (rows of `width`) copied side by side: what a batch drawn as bytes holds. */
function copiedRows(bytes: Uint8Array, rows: ArrayLike<number>, width: number): Uint8Array {
  const out = new Uint8Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(bytes.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
  return out;
}

for (const kernels of await backendsUnderTest()) {
  describe(`gatherBytesToFloats [${kernels.name}: ${kernels.variant}]`, () => {
    test('equals the rows copied together, then bytesToFloats, bit for bit, from its own and from foreign bytes', () => {
      const rng = new Rng(33);
      const reference = new JsKernels();
      for (const width of [1, 3, 15, 16, 17, 33, 784]) {
        const count = 50;
        const dataset = Uint8Array.from({ length: count * width }, () => (rng.uniform() < 0.8 ? 0 : rng.int(256)));
        dataset.set([0, 255]); // the ends of the range
        const own = kernels.byteBuffer(dataset.length);
        own.data.set(dataset);
        for (const rows of [[0], [count - 1, 0, 7, 7, 3], Array.from({ length: 60 }, () => rng.int(count))]) {
          for (const scale of [Math.fround(1 / 255), -0.3]) {
            const expected = reference.matrix(rows.length, width);
            reference.bytesToFloats(copiedRows(dataset, rows, width), scale, expected);
            const out = kernels.matrix(rows.length, width);
            out.data.fill(7); // overwritten
            kernels.gatherBytesToFloats(own.data, Uint32Array.from(rows), scale, out);
            assert.deepEqual(out.data, expected.data, `width ${width}, rows ${rows.length}, scale ${scale}, the backend's bytes`);
            const foreign = Matrix.from(rows.length, width, new Float32Array(rows.length * width));
            kernels.gatherBytesToFloats(dataset, rows, scale, foreign);
            assert.deepEqual(foreign.data, expected.data, `width ${width}, rows ${rows.length}, scale ${scale}, foreign bytes and output`);
          }
        }
      }
    });

    test('refuses indices that name no whole row, and a wrong count of them, before converting anything', () => {
      const bytes = kernels.byteBuffer(10); // three whole rows of 3, and one byte more
      const out = kernels.matrix(2, 3);
      assert.throws(
        () => kernels.gatherBytesToFloats(bytes.data, [0, 3], 1, out),
        /gatherBytesToFloats: row index 3 at 1 is outside the 3 rows of 3 bytes given/,
      );
      assert.throws(() => kernels.gatherBytesToFloats(bytes.data, [-1, 0], 1, out), /row index -1 at 0/);
      assert.throws(() => kernels.gatherBytesToFloats(bytes.data, [0.5, 0], 1, out), /row index 0.5 at 0/);
      assert.throws(() => kernels.gatherBytesToFloats(bytes.data, [0], 1, out), /gatherBytesToFloats: 1 row indices for a 2x3 matrix/);
      kernels.gatherBytesToFloats(bytes.data, [], 1, kernels.matrix(0, 3)); // no rows: nothing to do
    });
  });
}

describe('gatherBytesToFloats when wasm memory grows', () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    test(`reads a byte buffer rebound by growth, and says so when given a view kept from before (${variant})`, async () => {
      const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant, { initialMemoryBytes: 65536 });
      const dataset = kernels.byteBuffer(20); // 5 rows of 4
      dataset.data.set(Array.from({ length: 20 }, (_, i) => 10 * i));
      const kept = dataset.data;
      const out = kernels.matrix(1000, 100); // 400 kB: more than the 64 kB reserved
      assert.equal(dataset.data.buffer, out.data.buffer, 'the byte buffer was rebound to the grown memory');
      const batch = kernels.matrix(2, 4);
      kernels.gatherBytesToFloats(dataset.data, [4, 1], 0.5, batch);
      assert.deepEqual(Array.from(batch.data), [80, 85, 90, 95, 20, 25, 30, 35]);
      assert.throws(() => kernels.gatherBytesToFloats(kept, [0, 1], 0.5, batch), /detached.*read byteBuffer\.data at each use/);
    });
  }
});
