/**
 * @file Where one bnlab training step with BN spends its time: matrix kernels, BatchNorm,
 * activations, the loss, SGD, bias kernels, the batch copy and the rest (TypeScript glue:
 * zeroing the small gradients, the moving-average update). The step is MLP.trainStep itself,
 * whose weight updates happen inside the xᵀ·dY kernels (SGD fused into the weight gradient).
 * Kernel time comes from a timing wrapper around the backend; then the step's matrix multiplies
 * are replayed alone, call by call, to give "matrix work at the kernels' own speed", and the
 * whole step is compared with it.
 */
import type { Kernels } from '../src/core/kernels.js';
import type { Split } from '../src/data/mnist.js';
import { Sgd } from '../src/nn/sgd.js';
import { describeMatmul, type KernelMethod, type MatmulCall, matmulFlops, replayMatmul, TimingKernels } from './timing-kernels.js';
import { BATCH_SIZE, benchFeeder, buildBenchNetwork, type Elapsed, LEARNING_RATE, median, stopwatch, type Variant } from './workload.js';

export type SplitPart = 'matmul' | 'batchNorm' | 'activation' | 'loss' | 'sgd' | 'bias' | 'batchCopy' | 'rest';
export const SPLIT_PARTS: readonly SplitPart[] = ['matmul', 'batchNorm', 'activation', 'loss', 'sgd', 'bias', 'batchCopy', 'rest'];
export const SPLIT_PART_LABELS: Readonly<Record<SplitPart, string>> = {
  matmul: 'matrix kernels (x·W, dY·Wᵀ, W −= lr·xᵀ·dY)',
  batchNorm: 'BatchNorm kernels (forward, backward)',
  activation: 'ReLU kernels (forward, backward)',
  loss: 'softmax cross-entropy',
  sgd: 'SGD of biases, γ, β (W: in xᵀ·dY)',
  bias: 'output-layer bias kernels',
  batchCopy: 'batch draw (indices, gather → nonzeros)',
  rest: 'the rest (TypeScript glue, timer overhead)',
};

/** Which part of the split each kernel method's time belongs to. */
const PART_OF_METHOD: Readonly<Record<KernelMethod, SplitPart>> = {
  matmul: 'matmul',
  matmulTransposeAAdd: 'matmul',
  matmulTransposeB: 'matmul',
  addRowVector: 'bias',
  addColumnSums: 'bias',
  activationForward: 'activation',
  activationBackward: 'activation',
  batchNormForwardTrain: 'batchNorm',
  batchNormBackward: 'batchNorm',
  scaleShiftColumns: 'batchNorm',
  groupNormForward: 'batchNorm',
  groupNormBackward: 'batchNorm',
  weightNormScale: 'batchNorm',
  weightNormBackward: 'batchNorm',
  addScaledColumns: 'batchNorm',
  sgdStep: 'sgd',
  bytesToFloats: 'batchCopy',
  gatherBytesToFloats: 'batchCopy',
  gatherSparseRows: 'batchCopy',
  packRows: 'matmul',
  unpackRows: 'rest',
  matmulSparseRows: 'matmul',
  matmulTransposeAAddSparseRows: 'matmul',
  softmaxCrossEntropy: 'loss',
};

export interface MatmulInIsolation {
  call: string;
  /** Median microseconds per call, the call repeated alone. */
  microseconds: number;
  /** The same in process CPU time. */
  cpuMicroseconds: number;
  /** Dense-equivalent GFLOP/s (2·m·k·n per call). */
  gflops: number;
}

export interface StepSplit {
  variant: Variant;
  steps: number;
  /** Mean microseconds per step in each part, measured through the timing wrapper. */
  microsecondsPerStep: Record<SplitPart, number>;
  /** Mean microseconds of a step through the timing wrapper (the parts add up to it). */
  timedStepMicroseconds: number;
  /** Mean microseconds of the same step without the wrapper. */
  plainStepMicroseconds: number;
  plainStepCpuMicroseconds: number;
  /** The step's matrix multiplies, each replayed alone. */
  matmulCalls: MatmulInIsolation[];
  /** Σ of matmulCalls: the matrix work of one step at the kernels' own speed. */
  matmulOnlyMicroseconds: number;
  matmulOnlyCpuMicroseconds: number;
  /** matmulOnlyMicroseconds / plainStepMicroseconds: how close the whole step comes to what the kernels allow (target ≥ 0.6). */
  kernelEfficiency: number;
  /** The same ratio in CPU time, steadier where other work shares the cores. */
  kernelEfficiencyCpu: number;
}

/**
 * @param steps timed steps (after a warm-up of steps/4)
 * @param replayRepeats repetitions of each matrix multiply in isolation
 */
