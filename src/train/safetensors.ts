/**
 * @file A small, general safetensors encoder and decoder (the format of Hugging Face's
 * `safetensors`): an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {dtype, shape, data_offsets} plus an optional "__metadata__" map of string to
 * string, then the raw little-endian tensor data. Pure: bytes in, bytes out, no node:* import.
 *
 * The decoder enforces the format's rules, as the reference (Rust) implementation does: the
 * header starts with "{" and parses, every dtype is known, every tensor's byte size equals
 * dtype size × number of elements, and the tensors' [begin, end) ranges tile the data buffer
 * exactly (contiguous, no overlap, no hole, nothing past its end). Reads go through a DataView
 * after the bounds are checked, so a damaged file is a SafetensorsError, never a RangeError.
 */

/** Every dtype the format defines, with its size in bytes. */
const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

type Dtype = keyof typeof DTYPE_BYTES;

/** The dtypes this module converts to and from typed arrays; the others decode to raw bytes only. */
export type NumericDtype = 'F64' | 'F32' | 'I64' | 'I32' | 'U8';

export type TensorValues = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor to encode: `values` holds the elements in row-major order. */
export interface TensorInput {
  dtype: NumericDtype;
  shape: readonly number[];
  values: ArrayLike<number> | BigInt64Array;
}

