/**
 * @file Numbers over seeds for the claims that rest on noisy measurements: mean ± sample std,
 * and the rule that says whether two such means differ by more than their noise. Pure.
 */
import { formatNumber, formatPercent } from './experiment-kit.js';

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (divides by n − 1); 0 for one value. */
  std: number;
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/**
 * Whether mean a exceeds mean b by more than the noise: the difference must exceed the larger of
 * the two standard errors' combination (√(s_a²/n_a + s_b²/n_b)) times 2, about a 95% interval.
 */
export function clearlyAbove(a: MeanStd, b: MeanStd): boolean {
  return a.mean - b.mean > noiseOf(a, b);
}

/** Twice the standard error of the difference of two means: what counts as noise. */
export function noiseOf(a: MeanStd, b: MeanStd): number {
  return 2 * Math.sqrt(a.std ** 2 / Math.max(a.n, 1) + b.std ** 2 / Math.max(b.n, 1));
}

export function formatMeanStd(value: MeanStd, digits = 4): string {
  return `${formatNumber(value.mean, digits)} ± ${formatNumber(value.std, digits)}`;
}

export function formatPercentMeanStd(value: MeanStd, digits = 2): string {
  return `${formatPercent(value.mean, digits)} ± ${(value.std * 100).toFixed(digits)}`;
}

/** The median of `values` (not sorted in place). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}
