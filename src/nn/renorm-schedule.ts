/**
 * @file Batch Renormalization's schedule (Ioffe 2017, section 4): the limits on r and d are 1 and
 * 0 (plain BN) during a warm-up, then relaxed linearly to their final values, rmax at one step
 * and dmax at another, and constant after. The paper gives it in absolute steps (warm-up 5k,
 * dmax = 5 at 25k, rmax = 3 at 40k); `renormSchedule` scales it to a run's length.
 */
import type { BatchRenormOptions } from './spec.js';

export interface RenormLimits {
  rmax: number;
  dmax: number;
}

/** The limits at `step` (0-based: the number of training steps already taken). */
export function renormLimits(options: Pick<BatchRenormOptions, 'rmax' | 'dmax' | 'warmupSteps' | 'rmaxSteps' | 'dmaxSteps'>, step: number): RenormLimits {
  return {
    rmax: ramp(1, options.rmax, options.warmupSteps, options.rmaxSteps, step),
    dmax: ramp(0, options.dmax, options.warmupSteps, options.dmaxSteps, step),
  };
}

/** `from` until `start`, `to` from `end` on, linear between (a step to `to` when end ≤ start). */
function ramp(from: number, to: number, start: number, end: number, step: number): number {
  if (step < start) return from;
  if (step >= end) return to;
  return from + ((to - from) * (step - start)) / (end - start);
}

/**
 * The paper's step marks as fractions of a run. The paper states the marks, not as a share of its
 * run; bnlab reads them as the first half of a run of 80k steps (so the second half trains with
 * the full correction): warm-up 5k/80k, dmax at 25k/80k, rmax at 40k/80k.
 */
export const RENORM_FRACTIONS = Object.freeze({ warmup: 5 / 80, dmax: 25 / 80, rmax: 40 / 80 });

/**
 * The schedule in steps for a run of `steps` steps, with a warm-up of `warmup` (a fraction of the
 * run); the relaxation ends where the paper's do, never before the warm-up does.
 */
export function renormSchedule(steps: number, warmup: number): Pick<BatchRenormOptions, 'warmupSteps' | 'rmaxSteps' | 'dmaxSteps'> {
  const warmupSteps = Math.round(warmup * steps);
  return {
    warmupSteps,
    rmaxSteps: Math.max(warmupSteps, Math.round(RENORM_FRACTIONS.rmax * steps)),
    dmaxSteps: Math.max(warmupSteps, Math.round(RENORM_FRACTIONS.dmax * steps)),
  };
}
