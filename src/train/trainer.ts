/**
 * @file The training loop of the article: SGD on mini-batches, validation every N steps in
 * inference mode, a curve, final validation and test accuracy. A NaN or infinite loss is a
 * result (recorded with its step), never a crash. The loop yields to the event loop now and
 * then, so Ctrl-C and progress output stay live; it runs unchanged in a browser or a worker.
 * `TrainingRun` is the same loop in steps, for a page that plays, pauses and steps it.
 *
 * A diverged network can end early without changing its record (`skipDiverged`): once every
 * entry of the output layer's bias is NaN, every logit it will ever compute is NaN (logits =
 * h·W + b, and SGD's b − lr·g keeps a NaN a NaN), so every later training loss is NaN and every
 * later evaluation predicts, for every example, the class argmax picks in a row of NaNs. The
 * remaining steps are then not run: their curve points and final numbers are what running them
 * would give, to the bit.
 *
 * A network whose ReLUs died can train on without its hidden layers (`skipDeadLayers`): once its
 * last hidden layer outputs 0 for every training, validation and test example (`MLP.hiddenDeadOn`),
 * no hidden parameter changes again and its logits are its output bias, so each step trains the
 * output layer alone on the batch's labels. Its curve, final numbers and weights are those of
 * full training, to the bit.
 */

import type { SparseRows } from '../core/kernels.js';
import { BatchFeeder } from '../data/batch-feeder.js';
import { type MnistData, type SplitExamples, splitExamples } from '../data/mnist.js';
import { residentPixels } from '../data/resident-pixels.js';
import type { SharedBatches } from '../data/shared-batches.js';
import type { Evaluation, MLP } from '../nn/mlp.js';
import { Sgd } from '../nn/sgd.js';
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
  /**
   * Steps recorded without running them because the network had diverged for good (see
   * `skipDiverged`); absent when none were. `stepsPerSecond` counts the steps that ran.
   */
  skippedSteps?: number;
  /**
   * Steps trained through the output layer alone because the hidden layers had died for good (see
   * `skipDeadLayers`); absent when none were. `stepsPerSecond` does not count them or their time.
   */
  deadLayerSteps?: number;
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

/** Runs `config.steps` steps (fewer when stopped) and returns the result, yielding about every 50 ms. */
export async function train(net: MLP, data: MnistData, config: TrainConfig, hooks: TrainHooks = {}, options: TrainingRunOptions = {}): Promise<TrainResult> {
  const run = new TrainingRun(net, data, config, hooks, options);
  await runToEnd(run);
  return run.finish();
}

/**
 * Advances several runs side by side, `stride` steps each in turn (default 1), until all have
 * ended (a run that ends early, stopped or diverged for good, drops out), yielding to the event
 * loop about every 50 ms. Runs made with the same `batches` share each step's batch: they must
 * start at the same step, and `stride` must be its `ahead`. `onEnded` hears of each run as it ends.
 */
export async function runTogether(runs: readonly TrainingRun[], onEnded?: (run: TrainingRun) => void, stride = 1): Promise<void> {
  const active = runs.filter((run) => {
    if (run.ended) onEnded?.(run);
    return !run.ended;
  });
  let deadline = now() + YIELD_EVERY_MS;
  while (active.length > 0) {
    for (let i = 0; i < active.length; i++) {
      const run = active[i]!;
      run.advance(stride);
      if (run.ended) {
        active.splice(i--, 1);
        onEnded?.(run);
      }
    }
    if (active.length > 0 && now() > deadline) {
      await yieldToEventLoop();
      deadline = now() + YIELD_EVERY_MS;
    }
  }
}

/** Advances `run` until it ends, yielding to the event loop about every 50 ms; evaluates nothing beyond what the run itself does. */
export async function runToEnd(run: TrainingRun): Promise<void> {
  while (!run.ended) {
    run.advance(Infinity, now() + YIELD_EVERY_MS);
    if (!run.ended) await yieldToEventLoop();
  }
}

