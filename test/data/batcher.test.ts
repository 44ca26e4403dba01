/**
 * @file The Batcher against TensorFlow 1.x DataSet.next_batch semantics: file order without
 * shuffling (wrapping at the epoch's end: batch 916 of 60 holds train images 54960…54999 then
 * 0…19), every example exactly once per shuffled epoch, the epoch counter, a seed's batches being
 * Fisher–Yates permutations drawn from the project's Rng, and equal seeds giving equal batches.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { Batcher } from '../../src/data/batcher.js';
import type { MnistData, Split } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';

const WIDTH = 3;

/** A split whose example i has pixels [i, i + 0.25, i + 0.5] and label i mod 10, so a batch row tells which example it is. */
function indexSplit(count: number): Split {
  const images = new Float32Array(count * WIDTH); // [count, WIDTH]
  for (let i = 0; i < count; i++) for (let j = 0; j < WIDTH; j++) images[i * WIDTH + j] = i + j / 4;
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, width: WIDTH };
}

/** The example indices of `batches` batches, checking that each row was copied whole with its own label. */
function drawIndices(batcher: Batcher, batchSize: number, batches: number, afterEach?: (drawn: number) => void): number[] {
  const images = new Float32Array(batchSize * WIDTH);
  const labels = new Uint8Array(batchSize);
  const drawn: number[] = [];
  for (let b = 0; b < batches; b++) {
    batcher.next(images, labels);
    for (let row = 0; row < batchSize; row++) {
      const index = images[row * WIDTH]!;
      for (let j = 0; j < WIDTH; j++) assert.equal(images[row * WIDTH + j], index + j / 4, `batch ${b} row ${row}: pixel ${j}`);
      assert.equal(labels[row], index % 10, `batch ${b} row ${row}: label`);
      drawn.push(index);
    }
    afterEach?.(drawn.length);
  }
  return drawn;
}

function isPermutation(indices: number[], count: number): boolean {
  return indices.length === count && [...indices].sort((a, b) => a - b).every((value, i) => value === i);
}

let data: MnistData; // real MNIST, loaded once for this file
before(async () => {
  data = await loadMnist();
});

describe('Batcher without shuffling (file order, like --no-shuffle)', () => {
  test('batch k holds train images 60k … 60k+59; batch 916 holds 54960…54999 then 0…19', () => {
    const batchSize = 60, width = data.train.width;
    const batcher = new Batcher(data.train, batchSize, { shuffle: false, seed: 1 });
    const images = new Float32Array(batchSize * width);
    const labels = new Uint8Array(batchSize);
    const assertBatchIs = (firstRows: number[], what: string): void => {
      firstRows.forEach((trainRow, row) => {
        assert.equal(labels[row], data.train.labels[trainRow], `${what} row ${row}: label of train image ${trainRow}`);
        assert.deepEqual(images.subarray(row * width, (row + 1) * width), data.train.images.subarray(trainRow * width, (trainRow + 1) * width), `${what} row ${row}: pixels of train image ${trainRow}`);
      });
    };
    const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
    batcher.next(images, labels);
    assertBatchIs(range(0, 60), 'batch 0');
    for (let k = 1; k < 916; k++) batcher.next(images, labels);
    assertBatchIs(range(54900, 60), 'batch 915');
    assert.equal(batcher.epoch, 0);
    batcher.next(images, labels);
    assertBatchIs([...range(54960, 40), ...range(0, 20)], 'batch 916');
    assert.equal(batcher.epoch, 1);
    batcher.next(images, labels);
    assertBatchIs(range(20, 60), 'batch 917');
  });

  test('over several epochs example n of the stream is n mod count', () => {
    const count = 1000, batchSize = 60, batches = 55;
    const drawn = drawIndices(new Batcher(indexSplit(count), batchSize, { shuffle: false, seed: 1 }), batchSize, batches);
    assert.deepEqual(drawn, Array.from({ length: batches * batchSize }, (_, n) => n % count));
  });
});

