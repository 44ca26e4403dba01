/**
 * @file The general safetensors encoder/decoder: a known-answer file written out byte by byte
 * from the format's definition (u64 LE header length, JSON, IEEE 754 little-endian data), round
 * trips of every numeric dtype including scalars and empty tensors, a file laid out the way
 * another writer might (unpadded header, other key order, unaligned data), and each of the
 * format's rules enforced.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type TensorInput, tensorValues } from '../../src/train/safetensors.js';

/** A safetensors file from a header object and raw data, with no padding: as a minimal writer would make it. */
function rawFile(header: object | string, data: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes),
    (error: unknown) => error instanceof SafetensorsError && pattern.test(error.message),
  );
}

describe('safetensors encoding', () => {
  test('a known answer: one F32 tensor [1, -2], byte for byte', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], values: [1, -2] } });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes, padded with two spaces to 56
    const expected = [
      56,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode(json),
      0x20,
      0x20,
      0x00,
      0x00,
      0x80,
      0x3f, // 1.0f = 0x3f800000, little-endian
      0x00,
      0x00,
      0x00,
      0xc0, // -2.0f = 0xc0000000
    ];
    assert.deepEqual(Array.from(bytes), expected);
  });

  test('every numeric dtype, a scalar and an empty tensor round-trip exactly, with metadata', () => {
    const tensors: Record<string, TensorInput> = {
      f64: { dtype: 'F64', shape: [3], values: Float64Array.from([Math.PI, -0, 1e-300]) },
      f32: { dtype: 'F32', shape: [2, 2], values: Float32Array.from([0.1, -3.5, 65504, 1e-40]) },
      i64: { dtype: 'I64', shape: [2], values: BigInt64Array.from([-(2n ** 62n), 123n]) },
      scalar: { dtype: 'I64', shape: [], values: [42] },
      i32: { dtype: 'I32', shape: [1, 3], values: [-1, 0, 2147483647] },
      u8: { dtype: 'U8', shape: [3], values: [0, 128, 255] },
      empty: { dtype: 'F32', shape: [0, 4], values: [] },
    };
    const metadata = { note: 'héllo "quoted"', empty: '' };
    const file = decodeSafetensors(encodeSafetensors(tensors, metadata));
    assert.deepEqual(file.metadata, metadata);
    assert.deepEqual([...file.tensors.keys()].sort(), Object.keys(tensors).sort());
    for (const [name, tensor] of file.tensors) assert.deepEqual(tensor.shape, tensors[name]!.shape, name);
    assert.ok(Object.is(tensorValues(file.tensors.get('f64')!, 'F64')[1], -0));
    assert.deepEqual(tensorValues(file.tensors.get('f64')!, 'F64'), tensors.f64!.values);
    assert.deepEqual(tensorValues(file.tensors.get('f32')!, 'F32'), tensors.f32!.values);
    assert.deepEqual(tensorValues(file.tensors.get('i64')!, 'I64'), tensors.i64!.values);
    assert.deepEqual(tensorValues(file.tensors.get('scalar')!, 'I64'), BigInt64Array.from([42n]));
    assert.deepEqual(tensorValues(file.tensors.get('i32')!, 'I32'), Int32Array.from([-1, 0, 2147483647]));
    assert.deepEqual(tensorValues(file.tensors.get('u8')!, 'U8'), Uint8Array.from([0, 128, 255]));
    assert.equal(tensorValues(file.tensors.get('empty')!, 'F32').length, 0);
    assert.throws(() => tensorValues(file.tensors.get('u8')!, 'F32'), /U8, not F32/);
  });

  test('data is laid out widest dtype first, every tensor aligned to its element size', () => {
    const bytes = encodeSafetensors({
      small: { dtype: 'U8', shape: [3], values: [1, 2, 3] },
      single: { dtype: 'F32', shape: [1], values: [1] },
      double: { dtype: 'F64', shape: [1], values: [1] },
    });
    const headerBytes = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(headerBytes % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerBytes)));
    assert.deepEqual(header.double.data_offsets, [0, 8]);
    assert.deepEqual(header.single.data_offsets, [8, 12]);
    assert.deepEqual(header.small.data_offsets, [12, 15]);
  });

  test('the encoder refuses what the format cannot hold', () => {
    assert.throws(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2, 2], values: [1, 2, 3] } }), /4 elements\) but 3 values/);
    assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [0], values: [] } }), /reserved/);
    assert.throws(() => encodeSafetensors({ a: { dtype: 'F32', shape: [-1], values: [] } }), /dimensions must be whole numbers/);
    assert.throws(() => encodeSafetensors({ a: { dtype: 'I64', shape: [1], values: [0.5] } }), /whole numbers/);
  });
});