export interface TrainingRunOptions {
  /**
   * false: no validation at all while the run advances (none at step 0, every `validateEvery`
   * steps or at the last step), for a caller that measures the network itself (the claims). Such
   * a caller reads `step`, `divergedAtStep` and `trainingMs` and need not call `finish`, which
   * evaluates (final validation and test set) whenever it is called. Default true.
   */
  validate?: boolean;
  /**
   * true: once the output layer's bias is all NaN (checked after each step from the first
   * non-finite loss on), record the remaining steps as they would come out (every later training
   * loss NaN, every later validation equal to the network's evaluation now) without running them.
   * The curve, final validation and test are those of the full run bit for bit; the network's
   * weights are not (they stop where it was). For callers that keep only the result (the worker
   * pool's runs: compare, reproduce, sweeps). Default false.
   */
  skipDiverged?: boolean;
  /**
   * The batches, drawn once for every run that shares them (`runTogether`), instead of the run's
   * own: they must be drawn in the network's backend with the run's batch size, shuffling and
   * batch seed (checked), so the run trains on exactly the batches it would draw itself.
   */
  batches?: SharedBatches;
  /**
   * true: every 100 steps (less often after each look that finds a live example), if the latest
   * batch left the last hidden layer all zeros, check whether it is so for every example of the
   * three splits (`MLP.hiddenDeadOn`; a dead network's ReLUs pass no gradient back); from then on
   * train the output layer alone and evaluate it on zeros. Curve, final numbers and weights are
   * those of full training, bit for bit; the hidden layers' buffers are not refreshed (what a page
   * looking inside them would show). Default false.
   */
  skipDeadLayers?: boolean;
}

/** Steps between two looks at whether the hidden layers died (`skipDeadLayers`); doubled after each look that finds a live example. */
const DEAD_CHECK_EVERY = 100;

/**
 * True when every logit `net` computes from now on is NaN, whatever its input and however long
 * it trains: its last layer is a Dense with a bias (logits = h·W + b) and every entry of that
 * bias is NaN (x + NaN is NaN for any x, and SGD only ever adds to b).
 */
export function logitsNaNForGood(net: MLP): boolean {
  const output = net.dense[net.dense.length - 1];
  if (!output || net.layers[net.layers.length - 1] !== output || !output.bias) return false;
  const bias = output.bias.data;
  for (let j = 0; j < bias.length; j++) if (!Number.isNaN(bias[j]!)) return false;
  return bias.length > 0;
}

/**
 * One run of the loop, steppable: `advance` runs steps until a step count or a deadline, so a
 * page can play, pause and step a network, and `train` above is this run to the end. Validation
 * at step 0 happens on construction; `finish` adds the final validation and the test accuracy.
 * With `{ validate: false }` the run only trains (see TrainingRunOptions).
 */
export class TrainingRun {
  readonly curve: CurvePoint[] = [];
  /** Steps completed. */
  step = 0;
  divergedAtStep: number | null = null;
  /** Wall time of the training steps alone (validation excluded). */
  trainingMs = 0;
  private stopReason: StopReason = 'completed';
  /** The latest validation, which is the final one once the loop ends. */
  private validation: Evaluation | null = null;
  private result: TrainResult | null = null;
  private readonly started = now();
  private readonly optimizer: Sgd;
  /** The run's own batches, or null when it trains on `shared`'s. */
  private readonly feeder: BatchFeeder | null;
  private readonly shared: SharedBatches | null;
  private readonly x: SparseRows; // [batchSize, 784] the network's input, as its nonzeros
  private readonly labels: Uint8Array;
  private readonly validationExamples: SplitExamples;
  private lossSum = 0;
  private lossCount = 0;
  private readonly validates: boolean;
  private readonly skipsDiverged: boolean;
  /** Steps recorded by `skipDivergedSteps` without running. */
  private skippedSteps = 0;
  private readonly skipsDeadLayers: boolean;
  /** True once the hidden layers are dead for good on every split: steps train the output layer alone. */
  private hiddenDead = false;
  private nextDeadCheck = DEAD_CHECK_EVERY;
  private deadCheckEvery = DEAD_CHECK_EVERY;
  private deadLayerSteps = 0;
  /** Training time of the dead-layer steps (part of trainingMs). */
  private deadLayerMs = 0;

