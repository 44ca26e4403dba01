/**
 * @file What a training run records, without what differs from one run of it to the next: its
 * timings, and how many steps it skipped (the pool's runs skip the steps of a network NaN for
 * good, and train a network with dead hidden layers through its output layer alone, and record the same numbers), for tests that compare two ways of training the same run.
 */
import type { TrainResult } from '../../src/train/trainer.js';

export type TrainNumbers = Omit<TrainResult, 'trainingMs' | 'elapsedMs' | 'stepsPerSecond' | 'skippedSteps' | 'deadLayerSteps'>;

export function trainNumbers(result: TrainResult): TrainNumbers {
  const { trainingMs: _t, elapsedMs: _e, stepsPerSecond: _s, skippedSteps: _k, deadLayerSteps: _d, ...rest } = result;
  return rest;
}