describe('safetensors decoding', () => {
  test('reads a file laid out by another writer: unpadded header, metadata last, unaligned data', () => {
    // Header of odd length, so the F64 starts at an odd file offset: the decoder must not need alignment.
    const header = { b: { dtype: 'F64', shape: [1], data_offsets: [2, 10] }, a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, __metadata__: { k: 'v' } };
    const f64 = new Uint8Array(new Float64Array([-1.25]).buffer); // little-endian on every platform Node runs on
    const file = decodeSafetensors(rawFile(header, [7, 9, ...f64]));
    assert.deepEqual([...file.tensors.keys()], ['a', 'b'], 'in the order of their offsets');
    assert.deepEqual(tensorValues(file.tensors.get('b')!, 'F64'), Float64Array.from([-1.25]));
    assert.deepEqual(tensorValues(file.tensors.get('a')!, 'U8'), Uint8Array.from([7, 9]));
    assert.deepEqual(file.metadata, { k: 'v' });
  });

  test('reads from a view at an odd offset into a larger buffer, and returns copies', () => {
    const file = encodeSafetensors({ x: { dtype: 'F64', shape: [2], values: [0.5, -7] } });
    const backing = new Uint8Array(3 + file.length);
    backing.set(file, 3);
    const decoded = decodeSafetensors(backing.subarray(3));
    backing.fill(0);
    const tensor = decoded.tensors.get('x')!;
    assert.equal(tensor.bytes.byteOffset, 0);
    assert.deepEqual(tensorValues(tensor, 'F64'), Float64Array.from([0.5, -7]));
  });

  test('dtypes it cannot convert are still validated and returned as raw bytes', () => {
    const file = decodeSafetensors(rawFile({ h: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, [1, 2, 3, 4]));
    assert.deepEqual(Array.from(file.tensors.get('h')!.bytes), [1, 2, 3, 4]);
  });

  test('an empty file header "{}" with no data is a valid, empty file', () => {
    const file = decodeSafetensors(rawFile({}));
    assert.equal(file.tensors.size, 0);
  });

  test("each of the format's rules is enforced", () => {
    refused(new Uint8Array(7), /shorter than the 8-byte header length/);
    refused(rawFile({}).subarray(0, 9), /header claims 2 bytes but the file has only 1/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    refused(huge, /more than the format's limit/);
    refused(rawFile(' {}'), /does not start with "\{"/);
    refused(rawFile('{"a": 1'), /not valid JSON/);
    refused(rawFile({ a: 1 }), /not an object with dtype, shape and data_offsets/);
    refused(rawFile({ a: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /unknown dtype "f32"/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /a shape is a list of whole numbers/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, [0, 0, 0, 0]), /must be \[begin, end\]/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]), /end before they begin/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]), /spans 8 bytes, but F32 with shape \[1\] needs 4/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]), /no gaps/);
    refused(
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } }, [0, 0, 0, 0, 0, 0]),
      /must not overlap/,
    );
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [0, 0]), /ends at byte 4 of the data, but the file holds only 2/);
    refused(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0, 9]), /cover 4 bytes of data, but the file holds 5/);
    refused(rawFile({ __metadata__: { a: 1 } }), /metadata values must be strings/);
    refused(rawFile({ __metadata__: ['a'] }), /must be an object mapping strings to strings/);
    refused(rawFile({ a: { dtype: 'F64', shape: [2 ** 30, 2 ** 30], data_offsets: [0, 8] } }), /too many elements/);
  });
});
