/**
 * @file Timing bnlab itself: training steps per second exactly as `bnlab train` runs them (each
 * step copies its batch into the network's input buffer with Batcher.next, then forward, loss,
 * backward and the SGD update), and the time of one validation pass over 5,000 images.
 */
import type { Kernels } from '../src/core/kernels.js';
import type { Split } from '../src/data/mnist.js';
import type { MLP } from '../src/nn/mlp.js';
import { Sgd } from '../src/nn/sgd.js';
import { BATCH_SIZE, benchBatcher, buildBenchNetwork, LEARNING_RATE, median, stopwatch, throughputOf, type Elapsed, type RunPlan, type Throughput, type Variant } from './workload.js';

export interface BnlabTraining {
  throughput: Throughput;
  /** The trained network, for the validation timing that follows. */
  net: MLP;
}

export function timeBnlabTraining(kernels: Kernels, train: Split, variant: Variant, plan: RunPlan): BnlabTraining {
  const net = buildBenchNetwork(kernels, variant);
  const batcher = benchBatcher(train);
  const optimizer = new Sgd(kernels, LEARNING_RATE);
  const x = net.inputFor(BATCH_SIZE); // [60, 784] in the backend's memory
  const labels = new Uint8Array(BATCH_SIZE); // [60]
  let lastLoss = NaN;
  const runSteps = (steps: number): void => {
    for (let step = 0; step < steps; step++) {
      batcher.next(x.data as Float32Array, labels); // x.data, not a saved view: a growing wasm memory rebinds it
      lastLoss = net.trainStep(x, labels, optimizer);
    }
  };
  runSteps(plan.warmupSteps);
  const runs: Elapsed[] = [];
  for (let run = 0; run < plan.runs; run++) {
    const elapsed = stopwatch();
    runSteps(plan.stepsPerRun);
    runs.push(elapsed());
  }
  return { throughput: throughputOf(plan, runs, lastLoss), net };
}

export interface EvaluationTiming {
  /** Median wall time of one `net.evaluate` over the validation split. */
  medianMs: number;
  images: number;
  accuracy: number;
}

/** `net.evaluate` over the validation split in batches of 1,000 (the trainer's default), `repeats` times after one warm-up pass. */
export function timeEvaluation(net: MLP, validation: Split, repeats: number): EvaluationTiming {
  let accuracy = net.evaluate(validation.images, validation.labels, 1000).accuracy;
  const elapsedMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    accuracy = net.evaluate(validation.images, validation.labels, 1000).accuracy;
    elapsedMs.push(performance.now() - started);
  }
  return { medianMs: median(elapsedMs), images: validation.count, accuracy };
}
