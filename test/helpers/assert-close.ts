/**
 * @file Element-wise closeness assertions for float arrays, with failures that name the worst
 * element: |actual − expected| ≤ atol + rtol·|expected| (numpy's allclose rule).
 */
import assert from 'node:assert/strict';

export interface Tolerance {
  /** Relative tolerance, a fraction of |expected|. */
  rtol?: number;
  /** Absolute tolerance, for elements near zero. */
  atol?: number;
}

/** The element that misses its tolerance by the widest margin, or null when every element is close. */
export interface CloseMismatch {
  index: number;
  actual: number;
  expected: number;
  difference: number;
  allowed: number;
}

export function findMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 0, atol = 0 }: Tolerance): CloseMismatch | null {
  let worst: CloseMismatch | null = null;
  let worstRatio = 1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    const difference = Math.abs(a - e);
    const allowed = atol + rtol * Math.abs(e);
    // NaN differences fail: `difference <= allowed` is false for NaN.
    if (difference <= allowed) continue;
    const ratio = Number.isNaN(difference) ? Infinity : difference / allowed;
    if (worst === null || ratio > worstRatio) {
      worst = { index: i, actual: a, expected: e, difference, allowed };
      worstRatio = ratio;
    }
  }
  return worst;
}

/** Asserts the two arrays have equal length and every element is within atol + rtol·|expected|. */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} elements, expected ${expected.length}`);
  const mismatch = findMismatch(actual, expected, tolerance);
  if (mismatch) {
    assert.fail(
      `${what}: element ${mismatch.index} is ${mismatch.actual}, expected ${mismatch.expected} ` +
        `(difference ${mismatch.difference.toExponential(3)} > allowed ${mismatch.allowed.toExponential(3)})`,
    );
  }
}

/**
 * Asserts closeness relative to the array's own scale: every element within rtol·max|expected|.
 * The right test for float32 results whose rounding error follows the largest terms of a sum
 * rather than each element's size (matrix products, the BatchNorm backward's differences).
 */
export function assertCloseToScale(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what = 'values'): void {
  const scale = maxAbs(expected);
  assert.ok(scale > 0, `${what}: the expected values are all zero, so a scale-relative check would be empty`);
  assertAllClose(actual, expected, { atol: rtol * scale }, what);
}

export function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** a − b element-wise, in float64. */
export function difference(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}