  constructor(
    readonly net: MLP,
    readonly data: MnistData,
    readonly config: TrainConfig,
    private readonly hooks: TrainHooks = {},
    options: TrainingRunOptions = {},
  ) {
    this.optimizer = new Sgd(net.kernels, config.learningRate);
    const batcher = { shuffle: config.shuffle, seed: deriveSeed(config.seed, 'batches') };
    const shared = options.batches ?? null;
    if (shared && !shared.serves(net.kernels, data.train, config.batchSize, batcher)) {
      throw new RangeError("shared batches must be drawn in the network's backend from its training split, with its batch size, shuffling and batch seed");
    }
    this.shared = shared;
    this.feeder = shared ? null : new BatchFeeder(net.kernels, data.train, config.batchSize, batcher);
    this.x = net.sparseInputFor(config.batchSize);
    this.labels = new Uint8Array(config.batchSize);
    // Validated every few hundred steps: its bytes are kept in the backend's memory rather than copied in each time.
    this.validationExamples = splitExamples(data.validation, residentPixels(net.kernels, data.validation.pixels));
    net.sparseInput = true; // MNIST pixels: ~81% zeros
    this.validates = options.validate ?? true;
    this.skipsDiverged = options.skipDiverged ?? false;
    this.skipsDeadLayers = options.skipDeadLayers ?? false;
    if (this.validates) this.validate(0, NaN);
  }

  /** True once every step has run, or the run stopped (interrupted, or diverged with stopOnDivergence). */
  get ended(): boolean {
    return this.step >= this.config.steps || this.stopReason !== 'completed';
  }

  /**
   * Runs steps until `maxSteps` more have run, `deadline` (a performance.now() time) has passed,
   * or the run ends; returns how many ran. `shouldStop` is polled before every step.
   */
  advance(maxSteps = Infinity, deadline = Infinity): number {
    const { config, hooks, net } = this;
    let ran = 0;
    while (ran < maxSteps && !this.ended) {
      if (hooks.shouldStop?.()) {
        this.stopReason = 'interrupted';
        break;
      }
      const stepStart = now();
      const dead = this.hiddenDead;
      const loss = dead ? this.deadLayerStep() : this.fullStep();
      const stepMs = now() - stepStart;
      this.trainingMs += stepMs;
      if (dead) {
        this.deadLayerMs += stepMs;
        this.deadLayerSteps++;
      }
      const step = ++this.step;
      ran++;
      this.lossSum += loss;
      this.lossCount++;
      hooks.onStep?.(step, loss);
      if (!Number.isFinite(loss) && this.divergedAtStep === null) {
        this.divergedAtStep = step;
        hooks.onDivergence?.(step, loss);
        if (config.stopOnDivergence) {
          this.stopReason = 'diverged';
          break;
        }
      }
      // Before validating: the check reads the batch's activations, which validation overwrites.
      if (this.skipsDeadLayers && !dead && step >= this.nextDeadCheck) this.checkDeadLayers(step);
      if (this.validates && (step % config.validateEvery === 0 || step === config.steps)) {
        this.validate(step, this.lossSum / this.lossCount);
        this.lossSum = 0;
        this.lossCount = 0;
      }
      if (this.skipsDiverged && this.divergedAtStep !== null && !this.ended && logitsNaNForGood(net)) {
        ran += this.skipDivergedSteps();
        break;
      }
      if (now() > deadline) break;
    }
    return ran;
  }

  /** One training step of the whole network on the next batch; returns its loss. */
  private fullStep(): number {
    if (this.feeder) {
      this.feeder.next(this.x, this.labels);
      return this.net.trainStep(this.x, this.labels, this.optimizer);
    }
    const batch = this.shared!.batch(this.step + 1);
    return this.net.trainStep(batch.x, batch.labels, this.optimizer);
  }

  /** The step of a network whose hidden layers are dead for good: the next batch's labels are all it needs (its pixels are not drawn). */
  private deadLayerStep(): number {
    let labels = this.labels;
    if (this.feeder) this.feeder.nextLabels(labels);
    else labels = this.shared!.batch(this.step + 1).labels;
    return this.net.trainStepOnDeadHidden(labels, this.optimizer);
  }

  /**
   * Whether the hidden layers have died for good (`skipDeadLayers`): a look at the latest batch's
   * last hidden outputs, and only when they are all zero, a pass over the three splits, which stops
   * at the first live example. The next look comes later after each pass that finds one.
   */
  private checkDeadLayers(step: number): void {
    const { net, config, data } = this;
    this.nextDeadCheck = step + this.deadCheckEvery;
    const latest = net.hiddenBuffers(config.batchSize).at(-1)?.activation;
    if (!latest || latest.data.some((value) => value !== 0)) return;
    const sources = [splitExamples(data.train, residentPixels(net.kernels, data.train.pixels)), this.validationExamples, splitExamples(data.test)];
    if (sources.every((source) => net.hiddenDeadOn(source, config.evalBatchSize))) this.hiddenDead = true;
    else this.deadCheckEvery *= 2;
  }

