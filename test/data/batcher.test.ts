/**
 * @file The Batcher against TensorFlow 1.x DataSet.next_batch semantics: file order without
 * shuffling (wrapping at the epoch's end: batch 916 of 60 holds train images 54960…54999 then
 * 0…19), every example exactly once per shuffled epoch, the epoch counter, a seed's batches being
 * Fisher–Yates permutations drawn from the project's Rng, and equal seeds giving equal batches.
 */

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { Batcher } from '../../src/data/batcher.js';
import type { MnistData, Split } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';

const WIDTH = 3;

/** Pixel bytes of example i: [i mod 256, ⌊i / 256⌋, (7i + 3) mod 256], so a batch row tells which example it is and whether it came whole. */
function indexPixels(i: number): number[] {
  return [i % 256, Math.floor(i / 256), (7 * i + 3) % 256];
}

/** A split whose example i has the pixels `indexPixels(i)` and label i mod 10 (count ≤ 65,536). */
function indexSplit(count: number): Split {
  const pixels = new Uint8Array(count * WIDTH); // [count, WIDTH]
  for (let i = 0; i < count; i++) pixels.set(indexPixels(i), i * WIDTH);
  return { pixels, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, width: WIDTH };
}

/** The example indices of `batches` batches, checking that each row was copied whole with its own label. */
function drawIndices(batcher: Batcher, batchSize: number, batches: number, afterEach?: (drawn: number) => void): number[] {
  const pixels = new Uint8Array(batchSize * WIDTH);
  const labels = new Uint8Array(batchSize);
  const drawn: number[] = [];
  for (let b = 0; b < batches; b++) {
    batcher.next(pixels, labels);
    for (let row = 0; row < batchSize; row++) {
      const index = pixels[row * WIDTH]! + 256 * pixels[row * WIDTH + 1]!;
      assert.deepEqual(Array.from(pixels.subarray(row * WIDTH, (row + 1) * WIDTH)), indexPixels(index), `batch ${b} row ${row}: pixels`);
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
    const batchSize = 60,
      width = data.train.width;
    const batcher = new Batcher(data.train, batchSize, { shuffle: false, seed: 1 });
    const pixels = new Uint8Array(batchSize * width);
    const labels = new Uint8Array(batchSize);
    const assertBatchIs = (firstRows: number[], what: string): void => {
      firstRows.forEach((trainRow, row) => {
        assert.equal(labels[row], data.train.labels[trainRow], `${what} row ${row}: label of train image ${trainRow}`);
        assert.deepEqual(
          pixels.subarray(row * width, (row + 1) * width),
          data.train.pixels.subarray(trainRow * width, (trainRow + 1) * width),
          `${what} row ${row}: pixels of train image ${trainRow}`,
        );
      });
    };
    const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
    batcher.next(pixels, labels);
    assertBatchIs(range(0, 60), 'batch 0');
    for (let k = 1; k < 916; k++) batcher.next(pixels, labels);
    assertBatchIs(range(54900, 60), 'batch 915');
    assert.equal(batcher.epoch, 0);
    batcher.next(pixels, labels);
    assertBatchIs([...range(54960, 40), ...range(0, 20)], 'batch 916');
    assert.equal(batcher.epoch, 1);
    batcher.next(pixels, labels);
    assertBatchIs(range(20, 60), 'batch 917');
  });

  test('over several epochs example n of the stream is n mod count', () => {
    const count = 1000,
      batchSize = 60,
      batches = 55;
    const drawn = drawIndices(new Batcher(indexSplit(count), batchSize, { shuffle: false, seed: 1 }), batchSize, batches);
    assert.deepEqual(
      drawn,
      Array.from({ length: batches * batchSize }, (_, n) => n % count),
    );
  });
});

describe('Batcher with shuffling', () => {
  test('every example exactly once per epoch, a new order each epoch, the epoch counter as TensorFlow counts', () => {
    const count = 1000,
      batchSize = 60,
      batches = 70; // 4,200 examples: 4 epochs and part of a 5th, crossing inside batches
    const batcher = new Batcher(indexSplit(count), batchSize, { shuffle: true, seed: 7 });
    const drawn = drawIndices(batcher, batchSize, batches, (drawnSoFar) => {
      // TensorFlow counts an epoch as completed when a batch needs an example past its end.
      assert.equal(batcher.epoch, Math.floor((drawnSoFar - 1) / count), `after ${drawnSoFar} examples`);
    });
    const epochs = [0, 1, 2, 3].map((e) => drawn.slice(e * count, (e + 1) * count));
    epochs.forEach((epoch, e) => {
      assert.ok(isPermutation(epoch, count), `epoch ${e} holds every example once`);
    });
    assert.notDeepEqual(
      epochs[0],
      Array.from({ length: count }, (_, i) => i),
      'the first epoch is shuffled',
    );
    for (let e = 1; e < 4; e++) assert.notDeepEqual(epochs[e], epochs[e - 1], `epoch ${e} is reshuffled`);
  });

  test('the order is a Fisher–Yates shuffle by Rng(seed), reshuffled in place at each epoch', () => {
    const count = 500,
      batchSize = 60,
      seed = 2024;
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
    const batchSize = 60,
      width = data.train.width;
    const batchesOf = (seed: number): { pixels: Uint8Array; labels: Uint8Array } => {
      const batcher = new Batcher(data.train, batchSize, { shuffle: true, seed });
      const pixels = new Uint8Array(20 * batchSize * width); // 20 batches [batchSize, width] back to back
      const labels = new Uint8Array(20 * batchSize);
      for (let b = 0; b < 20; b++) {
        batcher.next(pixels.subarray(b * batchSize * width, (b + 1) * batchSize * width), labels.subarray(b * batchSize, (b + 1) * batchSize));
      }
      return { pixels, labels };
    };
    const first = batchesOf(42),
      again = batchesOf(42),
      other = batchesOf(43);
    assert.deepEqual(again.labels, first.labels);
    assert.deepEqual(again.pixels, first.pixels);
    assert.notDeepEqual(other.labels, first.labels);
  });
});

describe('Batcher argument checks', () => {
  test('buffers of the wrong size and bad batch sizes are refused', () => {
    const split = indexSplit(10);
    assert.throws(() => new Batcher(split, 0, { shuffle: false, seed: 1 }), /batch size must be a whole number ≥ 1, got 0/);
    assert.throws(() => new Batcher(split, 2.5, { shuffle: false, seed: 1 }), /got 2.5/);
    const batcher = new Batcher(split, 4, { shuffle: false, seed: 1 });
    assert.throws(() => batcher.next(new Uint8Array(4 * WIDTH - 1), new Uint8Array(4)), /needs pixels of 4 × 3 and 4 labels, got 11 and 4/);
    assert.throws(() => batcher.next(new Uint8Array(4 * WIDTH), new Uint8Array(5)), /got 12 and 5/);
  });
});
