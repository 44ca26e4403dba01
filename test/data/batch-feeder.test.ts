/**
 * @file BatchFeeder on every backend: its batches are the Batcher's (same examples, same order,
 * same labels) and its floats are byte × PIXEL_SCALE rounded once to float32, TensorFlow's pixel
 * scaling; an input or labels of the wrong size are refused.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchFeeder } from '../../src/data/batch-feeder.js';
import { Batcher } from '../../src/data/batcher.js';
import { PIXEL_SCALE, type Split } from '../../src/data/mnist.js';
import { backendsUnderTest } from '../helpers/backends.js';

const WIDTH = 20,
  COUNT = 37,
  BATCH = 8;

/** Pixel bytes that cover 0..255, and labels that differ between neighbours. */
function byteSplit(): Split {
  const pixels = Uint8Array.from({ length: COUNT * WIDTH }, (_, i) => (i * 37 + 11) % 256);
  return { pixels, labels: Uint8Array.from({ length: COUNT }, (_, i) => (i * 3) % 10), count: COUNT, width: WIDTH };
}

for (const kernels of await backendsUnderTest()) {
  describe(`BatchFeeder [${kernels.name}: ${kernels.variant}]`, () => {
    test("gives the Batcher's batches, across an epoch boundary, as float32(byte × 1/255)", () => {
      const split = byteSplit(),
        options = { shuffle: true, seed: 5 };
      const feeder = new BatchFeeder(kernels, split, BATCH, options);
      const batcher = new Batcher(split, BATCH, options);
      const x = kernels.matrix(BATCH, WIDTH),
        labels = new Uint8Array(BATCH);
      const bytes = new Uint8Array(BATCH * WIDTH),
        expectedLabels = new Uint8Array(BATCH);
      for (let b = 0; b < 10; b++) {
        // 80 examples: two epoch boundaries of 37
        feeder.next(x, labels);
        batcher.next(bytes, expectedLabels);
        assert.deepEqual(Array.from(labels), Array.from(expectedLabels), `batch ${b}: labels`);
        assert.deepEqual(
          Array.from(x.data),
          Array.from(bytes, (byte) => Math.fround(byte * PIXEL_SCALE)),
          `batch ${b}: pixels`,
        );
      }
    });

    test('an input of the wrong shape is refused, saying the shape it needs', () => {
      const feeder = new BatchFeeder(kernels, byteSplit(), BATCH, { shuffle: false, seed: 1 });
      assert.throws(() => feeder.next(kernels.matrix(BATCH, WIDTH - 1), new Uint8Array(BATCH)), /a feeder of 8 × 20 fills an input of that shape, got 8x19/);
      assert.throws(() => feeder.next(kernels.matrix(BATCH, WIDTH), new Uint8Array(BATCH + 1)), /nextIndices\(\) needs 8 indices and 8 labels, got 8 and 9/);
    });
  });
}