  /**
   * Records the remaining steps of a network whose logits are NaN for good (`logitsNaNForGood`)
   * as running them would: each step's loss NaN (so each later point's training loss, a mean
   * that includes it, NaN), each validation the evaluation of the network as it is now (every
   * later one sees NaN logits too: the same predicted class for every example, loss NaN). Returns
   * how many steps it recorded; `finish` then evaluates the test set on the network as it is.
   */
  private skipDivergedSteps(): number {
    const { config, hooks } = this;
    const from = this.step;
    if (this.validates) {
      let evaluation: Evaluation | null = null;
      const firstPoint = (Math.floor(from / config.validateEvery) + 1) * config.validateEvery;
      for (let step = firstPoint; step < config.steps + config.validateEvery; step += config.validateEvery) {
        const pointStep = Math.min(step, config.steps);
        // The network's evaluation now is every later one's (NaN logits whatever the inference statistics): made once.
        evaluation ??= this.evaluate(this.validationExamples);
        this.validation = { ...evaluation };
        const point = { step: pointStep, validationAccuracy: evaluation.accuracy, validationLoss: evaluation.loss, trainingLoss: NaN };
        this.curve.push(point);
        hooks.onValidation?.(point);
        if (pointStep === config.steps) break;
      }
    }
    this.step = config.steps;
    this.lossSum = 0;
    this.lossCount = 0;
    this.skippedSteps = config.steps - from;
    hooks.onStep?.(config.steps, NaN);
    return this.skippedSteps;
  }

  /** Ends the run where it is (the remaining steps are not run): final validation, test accuracy. Idempotent. */
  finish(): TrainResult {
    if (this.result) return this.result;
    const { step, config } = this;
    if (this.step < config.steps && this.stopReason === 'completed') this.stopReason = 'interrupted';
    if (this.curve[this.curve.length - 1]?.step !== step) this.validate(step, this.lossCount ? this.lossSum / this.lossCount : NaN);
    const test = this.evaluate(splitExamples(this.data.test));
    this.result = {
      curve: this.curve,
      validation: this.validation!,
      test,
      steps: step,
      divergedAtStep: this.divergedAtStep,
      stopReason: this.stopReason,
      trainingMs: this.trainingMs,
      elapsedMs: now() - this.started,
      stepsPerSecond: fullStepsPerSecond(step - this.skippedSteps - this.deadLayerSteps, this.trainingMs - this.deadLayerMs),
      ...(this.skippedSteps > 0 ? { skippedSteps: this.skippedSteps } : {}),
      ...(this.deadLayerSteps > 0 ? { deadLayerSteps: this.deadLayerSteps } : {}),
    };
    return this.result;
  }

  /** The network's evaluation on `examples` as it is now: without its hidden layers once they are dead for good. */
  private evaluate(examples: SplitExamples): Evaluation {
    const { net, config } = this;
    return this.hiddenDead ? net.evaluateOnDeadHidden(examples.labels, config.evalBatchSize) : net.evaluate(examples, config.evalBatchSize);
  }

  /** The latest validation (step 0's right after construction). */
  get latestValidation(): Evaluation | null {
    return this.validation;
  }

  /**
   * Algorithm 2: the `average` estimate of the network as it is now, over `bnAverageBatches`
   * training batches with frozen weights (0 keeps the average over every batch seen). Call it
   * between steps, before inferring with the `average` estimator.
   */
  refreshAverages(): void {
    const { net, config, data } = this;
    if (net.spec.batchNorm && config.bnAverageBatches > 0) {
      recomputeAverageStatistics(net, data.train, config.batchSize, config.bnAverageBatches, config.seed);
    }
  }

  /** Validation in inference mode, after Algorithm 2's recompute for the `average` estimator. */
  private validate(step: number, trainingLoss: number): void {
    const { net } = this;
    if (net.spec.batchNorm?.estimator === 'average') this.refreshAverages();
    const evaluation = this.evaluate(this.validationExamples);
    this.validation = evaluation;
    const point = { step, validationAccuracy: evaluation.accuracy, validationLoss: evaluation.loss, trainingLoss };
    this.curve.push(point);
    this.hooks.onValidation?.(point);
  }
}

/** Steps per second of the steps that ran the whole network; 0 when none did. */
function fullStepsPerSecond(steps: number, ms: number): number {
  return steps > 0 && ms > 0 ? (steps / ms) * 1000 : 0;
}

function now(): number {
  return performance.now();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
