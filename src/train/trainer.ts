/**
 * @file The training loop of the article: SGD on mini-batches, validation every N steps in
 * inference mode, a curve, final validation and test accuracy. A NaN or infinite loss is a
 * result (recorded with its step), never a crash. The loop yields to the event loop now and
 * then, so Ctrl-C and progress output stay live; it runs unchanged in a browser or a worker.
 */
import { Sgd } from '../nn/sgd.js';
import type { Evaluation, MLP } from '../nn/mlp.js';
import { BatchFeeder } from '../data/batch-feeder.js';
import { splitExamples, type MnistData } from '../data/mnist.js';
import type { TrainConfig } from './config.js';
import { recomputeAverageStatistics } from './population-statistics.js';
import { deriveSeed } from './seeds.js';

export interface CurvePoint {
  /** Training steps completed when the point was taken (0 = before training). */
  step: number;
  validationAccuracy: number;
  validationLoss: number;
  /** Mean training-batch loss over the steps since the previous point (NaN at step 0). */
  trainingLoss: number;
}

export type StopReason = 'completed' | 'diverged' | 'interrupted';

export interface TrainResult {
  curve: CurvePoint[];
  validation: Evaluation;
  test: Evaluation;
  /** Steps actually run (fewer than asked when stopped early). */
  steps: number;
  /** The first step whose loss was NaN or infinite, or null. */
  divergedAtStep: number | null;
  stopReason: StopReason;
  /** Wall time of the training steps alone (validation excluded). */
  trainingMs: number;
  /** Wall time of the whole run, validation included. */
  elapsedMs: number;
  stepsPerSecond: number;
}

export interface TrainHooks {
  /** After every step; cheap, so a progress bar can throttle itself. */
  onStep?(step: number, loss: number): void;
  onValidation?(point: CurvePoint): void;
  onDivergence?(step: number, loss: number): void;
  /** Polled between steps; true stops the run cleanly (Ctrl-C). */
  shouldStop?(): boolean;
}

const YIELD_EVERY_MS = 50;

export async function train(net: MLP, data: MnistData, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const started = now();
  const optimizer = new Sgd(net.kernels, config.learningRate);
  const feeder = new BatchFeeder(net.kernels, data.train, config.batchSize, { shuffle: config.shuffle, seed: deriveSeed(config.seed, 'batches') });
  const x = net.inputFor(config.batchSize); // [batchSize, 784] floats, the network's input
  const labels = new Uint8Array(config.batchSize);
  const validationExamples = splitExamples(data.validation);
  net.sparseInput = true; // MNIST pixels: ~81% zeros

  const curve: CurvePoint[] = [];
  let validation = null as Evaluation | null; // the latest, which is the final one once the loop ends
  // Algorithm 2: the `average` estimate of the network as it is now, before each evaluation.
  const refreshAverages = (): void => {
    if (net.spec.batchNorm?.estimator === 'average' && config.bnAverageBatches > 0) {
      recomputeAverageStatistics(net, data.train, config.batchSize, config.bnAverageBatches, config.seed, feeder.pixels); // between steps the training batch's buffer is free
    }
  };
  const validate = (step: number, trainingLoss: number): void => {
    refreshAverages();
    const evaluation = net.evaluate(validationExamples, config.evalBatchSize);
    validation = evaluation;
    const point = { step, validationAccuracy: evaluation.accuracy, validationLoss: evaluation.loss, trainingLoss };
    curve.push(point);
    hooks.onValidation?.(point);
  };

  validate(0, NaN);
  let divergedAtStep: number | null = null;
  let stopReason: StopReason = 'completed';
  let trainingMs = 0;
  let lossSum = 0, lossCount = 0;
  let lastYield = now();
  let step = 0;
  while (step < config.steps) {
    if (hooks.shouldStop?.()) { stopReason = 'interrupted'; break; }
    const stepStart = now();
    feeder.next(x, labels);
    const loss = net.trainStep(x, labels, optimizer);
    trainingMs += now() - stepStart;
    step++;
    lossSum += loss;
    lossCount++;
    hooks.onStep?.(step, loss);
    if (!Number.isFinite(loss) && divergedAtStep === null) {
      divergedAtStep = step;
      hooks.onDivergence?.(step, loss);
      if (config.stopOnDivergence) { stopReason = 'diverged'; break; }
    }
    if (step % config.validateEvery === 0 || step === config.steps) {
      validate(step, lossSum / lossCount);
      lossSum = 0;
      lossCount = 0;
    }
    if (now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = now();
    }
  }
  if (curve[curve.length - 1]!.step !== step) validate(step, lossCount ? lossSum / lossCount : NaN);

  const test = net.evaluate(splitExamples(data.test), config.evalBatchSize);
  return {
    curve,
    validation: validation!,
    test,
    steps: step,
    divergedAtStep,
    stopReason,
    trainingMs,
    elapsedMs: now() - started,
    stepsPerSecond: trainingMs > 0 ? (step / trainingMs) * 1000 : 0,
  };
}

function now(): number {
  return performance.now();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
