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

/** How often −0, subnormals, ±∞ and NaN came out of the kernels a test runs (so that it can say each edge was reached). */
export type Seen = Record<'negativeZero' | 'subnormal' | 'infinite' | 'nan', number>;
export const nothingSeen = (): Seen => ({ negativeZero: 0, subnormal: 0, infinite: 0, nan: 0 });

/** Counts the edge values among float32 `bits` into `counts`. */
export function tally(counts: Seen, bits: Uint32Array): void {
  for (const b of bits) {
    const magnitude = b & 0x7fffffff;
    if (b === 0x80000000) counts.negativeZero++;
    else if (magnitude !== 0 && magnitude < 0x00800000) counts.subnormal++;
    else if (magnitude === 0x7f800000) counts.infinite++;
    else if (magnitude > 0x7f800000) counts.nan++;
  }
}
