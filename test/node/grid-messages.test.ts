/**
 * @file MNIST shared with the grid's workers: the pixel bytes cross once into SharedArrayBuffers,
 * train and validation (two parts of the training file) in one buffer, and the views a worker
 * rebuilds hold exactly the main thread's bytes and labels.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MnistData } from '../../src/data/mnist.js';
import { mnistFromShared, shareMnist } from '../../src/node/grid-messages.js';

/** A crafted MnistData shaped like the loader's: validation and train are views of one file's bytes, test of another's. */
function craftedMnist(): MnistData {
  const width = 4;
  const trainFile = new Uint8Array(16 + 5 * width); // a 16-byte header, then 5 images
  for (let i = 16; i < trainFile.length; i++) trainFile[i] = (i * 37) % 256;
  const trainPixels = trainFile.subarray(16);
  const testPixels = Uint8Array.from({ length: 3 * width }, (_, i) => 255 - i);
  return {
    validation: { pixels: trainPixels.subarray(0, 2 * width), labels: Uint8Array.from([1, 2]), count: 2, width },
    train: { pixels: trainPixels.subarray(2 * width), labels: Uint8Array.from([3, 4, 5]), count: 3, width },
    test: { pixels: testPixels, labels: Uint8Array.from([6, 7, 8]), count: 3, width },
    source: 'crafted',
  };
}

test('shared MNIST: one buffer for train and validation (their bytes only), views equal to the originals', () => {
  const data = craftedMnist();
  const shared = shareMnist(data);
  assert.equal(shared.train.pixels, shared.validation.pixels, 'train and validation share one SharedArrayBuffer');
  assert.equal(shared.train.pixels.byteLength, 5 * 4, 'the header is not copied');
  assert.notEqual(shared.test.pixels, shared.train.pixels);
  assert.ok(shared.train.pixels instanceof SharedArrayBuffer);

  const views = mnistFromShared(structuredClone(shared)); // what a worker receives
  for (const name of ['train', 'validation', 'test'] as const) {
    assert.deepEqual(Array.from(views[name].pixels), Array.from(data[name].pixels), `${name} pixels`);
    assert.deepEqual(Array.from(views[name].labels), Array.from(data[name].labels), `${name} labels`);
    assert.equal(views[name].count, data[name].count);
  }
  assert.equal(views.train.pixels.buffer, views.validation.pixels.buffer, "the worker's train and validation are views of one buffer too");
  assert.equal(views.source, 'crafted');
});
