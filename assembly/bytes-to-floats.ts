/**
 * @file Raw input bytes to float32: out[i] = f32(bytes[i])·scale, 16 bytes per iteration (u8 →
 * u16 → u32 lanes by zero extension, int → float, then one f32x4.mul). The conversion is exact and
 * the product rounds once, so the floats equal the reference's (TensorFlow's pixel scaling) bit for bit.
 * The signed conversion f32x4.convert_i32x4_s gives the same floats as the unsigned one for these
 * lanes (0..255) and is one x64 instruction (cvtdq2ps), where V8 emulates the unsigned one with a
 * sequence: 4.5 instead of 16 µs for a batch of 60 × 784 bytes.
 * `gatherBytesToFloats` converts rows picked by index (a training batch drawn from a dataset kept
 * in this memory): the same floats as copying the rows together first, without the copy.
 */

/** out[count] (f32) = bytes[count] (u8) · scale. */
export function bytesToFloats(bytes: usize, out: usize, count: i32, scale: f32): void {
  const factor = f32x4.splat(scale);
  const total = <usize>count, vectorCount = <usize>(count & ~15);
  let i: usize = 0;
  for (; i < vectorCount; i += 16) {
    const packed = v128.load(bytes + i);
    const low = i16x8.extend_low_i8x16_u(packed), high = i16x8.extend_high_i8x16_u(packed);
    const o = out + (i << 2);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(low)), factor));
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(low)), factor), 16);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(high)), factor), 32);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(high)), factor), 48);
  }
  for (; i < total; i++) store<f32>(out + (i << 2), <f32>load<u8>(bytes + i) * scale);
}

/**
 * out[i, :] (f32, width) = bytes[rows[i]·width ..][width] (u8) · scale for i < count, rows[] u32
 * row indices, in the order the indices give. The rows lie anywhere in a dataset far larger than
 * the caches, so converting them one by one waits on memory for each row in turn; touching every
 * cache line of every row first issues all those loads independently, to be in flight together,
 * and the conversion then reads the caches. Returns the touched bytes' OR, which only keeps the
 * loads from being optimized away.
 */
export function gatherBytesToFloats(bytes: usize, rows: usize, count: i32, width: i32, out: usize, scale: f32): u32 {
  const rowBytes = <usize>width;
  const touched = touchRows(bytes, rows, count, rowBytes);
  for (let i = 0; i < count; i++) {
    const row = <usize>load<u32>(rows + (<usize>i << 2));
    bytesToFloats(bytes + row * rowBytes, out + ((<usize>i * rowBytes) << 2), width, scale);
  }
  return touched;
}

/** Loads one byte of every cache line of rows rows[0..count) (u32) of `rowBytes` bytes, so that all of them are in flight together; returns their OR. */
// @ts-ignore: decorator
@inline export function touchRows(bytes: usize, rows: usize, count: i32, rowBytes: usize): u32 {
  let touched: u32 = 0;
  if (rowBytes == 0) return touched;
  for (let i = 0; i < count; i++) {
    const start = bytes + <usize>load<u32>(rows + (<usize>i << 2)) * rowBytes;
    for (let offset: usize = 0; offset < rowBytes; offset += 64) touched |= load<u8>(start + offset);
    touched |= load<u8>(start + rowBytes - 1); // the last line, when the row does not start on a line
  }
  return touched;
}
