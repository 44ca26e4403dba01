/**
 * @file The IDX parser on crafted files: a valid file round-trips its dims and data, and every
 * kind of damage (bad magic, another element type, a gzipped file, a wrong rank, a truncated
 * header or body, trailing bytes) is a DataError whose message names the file.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataError, parseIdx } from '../../src/data/idx.js';
import { idxBytes } from './idx-fixtures.js';

const FILE = '/some/dir/train-images-idx3-ubyte';

/** Asserts parse fails with a DataError naming FILE and matching `pattern`. */
function assertRejected(bytes: Uint8Array, pattern: RegExp, expectedRank?: number): void {
  assert.throws(
    () => parseIdx(bytes, FILE, expectedRank),
    (error: unknown) => {
      assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
      assert.equal(error.name, 'DataError');
      assert.ok(error.message.includes(FILE), `the message names the file: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('parseIdx', () => {
  test('a valid unsigned-byte file gives its dims and its data bytes in order', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    const tensor = parseIdx(idxBytes([2, 3, 4], data), FILE, 3);
    assert.deepEqual(tensor.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(tensor.data), Array.from(data));
    assert.equal(tensor.fileName, FILE);
  });

  test('dims are big-endian uint32 (the header of the real training images: 60000 × 28 × 28)', () => {
    // 60000 = 0x0000EA60, as in the first 16 bytes of train-images-idx3-ubyte.
    const header = Uint8Array.from([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
    const bytes = new Uint8Array(16 + 60000 * 784);
    bytes.set(header);
    assert.deepEqual(parseIdx(bytes, FILE).dims, [60000, 28, 28]);
  });

  test('a byte array that is a view into a larger buffer is read from its own start', () => {
    const file = idxBytes([3], [7, 8, 9]);
    const padded = new Uint8Array(file.length + 10);
    padded.set(file, 5);
    const tensor = parseIdx(padded.subarray(5, 5 + file.length), FILE, 1);
    assert.deepEqual(tensor.dims, [3]);
    assert.deepEqual(Array.from(tensor.data), [7, 8, 9]);
  });

  test('a bad magic number is refused', () => {
    const bytes = idxBytes([3], [1, 2, 3]);
    bytes[0] = 0x12;
    assertRejected(bytes, /not an IDX file.*0x12/);
  });

  test('a gzipped file is refused with a hint to decompress it', () => {
    const bytes = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    assertRejected(bytes, /gzip/);
  });

  test('a file shorter than the magic number is refused', () => {
    assertRejected(Uint8Array.from([0, 0]), /too short/);
  });

  test('element types other than unsigned byte are refused, naming the type', () => {
    assertRejected(idxBytes([3], [1, 2, 3], { type: 0x0d }), /type 0x0d \(float32\).*0x08/);
    assertRejected(idxBytes([3], [1, 2, 3], { type: 0x09 }), /type 0x09 \(signed byte\)/);
    assertRejected(idxBytes([3], [1, 2, 3], { type: 0x42 }), /type 0x42 \(an unknown type\)/);
  });

  test('a rank of 0 is refused', () => {
    assertRejected(idxBytes([], []), /declares 0 dimensions/);
  });

  test('a rank other than the expected one is refused', () => {
    assertRejected(idxBytes([2, 2], [1, 2, 3, 4]), /has 2 dimensions but 1 was expected/, 1);
    assertRejected(idxBytes([4], [1, 2, 3, 4]), /has 1 dimension but 3 were expected/, 3);
  });

  test('a header cut short inside its dims is refused', () => {
    const bytes = idxBytes([10, 28, 28], []).subarray(0, 4 + 4 * 2); // room for 2 of 3 dims
    assertRejected(bytes, /truncated: its IDX header needs 16 bytes .* has 12/);
  });

  test('data shorter than the header announces is refused (truncated)', () => {
    const full = idxBytes([4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    assertRejected(full.subarray(0, full.length - 1), /truncated: its header announces \[4, 2\] = 8 bytes of data but only 7 follow/);
  });

  test('dims with the top bit set read as large positive counts, not negative ones', () => {
    // 0x80000001 elements: a sign-extended read would give a negative count and a wrong message.
    assertRejected(idxBytes([0x80000001], [1, 2, 3]), /announces \[2147483649\] = 2147483649 bytes of data but only 3 follow/);
  });

  test('bytes after the announced data are refused (trailing bytes)', () => {
    const file = idxBytes([2, 2], [1, 2, 3, 4]);
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    assertRejected(longer, /3 trailing bytes after the 4 data bytes its header announces \(\[2, 2\]\)/);
  });
});