/** A tensor as read from a file: its raw little-endian bytes (a copy, 8-byte aligned). */
export interface DecodedTensor {
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** In the order of their data offsets. */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** A file that breaks the format's rules; the message says which rule, in one sentence. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const HEADER_LENGTH_BYTES = 8;
/** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/**
 * The bytes of a safetensors file holding `tensors` and `metadata`. Tensors are laid out widest
 * dtype first, then by name (the reference writer's order), and the header is padded with spaces
 * to a multiple of 8, so every tensor starts at an offset aligned to its element size.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorInput> | Record<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  const entries: Array<[string, TensorInput]> = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const layout = entries
    .map(([name, tensor]) => {
      if (name === METADATA_KEY) throw new RangeError(`"${METADATA_KEY}" is reserved for the metadata map and cannot name a tensor`);
      for (const dim of tensor.shape) {
        if (!Number.isSafeInteger(dim) || dim < 0)
          throw new RangeError(`tensor "${name}" has shape [${tensor.shape.join(', ')}]; dimensions must be whole numbers of at least 0`);
      }
      const count = elementCount(tensor.shape);
      if (tensor.values.length !== count) {
        throw new RangeError(`tensor "${name}" has shape [${tensor.shape.join(', ')}] (${count} elements) but ${tensor.values.length} values`);
      }
      return { name, tensor, byteLength: count * DTYPE_BYTES[tensor.dtype] };
    })
    .sort((a, b) => DTYPE_BYTES[b.tensor.dtype] - DTYPE_BYTES[a.tensor.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new RangeError(`metadata "${key}" must be a string, got ${typeof value}`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const placed = layout.map((entry) => {
    const begin = offset;
    offset += entry.byteLength;
    header[entry.name] = { dtype: entry.tensor.dtype, shape: [...entry.tensor.shape], data_offsets: [begin, offset] };
    return { ...entry, begin };
  });
  const dataBytes = offset;

  const json = new TextEncoder().encode(JSON.stringify(header));
  const paddedHeaderBytes = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(HEADER_LENGTH_BYTES + paddedHeaderBytes + dataBytes);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(paddedHeaderBytes), true);
  bytes.set(json, HEADER_LENGTH_BYTES);
  bytes.fill(0x20, HEADER_LENGTH_BYTES + json.length, HEADER_LENGTH_BYTES + paddedHeaderBytes);

  const dataStart = HEADER_LENGTH_BYTES + paddedHeaderBytes;
  for (const { tensor, begin } of placed) writeValues(view, dataStart + begin, tensor);
  return bytes;
}

function writeValues(view: DataView, start: number, { dtype, values }: TensorInput): void {
  const count = values.length;
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) view.setFloat64(start + 8 * i, Number(values[i]), true);
      return;
    case 'F32':
      for (let i = 0; i < count; i++) view.setFloat32(start + 4 * i, Number(values[i]), true);
      return;
    case 'I64':
      for (let i = 0; i < count; i++) view.setBigInt64(start + 8 * i, toBigInt(values[i]!), true);
      return;
    case 'I32':
      for (let i = 0; i < count; i++) view.setInt32(start + 4 * i, Number(values[i]), true);
      return;
    case 'U8':
      for (let i = 0; i < count; i++) view.setUint8(start + i, Number(values[i]));
      return;
    default:
      throw new RangeError(`cannot encode dtype ${dtype satisfies never}`);
  }
}

function toBigInt(value: number | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`an I64 tensor needs whole numbers, got ${value}`);
  return BigInt(value);
}

/** Parses and validates a safetensors file; every problem is a SafetensorsError. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < HEADER_LENGTH_BYTES) {
    throw new SafetensorsError(`the file is ${bytes.length} bytes long, shorter than the 8-byte header length that starts every safetensors file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`the header claims ${headerLength} bytes, more than the format's limit of ${MAX_HEADER_BYTES}`);
  }
  const headerBytes = Number(headerLength);
  if (HEADER_LENGTH_BYTES + headerBytes > bytes.length) {
    throw new SafetensorsError(
      `the header claims ${headerBytes} bytes but the file has only ${bytes.length - HEADER_LENGTH_BYTES} after the length field (is it truncated?)`,
    );
  }
  const dataStart = HEADER_LENGTH_BYTES + headerBytes;
  const header = parseHeader(bytes.subarray(HEADER_LENGTH_BYTES, dataStart));
  const dataBytes = bytes.length - dataStart;

  let metadata: Record<string, string> = {};
  const infos: Array<{ name: string; dtype: Dtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(entry);
      continue;
    }
    infos.push({ name, ...parseTensorInfo(name, entry) });
  }

  // The tensors' ranges must tile [0, dataBytes): sorted by offset, each begins where the last ended.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const info of infos) {
    if (info.begin !== expectedBegin) {
      throw new SafetensorsError(
        info.begin < expectedBegin
          ? `tensor "${info.name}" starts at byte ${info.begin}, inside the previous tensor, which ends at ${expectedBegin}: tensors must not overlap`
          : `tensor "${info.name}" starts at byte ${info.begin}, but the previous tensor ends at ${expectedBegin}: the data must have no gaps`,
      );
    }
    const byteLength = elementCount(info.shape) * DTYPE_BYTES[info.dtype];
    if (info.end - info.begin !== byteLength) {
      throw new SafetensorsError(
        `tensor "${info.name}" spans ${info.end - info.begin} bytes, but ${info.dtype} with shape [${info.shape.join(', ')}] needs ${byteLength}`,
      );
    }
    if (info.end > dataBytes) {
      throw new SafetensorsError(
        `tensor "${info.name}" ends at byte ${info.end} of the data, but the file holds only ${dataBytes} data bytes (is it truncated?)`,
      );
    }
    expectedBegin = info.end;
  }
  if (expectedBegin !== dataBytes) {
    throw new SafetensorsError(`the tensors cover ${expectedBegin} bytes of data, but the file holds ${dataBytes}: the data must be exactly the tensors`);
  }

  const tensors = new Map<string, DecodedTensor>();
  for (const { name, dtype, shape, begin, end } of infos) {
    // new Uint8Array(view) copies into a fresh buffer; a Node Buffer's slice() would share memory.
    tensors.set(name, { dtype, shape, bytes: new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)) });
  }
  return { tensors, metadata };
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError('the header does not start with "{", so it is not a safetensors JSON header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw new SafetensorsError('the header is not a JSON object');
  return parsed;
}

function parseMetadata(entry: unknown): Record<string, string> {
  if (!isPlainObject(entry)) throw new SafetensorsError(`"${METADATA_KEY}" must be an object mapping strings to strings`);
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string')
      throw new SafetensorsError(`metadata "${key}" is a ${value === null ? 'null' : typeof value}; metadata values must be strings`);
    metadata[key] = value;
  }
  return metadata;
}

function parseTensorInfo(name: string, entry: unknown): { dtype: Dtype; shape: number[]; begin: number; end: number } {
  if (!isPlainObject(entry)) throw new SafetensorsError(`the header entry of tensor "${name}" is not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!isDtype(dtype))
    throw new SafetensorsError(`tensor "${name}" has an unknown dtype ${JSON.stringify(dtype)}; known: ${Object.keys(DTYPE_BYTES).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isByteCount)) {
    throw new SafetensorsError(`tensor "${name}" has shape ${JSON.stringify(shape)}; a shape is a list of whole numbers of at least 0`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isByteCount)) {
    throw new SafetensorsError(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; they must be [begin, end], two whole numbers of at least 0`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError(`tensor "${name}" has data_offsets [${begin}, ${end}], which end before they begin`);
  if (!Number.isSafeInteger(elementCount(shape) * DTYPE_BYTES[dtype])) {
    throw new SafetensorsError(`tensor "${name}" has shape [${shape.join(', ')}], too many elements to hold in memory`);
  }
  return { dtype, shape: [...shape] as number[], begin, end };
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A decoded tensor's elements as a typed array of its dtype (read little-endian, whatever the platform). */
export function tensorValues(tensor: DecodedTensor, dtype: 'F64'): Float64Array;
export function tensorValues(tensor: DecodedTensor, dtype: 'F32'): Float32Array;
export function tensorValues(tensor: DecodedTensor, dtype: 'I64'): BigInt64Array;
export function tensorValues(tensor: DecodedTensor, dtype: 'I32'): Int32Array;
export function tensorValues(tensor: DecodedTensor, dtype: 'U8'): Uint8Array;
export function tensorValues(tensor: DecodedTensor, dtype: NumericDtype): TensorValues {
  if (tensor.dtype !== dtype) throw new SafetensorsError(`the tensor is ${tensor.dtype}, not ${dtype}`);
  const view = new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  const count = tensor.bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case 'U8':
      return tensor.bytes.slice();
    default:
      throw new RangeError(`cannot decode dtype ${dtype satisfies never}`);
  }
}
