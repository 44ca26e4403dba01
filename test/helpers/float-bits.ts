/**
 * @file A float array's bits, for tests whose claim is "the same bits": equal as integers, so
 * −0 differs from +0 and one NaN pattern from another, as `assert.deepStrictEqual` on the floats
 * would not tell.
 */

/** The float32 bit patterns of `values` (each rounded to float32 first). */
export function float32Bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}
