/**
 * @file Timing bnlab itself: training steps per second exactly as `bnlab train` runs them (each
 * step draws its batch with BatchFeeder (the batch's example indices, then one gatherBytesToFloats
 * from the split kept in the backend's memory into the network's input), then forward, loss,
 * backward and the SGD update), and the time of one validation pass over 5,000 images, read as the
 * trainer reads them (from the backend's own copy of the validation bytes).
 */
import type { Kernels } from '../src/core/kernels.js';
import { type Split, splitExamples } from '../src/data/mnist.js';
import { residentPixels } from '../src/data/resident-pixels.js';
import type { MLP } from '../src/nn/mlp.js';
import { Sgd } from '../src/nn/sgd.js';
import {
  BATCH_SIZE,
  benchFeeder,
  buildBenchNetwork,
  LEARNING_RATE,
  median,
  PREMADE_BATCHES,
  type RunPlan,
  type RunResult,
  stopwatch,
  type Throughput,
  type TrainingSession,
  throughputOfRuns,
  type Variant,
} from './workload.js';

export interface BnlabSession extends TrainingSession {
  /** The network being trained, for the validation timing. */
  net: MLP;
}

/**
 * How a session gets its batches: `drawn` as `bnlab train` does (a new random batch each step),
 * or `premade`, as the peers get theirs: the first PREMADE_BATCHES batches, drawn once into
 * float matrices in the backend's memory and then cycled, so that a step is only the step.
 */
export type BatchFeed = 'drawn' | 'premade';

/** A bnlab network of the workload with its batches and optimizer, trained stretch by stretch. */
export function openBnlabSession(kernels: Kernels, train: Split, variant: Variant, feed: BatchFeed = 'drawn'): BnlabSession {
  const net = buildBenchNetwork(kernels, variant);
  const feeder = benchFeeder(kernels, train);
  const optimizer = new Sgd(kernels, LEARNING_RATE);
  const x = net.sparseInputFor(BATCH_SIZE); // [60, 784] as its nonzeros in the backend's memory, as a training run draws it
  const labels = new Uint8Array(BATCH_SIZE); // [60]
  const premade =
    feed === 'premade'
      ? Array.from({ length: PREMADE_BATCHES }, () => {
          // Floats, as the peers get theirs: finding the nonzeros is part of bnlab's step here.
          const batch = { x: kernels.matrix(BATCH_SIZE, x.cols), labels: new Uint8Array(BATCH_SIZE) };
          feeder.next(batch.x, batch.labels);
          return batch;
        })
      : [];
  let position = 0;
  const runSync = (steps: number): RunResult => {
    let lastLoss = NaN;
    const elapsed = stopwatch();
    if (feed === 'drawn') {
      for (let step = 0; step < steps; step++) {
        feeder.next(x, labels);
        lastLoss = net.trainStep(x, labels, optimizer);
      }
    } else {
      for (let step = 0; step < steps; step++) {
        const batch = premade[position]!;
        position = (position + 1) % premade.length;
        lastLoss = net.trainStep(batch.x, batch.labels, optimizer);
      }
    }
    return { ...elapsed(), steps, lastLoss };
  };
  return { net, run: (steps) => Promise.resolve(runSync(steps)), close: () => Promise.resolve() };
}

export interface BnlabTraining {
  throughput: Throughput;
  /** The trained network, for the validation timing that follows. */
  net: MLP;
}

/** bnlab alone: `plan.runs` timed runs after the warm-up. */
export async function timeBnlabTraining(kernels: Kernels, train: Split, variant: Variant, plan: RunPlan, feed: BatchFeed = 'drawn'): Promise<BnlabTraining> {
  const session = openBnlabSession(kernels, train, variant, feed);
  await session.run(plan.warmupSteps);
  const runs: RunResult[] = [];
  for (let run = 0; run < plan.runs; run++) runs.push(await session.run(plan.stepsPerRun));
  return { throughput: throughputOfRuns(plan, runs), net: session.net };
}

export interface EvaluationTiming {
  /** Median wall time of one `net.evaluate` over the validation split. */
  medianMs: number;
  images: number;
  accuracy: number;
}

/** `net.evaluate` over the validation split in batches of 1,000 (the trainer's default), `repeats` times after one warm-up pass. */
export function timeEvaluation(net: MLP, validation: Split, repeats: number): EvaluationTiming {
  const examples = splitExamples(validation, residentPixels(net.kernels, validation.pixels)); // as TrainingRun validates
  let accuracy = net.evaluate(examples, 1000).accuracy;
  const elapsedMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    accuracy = net.evaluate(examples, 1000).accuracy;
    elapsedMs.push(performance.now() - started);
  }
  return { medianMs: median(elapsedMs), images: validation.count, accuracy };
}
