/**
 * @file The batch draw through the split kept in the backend's memory (BatchFeeder: the Batcher's
 * example indices, one gatherBytesToFloats) gives exactly the floats and labels of the draw it
 * replaced (each batch's bytes copied row by row, then bytesToFloats), on real MNIST, on every
 * backend, for 2,000 batches across two epoch boundaries (and 200 batches of 64 that cross them
 * mid-batch); the sha256 digests below were made by that earlier code (the commit before this
 * file) with the same seeds. And the placement itself: once per backend, shared by views within it.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import { BatchFeeder } from '../../src/data/batch-feeder.js';
import { Batcher } from '../../src/data/batcher.js';
import { type MnistData, PIXEL_SCALE } from '../../src/data/mnist.js';
import { residentPixels } from '../../src/data/resident-pixels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { deriveSeed } from '../../src/train/seeds.js';
import { backendsUnderTest } from '../helpers/backends.js';

interface DrawCase {
  split: 'train' | 'validation';
  batchSize: number;
  seed: number;
  batches: number;
  /** sha256 of every batch's floats (float32 bytes) back to back, and of its labels, from the earlier draw. */
  floats: string;
  labels: string;
}

const CASES: DrawCase[] = [
  {
    split: 'train',
    batchSize: 60,
    seed: deriveSeed(1, 'batches'), // `bnlab train --seed 1`
    batches: 2000,
    floats: '3f2a2d73e8b7256536d24b2df35f629fdd09d937f96abd78cc51d26c4dbe743e',
    labels: 'f08f2241a7c459cb846ed29e71263c2cfaa98946d19900bad2379d01ce65d60c',
  },
  {
    split: 'validation',
    batchSize: 64,
    seed: 5,
    batches: 200,
    floats: '791a5d31cf06fa3b058d735d8bf5db90e8d8c57011936eb10b80e4767e30b65b',
    labels: 'd9ddf730556ad26840986308771714537e9787bc83af38cc304852b7ecf8b627',
  },
];

function bytesOf(data: Float32Array | Float64Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

let data: MnistData;
before(async () => {
  data = await loadMnist();
});

for (const kernels of await backendsUnderTest()) {
  describe(`the batch draw from the resident split [${kernels.name}: ${kernels.variant}]`, () => {
    for (const c of CASES) {
      test(`${c.batches} batches of ${c.batchSize} from ${c.split}: the floats and labels of the earlier draw, bit for bit`, () => {
        const split = data[c.split];
        const options = { shuffle: true, seed: c.seed };
        const feeder = new BatchFeeder(kernels, split, c.batchSize, options);
        const earlier = new Batcher(split, c.batchSize, options); // the earlier draw: bytes row by row, then bytesToFloats
        const x = kernels.matrix(c.batchSize, split.width),
          labels = new Uint8Array(c.batchSize);
        const expectedX = kernels.matrix(c.batchSize, split.width),
          expectedLabels = new Uint8Array(c.batchSize);
        const bytes = kernels.byteBuffer(c.batchSize * split.width);
        const floatHash = createHash('sha256'),
          labelHash = createHash('sha256');
        for (let b = 0; b < c.batches; b++) {
          feeder.next(x, labels);
          earlier.next(bytes.data, expectedLabels);
          kernels.bytesToFloats(bytes.data, PIXEL_SCALE, expectedX);
          if (!bytesOf(x.data).equals(bytesOf(expectedX.data))) assert.fail(`batch ${b}: the floats differ from the earlier draw's`);
          assert.deepEqual(labels, expectedLabels, `batch ${b}: labels`);
          floatHash.update(bytesOf(x.data));
          labelHash.update(labels);
        }
        assert.equal(floatHash.digest('hex'), c.floats, 'the floats of the code before the resident split');
        assert.equal(labelHash.digest('hex'), c.labels, 'the labels of the code before the resident split');
      });
    }

    test('the split is placed once per backend, and a view within it (a prefix) is read from that placement', () => {
      const train = residentPixels(kernels, data.train.pixels);
      const again = residentPixels(kernels, data.train.pixels);
      const prefix = residentPixels(kernels, data.train.pixels.subarray(0, 100 * 784));
      assert.deepEqual(train.data, data.train.pixels);
      assert.equal(again.data.buffer, train.data.buffer);
      assert.equal(again.data.byteOffset, train.data.byteOffset, 'the same placement');
      assert.equal(prefix.data.byteOffset, train.data.byteOffset, "the prefix is the placement's start");
      assert.equal(prefix.data.length, 100 * 784);
      if (kernels.name === 'js') assert.equal(train.data, data.train.pixels, 'the js backend reads the split itself');
      else assert.notEqual(train.data.buffer, data.train.pixels.buffer, 'the wasm backend reads a copy in its own memory');
    });
  });
}

describe('placements per backend', () => {
  test('each wasm backend has its own copy; a placement follows its memory when it grows', async () => {
    const aWasmBackend = async (): Promise<Kernels | undefined> => (await backendsUnderTest()).find((kernels) => kernels.name === 'wasm');
    const first = await aWasmBackend(),
      other = await aWasmBackend();
    if (!first || !other) return; // no wasm build here: the kernels test says so
    const pixels = data.validation.pixels;
    const mine = residentPixels(first, pixels),
      theirs = residentPixels(other, pixels);
    assert.notEqual(mine.data.buffer, theirs.data.buffer);
    const before = mine.data;
    first.matrix(1024, 4096); // 16 MB more than the backend has: memory grows and rebinds the placement
    assert.notEqual(mine.data.buffer, before.buffer);
    assert.deepEqual(mine.data, pixels);
  });
});
