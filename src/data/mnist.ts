/**
 * @file MNIST as the article's TensorFlow 1.x `input_data.read_data_sets` splits it: validation =
 * the first 5,000 images of the training file, train = the remaining 55,000, test = the 10,000
 * test images. Pixels stay the files' bytes (a quarter of float32's memory); their values are
 * TensorFlow's, byte × float32(1/255) in float32, made where floats are needed: `copyRows` here,
 * the kernels' `bytesToFloats` for batches and evaluation. Pure array work: runs in a browser or a worker.
 */
import type { ByteBuffer, Kernels, SparseRows } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import { DataError, type IdxTensor } from './idx.js';

/** The names MNIST (and Fashion-MNIST) ship their four IDX files under. */
export const MNIST_FILE_NAMES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

export const MNIST_IMAGE_SIDE = 28;
export const MNIST_CLASSES = 10;
/** TensorFlow's default `validation_size`. */
export const DEFAULT_VALIDATION_SIZE = 5000;

export interface Split {
  /**
   * [count, width] row-major raw pixel bytes 0..255; the network sees byte × PIXEL_SCALE. Usually
   * a view of the IDX file's bytes, and train and validation share one buffer.
   */
  pixels: Uint8Array;
  /** [count], digits 0..9. */
  labels: Uint8Array;
  count: number;
  /** Inputs per example: 784 for 28 × 28 images. */
  width: number;
}

export interface MnistData {
  train: Split;
  validation: Split;
  test: Split;
  /** Where the files came from (a folder or a package), for records. */
  source: string;
}

/**
 * Builds the three splits from the four parsed IDX files. Throws a DataError naming the file when
 * the images are not 28 × 28, image and label counts disagree, a label is outside 0..9, or the
 * training file is too small to leave training examples after the validation split.
 */
export function splitMnist(
  trainImages: IdxTensor,
  trainLabels: IdxTensor,
  testImages: IdxTensor,
  testLabels: IdxTensor,
  source: string,
  validationSize = DEFAULT_VALIDATION_SIZE,
): MnistData {
  const trainImagesName = trainImages.fileName ?? MNIST_FILE_NAMES.trainImages;
  const trainLabelsName = trainLabels.fileName ?? MNIST_FILE_NAMES.trainLabels;
  const trainCount = checkPair(trainImages, trainImagesName, trainLabels, trainLabelsName);
  const testCount = checkPair(testImages, testImages.fileName ?? MNIST_FILE_NAMES.testImages, testLabels, testLabels.fileName ?? MNIST_FILE_NAMES.testLabels);
  if (testCount === 0) {
    throw new DataError(
      `${testImages.fileName ?? MNIST_FILE_NAMES.testImages} holds no images: an accuracy on no test images means nothing; give the full MNIST test file`,
    );
  }
  if (!Number.isInteger(validationSize) || validationSize < 0) {
    throw new RangeError(`the validation size must be a whole number ≥ 0, got ${validationSize}`);
  }
  if (validationSize >= trainCount) {
    throw new DataError(
      `${trainImagesName} holds ${trainCount} images, but the validation split takes the first ${validationSize} and training needs at least one more: give the full MNIST training file`,
    );
  }
  const width = MNIST_IMAGE_SIDE * MNIST_IMAGE_SIDE;
  // No copy of the pixels: validation and train are views of the two parts of the training file's bytes.
  const trainFilePixels = trainImages.data; // [trainCount, 784]
  const validation: Split = {
    pixels: trainFilePixels.subarray(0, validationSize * width),
    labels: trainLabels.data.slice(0, validationSize),
    count: validationSize,
    width,
  };
  const train: Split = {
    pixels: trainFilePixels.subarray(validationSize * width),
    labels: trainLabels.data.slice(validationSize),
    count: trainCount - validationSize,
    width,
  };
  const test: Split = { pixels: testImages.data, labels: testLabels.data.slice(), count: testCount, width };
  return { train, validation, test, source };
}

