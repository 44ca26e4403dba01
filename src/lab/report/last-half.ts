/**
 * @file The mean validation accuracy over the last half of a run: a configuration that oscillates
 * (the article's model 8 with BN swings between about 0.84 and 0.95 from one validation to the
 * next) has a final accuracy that is one sample of its swing; the mean of its points at step ≥
 * steps/2 is its level, and agrees across seeds where final values scatter. Pure.
 */
import type { CurvePoint } from '../../train/trainer.js';

/** The mean validation accuracy of the curve's points at step ≥ steps / 2 (the last point when none is). */
export function lastHalfMean(curve: readonly Pick<CurvePoint, 'step' | 'validationAccuracy'>[], steps: number): number {
  const half = curve.filter((point) => point.step >= steps / 2);
  const points = half.length > 0 ? half : curve.slice(-1);
  if (points.length === 0) return NaN;
  return points.reduce((sum, point) => sum + point.validationAccuracy, 0) / points.length;
}