export function measureStepSplit(kernels: Kernels, train: Split, steps: number, replayRepeats: number, variant: Variant = 'withBn'): StepSplit {
  const timing = new TimingKernels(kernels);
  const net = buildBenchNetwork(timing, variant);
  const feeder = benchFeeder(timing, train);
  const optimizer = new Sgd(timing, LEARNING_RATE);
  const x = net.sparseInputFor(BATCH_SIZE); // [60, 784] as its nonzeros, as a training run draws it
  const labels = new Uint8Array(BATCH_SIZE); // [60]

  let batchCopyMs = 0,
    stepMs = 0;
  const step = (): void => {
    const started = performance.now();
    feeder.next(x, labels); // the draw: the batch's indices, then gatherSparseRows (which the wrapper times too)
    const copied = performance.now();
    net.trainStep(x, labels, optimizer);
    const done = performance.now();
    batchCopyMs += copied - started;
    stepMs += done - started;
  };

  const warmupSteps = Math.max(50, Math.round(steps / 4));
  for (let i = 0; i < warmupSteps; i++) step();
  timing.reset();
  batchCopyMs = stepMs = 0;
  for (let i = 0; i < steps; i++) step();

  const partMs: Record<SplitPart, number> = { matmul: 0, batchNorm: 0, activation: 0, loss: 0, sgd: 0, bias: 0, batchCopy: batchCopyMs, rest: 0 };
  for (const method of Object.keys(PART_OF_METHOD) as KernelMethod[]) partMs[PART_OF_METHOD[method]] += timing.elapsedMs[method];
  partMs.batchCopy = batchCopyMs; // the feeder's whole time already holds its gatherSparseRows
  const accounted = SPLIT_PARTS.reduce((sum, part) => sum + partMs[part], 0);
  partMs.rest = stepMs - accounted;
  const microsecondsPerStep = Object.fromEntries(SPLIT_PARTS.map((part) => [part, (partMs[part] / steps) * 1000])) as Record<SplitPart, number>;

  // One more step, recording its matrix multiplies with their real operands.
  timing.recordedMatmuls = [];
  step();
  const calls: MatmulCall[] = timing.recordedMatmuls;
  timing.recordedMatmuls = null;
  const matmulCalls = calls.map((call) => timeInIsolation(kernels, call, replayRepeats));
  const matmulOnlyMicroseconds = matmulCalls.reduce((sum, call) => sum + call.microseconds, 0);
  const matmulOnlyCpuMicroseconds = matmulCalls.reduce((sum, call) => sum + call.cpuMicroseconds, 0);

  const plainStep = plainStepTime(kernels, train, variant, steps);
  return {
    variant,
    steps,
    microsecondsPerStep,
    timedStepMicroseconds: (stepMs / steps) * 1000,
    plainStepMicroseconds: plainStep.wallMs * 1000,
    plainStepCpuMicroseconds: plainStep.cpuMs * 1000,
    matmulCalls,
    matmulOnlyMicroseconds,
    matmulOnlyCpuMicroseconds,
    kernelEfficiency: matmulOnlyMicroseconds / (plainStep.wallMs * 1000),
    kernelEfficiencyCpu: matmulOnlyCpuMicroseconds / (plainStep.cpuMs * 1000),
  };
}

/** One recorded call repeated alone on the unwrapped backend: the median of 5 blocks of `repeats` calls. */
function timeInIsolation(kernels: Kernels, call: MatmulCall, repeats: number): MatmulInIsolation {
  for (let i = 0; i < repeats; i++) replayMatmul(kernels, call); // warm-up / tier-up
  const blocks: Elapsed[] = [];
  for (let block = 0; block < 5; block++) {
    const elapsed = stopwatch();
    for (let i = 0; i < repeats; i++) replayMatmul(kernels, call);
    blocks.push(elapsed());
  }
  const microseconds = median(blocks.map((b) => (b.wallMs / repeats) * 1000));
  const cpuMicroseconds = median(blocks.map((b) => (b.cpuMs / repeats) * 1000));
  return { call: describeMatmul(call), microseconds, cpuMicroseconds, gflops: matmulFlops(call) / (microseconds * 1000) };
}

/** Mean wall and CPU milliseconds of a training step without the wrapper, on a fresh network, the same steps. */
function plainStepTime(kernels: Kernels, train: Split, variant: Variant, steps: number): Elapsed {
  const net = buildBenchNetwork(kernels, variant);
  const feeder = benchFeeder(kernels, train);
  const optimizer = new Sgd(kernels, LEARNING_RATE);
  const x = net.sparseInputFor(BATCH_SIZE);
  const labels = new Uint8Array(BATCH_SIZE);
  const run = (count: number): void => {
    for (let i = 0; i < count; i++) {
      feeder.next(x, labels);
      net.trainStep(x, labels, optimizer);
    }
  };
  run(Math.max(50, Math.round(steps / 4)));
  const elapsed = stopwatch();
  run(steps);
  const { wallMs, cpuMs } = elapsed();
  return { wallMs: wallMs / steps, cpuMs: cpuMs / steps };
}
