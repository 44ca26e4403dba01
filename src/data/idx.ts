/**
 * @file A parser for the IDX format MNIST ships in (LeCun's "idx3-ubyte" files): a 4-byte magic
 * number (0x00 0x00, a type byte, a rank byte), one big-endian uint32 per dimension, then the
 * elements in row-major order. Only unsigned bytes (type 0x08) are read: that is all MNIST and
 * Fashion-MNIST need. Pure byte handling, no I/O: it runs in a browser or a worker.
 */

/** An error in a data file a user gave us; the message names the file and says what to do. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export interface IdxTensor {
  /** Sizes of each dimension, outermost first: [count, rows, cols] for MNIST images. */
  dims: number[];
  /** The elements, row-major; a view into the parsed bytes (no copy). */
  data: Uint8Array;
  /** The file the tensor came from, so later checks can name it. */
  fileName?: string;
}

const UNSIGNED_BYTE = 0x08;
const HEADER_PREFIX_BYTES = 4;
const BYTES_PER_DIM = 4;
const MAX_RANK = 8; // real IDX files have 1 to 4; more means the bytes are not an IDX header

/** IDX element types from the format's description, for messages about files we refuse. */
const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/**
 * Parses an unsigned-byte IDX file. `expectedRank`, when given, is checked (3 for MNIST images,
 * 1 for labels). Throws a DataError naming `fileName` on any mismatch between the header and the
 * bytes: a bad magic number, another element type, a wrong rank, a truncated file or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, fileName: string, expectedRank?: number): IdxTensor {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataError(`${fileName} is gzip-compressed, not a raw IDX file: decompress it first (or name it ${fileName}.gz so the loader decompresses it)`);
  }
  if (bytes.length < HEADER_PREFIX_BYTES) {
    throw new DataError(`${fileName} is too short to be an IDX file (${bytes.length} bytes; the header alone takes at least 8): give the real MNIST file`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      `${fileName} is not an IDX file: its magic number starts with bytes 0x${hex(bytes[0]!)} 0x${hex(bytes[1]!)} instead of 0x00 0x00; give the MNIST IDX file itself`,
    );
  }
  const type = bytes[2]!;
  if (type !== UNSIGNED_BYTE) {
    const typeName = IDX_TYPE_NAMES[type] ?? 'an unknown type';
    throw new DataError(
      `${fileName} holds IDX element type 0x${hex(type)} (${typeName}); only unsigned-byte IDX files (type 0x08), as MNIST ships them, can be read`,
    );
  }
  const rank = bytes[3]!;
  if (rank === 0 || rank > MAX_RANK) {
    throw new DataError(
      `${fileName} declares ${rank} dimensions in its IDX header; an MNIST file has 1 (labels) or 3 (images), so the file is damaged or not MNIST`,
    );
  }
  if (expectedRank !== undefined && rank !== expectedRank) {
    throw new DataError(
      `${fileName} has ${rank} dimension${rank === 1 ? '' : 's'} but ${expectedRank} ${expectedRank === 1 ? 'was' : 'were'} expected (MNIST labels have 1, images 3): check that the file is the one its name says`,
    );
  }
  const headerBytes = HEADER_PREFIX_BYTES + BYTES_PER_DIM * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${fileName} is truncated: its IDX header needs ${headerBytes} bytes for ${rank} dimensions but the file has ${bytes.length}; download it again`,
    );
  }
  const dims: number[] = [];
  let elementCount = 1;
  for (let d = 0; d < rank; d++) {
    const at = HEADER_PREFIX_BYTES + BYTES_PER_DIM * d;
    // Big-endian uint32; multiplication instead of << 24 keeps values above 2^31 positive.
    const size = bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
    dims.push(size);
    elementCount *= size;
  }
  const dataBytes = bytes.length - headerBytes;
  const shape = `[${dims.join(', ')}]`;
  if (dataBytes < elementCount) {
    throw new DataError(
      `${fileName} is truncated: its header announces ${shape} = ${elementCount} bytes of data but only ${dataBytes} follow; download it again`,
    );
  }
  if (dataBytes > elementCount) {
    throw new DataError(
      `${fileName} has ${dataBytes - elementCount} trailing bytes after the ${elementCount} data bytes its header announces (${shape}): the file is damaged or not the IDX file its name says`,
    );
  }
  // A plain Uint8Array view even when `bytes` is a Node Buffer, whose slice() would not copy.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, elementCount), fileName };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
