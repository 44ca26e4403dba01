/**
 * @file The one workload every system in the training benchmark runs: the article's network
 * 784-128-128-128-10 with ReLU, batch 60, SGD at lr 0.01, weights drawn from N(0, 0.05²) with a
 * fixed seed, with and without BatchNorm (eps 1e-3, decay 0.99), on MNIST's 55,000 training images.
 */
import type { Kernels } from '../src/core/kernels.js';
import type { Matrix } from '../src/core/matrix.js';
import { BatchFeeder } from '../src/data/batch-feeder.js';
import { Batcher } from '../src/data/batcher.js';
import type { Split } from '../src/data/mnist.js';
import type { MLP } from '../src/nn/mlp.js';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../src/train/networks.js';
import { deriveSeed } from '../src/train/seeds.js';

/** The fixed seed of every benchmark run: initial weights and batch order derive from it. */
export const BENCH_SEED = 1;

/** The article's model: the defaults of `bnlab train` (batch 60, lr 0.01, init std 0.05, ReLU, 128-128-128). */
export const BENCH_CONFIG: Readonly<TrainConfig> = Object.freeze(resolveTrainConfig({ seed: BENCH_SEED }));

export const BATCH_SIZE = BENCH_CONFIG.batchSize;
export const LEARNING_RATE = BENCH_CONFIG.learningRate;
export const INIT_STD = BENCH_CONFIG.initStd;
export const BN_EPS = BENCH_CONFIG.bnEps;
/** Our decay (new = decay·old + (1 − decay)·batch); PyTorch's momentum is 1 − this. */
export const BN_DECAY = BENCH_CONFIG.bnMomentum;
export const LAYER_SIZES: readonly number[] = Object.freeze([784, ...BENCH_CONFIG.hiddenSizes, 10]);

/** The two networks every system is measured on. */
export type Variant = 'withoutBn' | 'withBn';
export const VARIANTS: readonly Variant[] = ['withoutBn', 'withBn'];
export const VARIANT_LABELS: Readonly<Record<Variant, string>> = { withoutBn: 'without BN', withBn: 'with BN' };

export function usesBatchNorm(variant: Variant): boolean {
  switch (variant) {
    case 'withoutBn':
      return false;
    case 'withBn':
      return true;
    default:
      return variant satisfies never;
  }
}

/** The initial weight matrices ([in, out] per layer) every system starts from. */
export function benchInitialWeights(): Matrix[] {
  return initialWeightsFor(BENCH_CONFIG);
}

/** A bnlab network of the workload, with the sparse-input path on as `bnlab train` sets it. */
export function buildBenchNetwork(kernels: Kernels, variant: Variant, initialWeights: Matrix[] = benchInitialWeights()): MLP {
  const net = buildNetwork(kernels, BENCH_CONFIG, usesBatchNorm(variant), initialWeights);
  net.sparseInput = true; // raw MNIST pixels, ~81% zeros, as the trainer declares them
  return net;
}

/** How many distinct batches the peers (and bnlab's like-for-like rows) pre-make and cycle through; torch_mlp.py has its own copy. */
export const PREMADE_BATCHES = 100;

const BENCH_BATCH_OPTIONS = { shuffle: true, seed: deriveSeed(BENCH_SEED, 'batches') };

/** The training batches in the order `bnlab train` draws them with the benchmark's seed. */
export function benchBatcher(train: Split): Batcher {
  return new Batcher(train, BATCH_SIZE, BENCH_BATCH_OPTIONS);
}

/** The same batches fed into a bnlab network's input as `bnlab train` feeds them (bytes, converted by the backend). */
export function benchFeeder(kernels: Kernels, train: Split): BatchFeeder {
  return new BatchFeeder(kernels, train, BATCH_SIZE, BENCH_BATCH_OPTIONS);
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The q-quantile (0 ≤ q ≤ 1) of a non-empty list, interpolating between neighbours. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1),
    below = Math.floor(position),
    above = Math.ceil(position);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** How many steps one measurement times: `runs` timed runs of `stepsPerRun`, after `warmupSteps`. */
export interface RunPlan {
  warmupSteps: number;
  runs: number;
  stepsPerRun: number;
}

/** One system's throughput on one network: the median of the timed runs. */
export interface Throughput {
  /** Steps per second of wall time: what a user waits for. */
  stepsPerSecond: number;
  /** steps/s of every timed run, in order. */
  runStepsPerSecond: number[];
  /**
   * Steps per second of the process's CPU time (all its threads): on a machine whose cores other
   * work shares, wall time counts the waiting too, CPU time much less so.
   */
  cpuStepsPerSecond: number;
  plan: RunPlan;
  /** The training loss of the last step: a sign the system really trained. */
  lastLoss: number;
}

/** Wall and CPU milliseconds of one timed stretch. */
export interface Elapsed {
  wallMs: number;
  cpuMs: number;
}

/** Starts a stopwatch; calling the result gives the wall and process CPU time since. */
export function stopwatch(): () => Elapsed {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  return () => {
    const cpu = process.cpuUsage(cpuStart); // microseconds, user + system, all threads
    return { wallMs: performance.now() - wallStart, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
}

export function throughputOf(plan: RunPlan, runs: readonly Elapsed[], lastLoss: number): Throughput {
  const runStepsPerSecond = runs.map((run) => (plan.stepsPerRun / run.wallMs) * 1000);
  const runCpuStepsPerSecond = runs.map((run) => (plan.stepsPerRun / run.cpuMs) * 1000);
  return { stepsPerSecond: median(runStepsPerSecond), runStepsPerSecond, cpuStepsPerSecond: median(runCpuStepsPerSecond), plan, lastLoss };
}

/** What one timed stretch of training gives. */
export interface RunResult extends Elapsed {
  steps: number;
  /** The training loss of the stretch's last step. */
  lastLoss: number;
}

/**
 * A system ready to train one network, kept alive between timed stretches so that runs of two
 * systems can alternate (see interleave.ts): on shared cores, a load that comes and goes then
 * hits both alike.
 */
export interface TrainingSession {
  run(steps: number): Promise<RunResult>;
  close(): Promise<void>;
}

/** The median throughput of a session's timed runs (all of `plan.stepsPerRun` steps). */
export function throughputOfRuns(plan: RunPlan, runs: readonly RunResult[]): Throughput {
  return throughputOf(plan, runs, runs[runs.length - 1]?.lastLoss ?? NaN);
}
