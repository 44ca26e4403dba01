/**
 * @file Finite-difference gradient checks: central differences (L(θ+h) − L(θ−h))/2h, whose
 * truncation error is O(h²·L''') and rounding error O(ε·|L|/h), compared element by element
 * with an analytic gradient. Meant for float64 buffers (`new JsKernels('float64')`), where both
 * errors are around 1e-10 and a relative error of 1e-6 separates right from wrong.
 */
import assert from 'node:assert/strict';
import type { FloatArray } from '../../src/core/matrix.js';
import type { Rng } from '../../src/core/rng.js';

/**
 * ∂loss/∂values[i] for every i by central differences. `values` is perturbed in place and
 * restored exactly (the saved value is written back, not re-derived from ±h).
 */
export function numericGradient(values: FloatArray, loss: () => number, h: number): Float64Array {
  const gradient = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const saved = values[i]!;
    values[i] = saved + h;
    const up = values[i]!; // saved + h as the buffer holds it, rounded to its precision
    const lossPlus = loss();
    values[i] = saved - h;
    const down = values[i]!;
    const lossMinus = loss();
    values[i] = saved;
    // Divide by the step actually taken, not the 2h asked for.
    gradient[i] = (lossPlus - lossMinus) / (up - down);
  }
  return gradient;
}

/**
 * Central differences with one Richardson step: (4·D(h/2) − D(h))/3 cancels the h² term of the
 * plain central difference D(h), leaving O(h⁴) truncation (the five-point stencil). A larger h
 * then keeps rounding noise (ε·|L|/h) small for tensors whose gradients are tiny, without the
 * h² error that a large step costs where the loss curves on a short scale (BatchNorm makes the
 * loss scale-invariant in W, so it curves on the scale of |W| itself).
 */
export function numericGradientRichardson(values: FloatArray, loss: () => number, h: number): Float64Array {
  const coarse = numericGradient(values, loss, h);
  const fine = numericGradient(values, loss, h / 2);
  return fine.map((f, i) => (4 * f - coarse[i]!) / 3);
}

export interface GradientComparison {
  /** The largest |analytic − numeric| / max(|analytic|, |numeric|, floor) over all elements. */
  maxRelativeError: number;
  worstIndex: number;
  /** max |numeric|: the gradient's scale. */
  scale: number;
}

/**
 * Relative error per element, with a floor of `floorFraction`·scale in the denominator so that
 * elements that are zero up to rounding (e.g. a BatchNorm column's sum of dx) are judged against
 * the gradient's scale rather than against their own noise.
 */
export function compareGradients(analytic: ArrayLike<number>, numeric: ArrayLike<number>, floorFraction = 1e-3): GradientComparison {
  assert.equal(analytic.length, numeric.length, 'analytic and numeric gradients differ in length');
  let scale = 0;
  for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]!), Math.abs(analytic[i]!));
  const floor = Math.max(floorFraction * scale, Number.MIN_VALUE);
  let maxRelativeError = 0,
    worstIndex = -1;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i]!,
      n = numeric[i]!;
    const relativeError = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);
    if (!(relativeError <= maxRelativeError)) {
      maxRelativeError = relativeError;
      worstIndex = i;
    }
  }
  return { maxRelativeError, worstIndex, scale };
}

export interface GradientCheckOptions {
  /** Largest allowed relative error (default 1e-6). */
  tolerance?: number;
  /** The gradient must reach at least this size somewhere, or the check would compare noise with noise. */
  minScale?: number;
  floorFraction?: number;
}

/** Fails with the worst element named unless the analytic gradient matches the numeric one. */
export function assertGradientsMatch(
  what: string,
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  { tolerance = 1e-6, minScale = 1e-6, floorFraction = 1e-3 }: GradientCheckOptions = {},
): GradientComparison {
  const comparison = compareGradients(analytic, numeric, floorFraction);
  assert.ok(comparison.scale >= minScale, `${what}: the gradient's largest element is ${comparison.scale}, below ${minScale}: the check would be empty`);
  const i = comparison.worstIndex;
  assert.ok(
    comparison.maxRelativeError < tolerance,
    `${what}: relative error ${comparison.maxRelativeError.toExponential(3)} ≥ ${tolerance} at element ${i} ` +
      `(analytic ${analytic[i]}, numeric ${numeric[i]})`,
  );
  return comparison;
}

/** L = Σ r⊙y for a fixed r: ∂L/∂y = r, so any layer's output becomes a scalar loss with a known upstream gradient. */
export function weightedSum(weights: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += weights[i]! * y[i]!;
  return sum;
}

/** A buffer of `length` N(0, std²) samples in float64. */
export function normalArray(rng: Rng, length: number, std = 1): Float64Array {
  const out = new Float64Array(length);
  rng.fillNormal(out, std);
  return out;
}

/** √(Σv²/n): a tensor's typical size, to scale a finite-difference step by. */
export function rootMeanSquare(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum / values.length);
}
