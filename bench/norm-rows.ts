/**
 * @file The benchmark's rows per normalization: model 1's network (the workload's, the same
 * initial weights and pre-made batches) with each norm bnlab has, on the backend `auto` picks,
 * its steps/s and its step time relative to BN's. The norms' timed runs alternate round by round
 * (none, bn, brn, …, none, bn, …), as bnlab alternates with a peer, so that a load that comes and
 * goes hits every norm alike; a ratio is the median over rounds of that round's two times.
 */
import type { Kernels } from '../src/core/kernels.js';
import type { Split } from '../src/data/mnist.js';
import { Sgd } from '../src/nn/sgd.js';
import { NORM_KINDS, type NormKind } from '../src/nn/spec.js';
import { buildNetwork } from '../src/train/networks.js';
import {
  BATCH_SIZE,
  BENCH_CONFIG,
  benchFeeder,
  benchInitialWeights,
  LEARNING_RATE,
  median,
  PREMADE_BATCHES,
  quantile,
  type RunPlan,
  type RunResult,
  stopwatch,
  type Throughput,
  type TrainingSession,
  throughputOfRuns,
} from './workload.js';

export interface NormRow {
  norm: NormKind;
  throughput: Throughput;
  /** Median over rounds of (this norm's step time) / (BN's step time in the same round). */
  stepTimeVsBn: number;
  stepTimeVsBnQuartiles: [number, number];
}

/**
 * A session of the workload's network with `norm` (its settings bnlab's defaults: Group Norm's 32
 * groups, Batch Renormalization's schedule for a 3,000-step run, so correcting after its first
 * 188 steps, Ghost BN's virtual batches of 20), on pre-made batches.
 */
export function openNormSession(kernels: Kernels, train: Split, norm: NormKind): TrainingSession {
  const net = buildNetwork(kernels, BENCH_CONFIG, norm, benchInitialWeights());
  net.sparseInput = true;
  const feeder = benchFeeder(kernels, train);
  const optimizer = new Sgd(kernels, LEARNING_RATE);
  const batches = Array.from({ length: PREMADE_BATCHES }, () => {
    const batch = { x: kernels.matrix(BATCH_SIZE, net.spec.inputSize), labels: new Uint8Array(BATCH_SIZE) };
    feeder.next(batch.x, batch.labels);
    return batch;
  });
  let position = 0;
  const run = (steps: number): RunResult => {
    let lastLoss = NaN;
    const elapsed = stopwatch();
    for (let step = 0; step < steps; step++) {
      const batch = batches[position]!;
      position = (position + 1) % batches.length;
      lastLoss = net.trainStep(batch.x, batch.labels, optimizer);
    }
    return { ...elapsed(), steps, lastLoss };
  };
  return { run: (steps) => Promise.resolve(run(steps)), close: () => Promise.resolve() };
}

/** Every norm's row, measured in alternating rounds; `kernelsFor` gives each network a fresh backend. */
export async function measureNormRows(
  kernelsFor: () => Promise<Kernels>,
  train: Split,
  plan: RunPlan,
  progress: (message: string) => void,
): Promise<NormRow[]> {
  const norms = [...NORM_KINDS];
  const sessions = new Map<NormKind, TrainingSession>();
  for (const norm of norms) sessions.set(norm, openNormSession(await kernelsFor(), train, norm));
  progress(`norms ${norms.join(', ')}: ${plan.runs} alternating rounds of ${plan.stepsPerRun} steps each after ${plan.warmupSteps} warm-up`);
  for (const norm of norms) await sessions.get(norm)!.run(plan.warmupSteps);
  const runs = new Map<NormKind, RunResult[]>(norms.map((norm) => [norm, []]));
  for (let round = 0; round < plan.runs; round++) {
    // Each round starts with another norm, so that none always follows the same neighbour.
    for (let k = 0; k < norms.length; k++) {
      const norm = norms[(round + k) % norms.length]!;
      runs.get(norm)!.push(await sessions.get(norm)!.run(plan.stepsPerRun));
    }
  }
  const bn = runs.get('bn')!;
  return norms.map((norm) => {
    const ours = runs.get(norm)!;
    const ratios = ours.map((run, i) => run.wallMs / run.steps / (bn[i]!.wallMs / bn[i]!.steps));
    return {
      norm,
      throughput: throughputOfRuns(plan, ours),
      stepTimeVsBn: median(ratios),
      stepTimeVsBnQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    };
  });
}
