/**
 * @file A float array's bits, for tests whose claim is "the same bits": equal as integers, so
 * −0 differs from +0 and one NaN pattern from another, as `assert.deepStrictEqual` on the floats
 * would not tell.
 */

/** The float32 bit patterns of `values` (each rounded to float32 first). */
export function float32Bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

const one = new Float32Array(1);
const oneBits = new Uint32Array(one.buffer);

/** The float32 bit pattern of one number (rounded to float32 first). */
export function bitsOf(x: number): number {
  one[0] = x;
  return oneBits[0]!;
}

/** x86's default NaN, the one its arithmetic makes (0·∞, ∞ − ∞, √−1): the native tests' only input NaN. */
export const DEFAULT_NAN = 0xffc00000;