/** Checks one images/labels pair and returns its example count. */
function checkPair(images: IdxTensor, imagesName: string, labels: IdxTensor, labelsName: string): number {
  const [count, rows, cols] = images.dims;
  if (images.dims.length !== 3 || rows !== MNIST_IMAGE_SIDE || cols !== MNIST_IMAGE_SIDE) {
    throw new DataError(
      `${imagesName} holds images of shape [${images.dims.join(', ')}], but MNIST images are [count, 28, 28]: give MNIST-layout files (MNIST or Fashion-MNIST)`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DataError(`${labelsName} has ${labels.dims.length} dimensions, but a label file has 1: check that the file is the one its name says`);
  }
  if (labels.dims[0] !== count) {
    throw new DataError(`${imagesName} holds ${count} images but ${labelsName} holds ${labels.dims[0]} labels: the two files must come from the same release`);
  }
  const labelData = labels.data;
  for (let i = 0; i < labelData.length; i++) {
    if (labelData[i]! >= MNIST_CLASSES) {
      throw new DataError(`${labelsName} has label ${labelData[i]} at index ${i}, but MNIST labels are digits 0..9: the file is damaged or not a label file`);
    }
  }
  return count!;
}

/** float32(1/255): TensorFlow scales pixels by this factor, not by a division. */
export const PIXEL_SCALE = Math.fround(1 / 255);

/**
 * [256] the float value of every byte, as TensorFlow's DataSet makes pixels,
 * `numpy.multiply(images.astype(float32), 1.0 / 255.0)`: a float32 product with float32(1/255),
 * which differs from byte / 255 by one ulp for 126 of the 256 byte values (0 → 0 and 255 → 1
 * exactly). The double product is exact (8 × 24 bits), so fround rounds it once, as float32 does.
 */
const PIXEL_VALUES = Float32Array.from({ length: 256 }, (_, byte) => Math.fround(byte * PIXEL_SCALE));

/** The float value the network sees for a pixel byte. */
export function pixelValue(byte: number): number {
  return PIXEL_VALUES[byte]!;
}

/**
 * Writes the float values of rows [start, start + rows) of `split` into `into` from `intoOffset`
 * (rows × width elements), through a 256-entry table: for code that needs floats outside a kernel
 * backend (another framework's tensors, float64 checks). Batches and evaluation use the kernels'
 * `bytesToFloats` instead, which gives the same floats.
 */
export function copyRows(split: Split, start: number, rows: number, into: Float32Array | Float64Array, intoOffset = 0): void {
  checkRowRange(split, start, rows);
  const length = rows * split.width;
  if (!Number.isInteger(intoOffset) || intoOffset < 0 || intoOffset + length > into.length) {
    throw new RangeError(`copyRows: ${rows} rows of ${split.width} do not fit in ${into.length} elements from offset ${intoOffset}`);
  }
  const source = split.pixels,
    first = start * split.width;
  for (let i = 0; i < length; i++) into[intoOffset + i] = PIXEL_VALUES[source[first + i]!]!;
}

/**
 * A split as a network's example source (nn/'s `ExampleSource`, for `MLP.evaluate`): rows are
 * converted by the network's own backend, straight into its input matrix or packed as their
 * nonzeros (as a training batch is), from `pixels`: the split's own bytes (which a wasm backend
 * copies in at each call), or the same bytes kept in that backend's memory (`residentPixels`,
 * data/resident-pixels.ts), read in place: for a split evaluated again and again (validation,
 * every few hundred steps).
 */
export function splitExamples(split: Split, pixels: ByteBuffer = { data: split.pixels }): SplitExamples {
  if (pixels.data.length !== split.pixels.length) throw new RangeError(`a split of ${split.pixels.length} pixel bytes was given ${pixels.data.length}`);
  return {
    count: split.count,
    labels: split.labels,
    copyRows(start: number, rows: number, into: Matrix, kernels: Kernels): void {
      checkRowRange(split, start, rows);
      kernels.bytesToFloats(pixels.data.subarray(start * split.width, (start + rows) * split.width), PIXEL_SCALE, into);
    },
    packRows(start: number, rows: number, into: SparseRows, kernels: Kernels): void {
      checkRowRange(split, start, rows);
      const picked = new Uint32Array(rows);
      for (let i = 0; i < rows; i++) picked[i] = start + i;
      kernels.gatherSparseRows(pixels.data, picked, PIXEL_SCALE, into);
    },
  };
}

/** What `splitExamples` returns; the same shape as nn/'s ExampleSource, which data/ does not import. */
export interface SplitExamples {
  readonly count: number;
  readonly labels: Uint8Array;
  copyRows(start: number, rows: number, into: Matrix, kernels: Kernels): void;
  packRows(start: number, rows: number, into: SparseRows, kernels: Kernels): void;
}

function checkRowRange(split: Split, start: number, rows: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(rows) || start < 0 || rows < 0 || start + rows > split.count) {
    throw new RangeError(`rows ${start}..${start + rows} are outside a split of ${split.count} examples`);
  }
}