describe('Batcher with shuffling', () => {
  test('every example exactly once per epoch, a new order each epoch, the epoch counter as TensorFlow counts', () => {
    const count = 1000, batchSize = 60, batches = 70; // 4,200 examples: 4 epochs and part of a 5th, crossing inside batches
    const batcher = new Batcher(indexSplit(count), batchSize, { shuffle: true, seed: 7 });
    const drawn = drawIndices(batcher, batchSize, batches, (drawnSoFar) => {
      // TensorFlow counts an epoch as completed when a batch needs an example past its end.
      assert.equal(batcher.epoch, Math.floor((drawnSoFar - 1) / count), `after ${drawnSoFar} examples`);
    });
    const epochs = [0, 1, 2, 3].map((e) => drawn.slice(e * count, (e + 1) * count));
    epochs.forEach((epoch, e) => assert.ok(isPermutation(epoch, count), `epoch ${e} holds every example once`));
    assert.notDeepEqual(epochs[0], Array.from({ length: count }, (_, i) => i), 'the first epoch is shuffled');
    for (let e = 1; e < 4; e++) assert.notDeepEqual(epochs[e], epochs[e - 1], `epoch ${e} is reshuffled`);
  });

  test('the order is a Fisher–Yates shuffle by Rng(seed), reshuffled in place at each epoch', () => {
    const count = 500, batchSize = 60, seed = 2024;
    const rng = new Rng(seed);
    const firstEpoch = rng.shuffle(Uint32Array.from({ length: count }, (_, i) => i));
    const secondEpoch = rng.shuffle(firstEpoch.slice());
    const drawn = drawIndices(new Batcher(indexSplit(count), batchSize, { shuffle: true, seed }), batchSize, 16); // 960 examples
    assert.deepEqual(drawn, [...firstEpoch, ...secondEpoch.subarray(0, 960 - count)]);
  });

  test('a batch that ends exactly at the epoch end leaves the epoch count until the next batch (as TensorFlow)', () => {
    const batcher = new Batcher(indexSplit(120), 60, { shuffle: true, seed: 3 });
    const drawn = drawIndices(batcher, 60, 2);
    assert.equal(batcher.epoch, 0);
    assert.ok(isPermutation(drawn, 120));
    drawIndices(batcher, 60, 1);
    assert.equal(batcher.epoch, 1);
  });

  test('a batch larger than the split spans several epochs, each a permutation', () => {
    const batcher = new Batcher(indexSplit(7), 20, { shuffle: true, seed: 5 });
    const drawn = drawIndices(batcher, 20, 1);
    assert.ok(isPermutation(drawn.slice(0, 7), 7) && isPermutation(drawn.slice(7, 14), 7));
    assert.equal(batcher.epoch, 2);
  });

  test('equal seeds give equal batches on real MNIST, different seeds different ones', () => {
    const batchSize = 60, width = data.train.width;
    const batchesOf = (seed: number): { images: Float32Array; labels: Uint8Array } => {
      const batcher = new Batcher(data.train, batchSize, { shuffle: true, seed });
      const images = new Float32Array(20 * batchSize * width); // 20 batches [batchSize, width] back to back
      const labels = new Uint8Array(20 * batchSize);
      for (let b = 0; b < 20; b++) {
        batcher.next(images.subarray(b * batchSize * width, (b + 1) * batchSize * width), labels.subarray(b * batchSize, (b + 1) * batchSize));
      }
      return { images, labels };
    };
    const first = batchesOf(42), again = batchesOf(42), other = batchesOf(43);
    assert.deepEqual(again.labels, first.labels);
    assert.deepEqual(again.images, first.images);
    assert.notDeepEqual(other.labels, first.labels);
  });
});

describe('Batcher argument checks', () => {
  test('buffers of the wrong size and bad batch sizes are refused', () => {
    const split = indexSplit(10);
    assert.throws(() => new Batcher(split, 0, { shuffle: false, seed: 1 }), /batch size must be a whole number ≥ 1, got 0/);
    assert.throws(() => new Batcher(split, 2.5, { shuffle: false, seed: 1 }), /got 2.5/);
    const batcher = new Batcher(split, 4, { shuffle: false, seed: 1 });
    assert.throws(() => batcher.next(new Float32Array(4 * WIDTH - 1), new Uint8Array(4)), /needs images of 4 × 3 and 4 labels, got 11 and 4/);
    assert.throws(() => batcher.next(new Float32Array(4 * WIDTH), new Uint8Array(5)), /got 12 and 5/);
  });
});
