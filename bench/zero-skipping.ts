/**
 * @file Where skipping zeros pays, and what it gives. First the products of a hidden layer of the
 * article's network ([60x128]·[128x128] forward, [128x60]·[60x128] weight gradient) with a left
 * factor of ReLU-like activations at each zero fraction, multiplied in full (`false`) and with its
 * zeros skipped (`true`), alternating round by round on each wasm build: the break-even zero
 * fractions are where `'measure'` switches (src/core/wasm/zero-skipping.ts; with the native products
 * too, where they were built); and dY·Wᵀ into the
 * layer whose ReLU output is that factor, whole and masked by it (assembly/dot-matmul.ts: where a
 * row pair switches to the whole tile). Then whole training
 * steps of the article's ReLU networks on real MNIST batches, one network each, with
 * `skipActivationZeros` off and on in alternating rounds (the numbers are the same either way).
 *
 * Run: npm run build && node dist/bench/zero-skipping.js [--rounds 9] [--calls 400] [--steps 500]
 */
import type { Kernels, ZeroSkipping } from '../src/core/kernels.js';
import type { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { compileKernelModule, WASM_VARIANTS } from '../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../src/core/wasm/wasm-kernels.js';
import { BatchFeeder } from '../src/data/batch-feeder.js';
import { Sgd } from '../src/nn/sgd.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { nativeKernels } from '../src/node/native-files.js';
import { enableRelaxedSimd, readKernelModules } from '../src/node/wasm-files.js';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config.js';
import { buildNetwork } from '../src/train/networks.js';
import { cpuMicroseconds, option } from './script-options.js';
import { median } from './workload.js';

const BATCH = 60;
const WIDTH = 128;
const ZERO_FRACTIONS = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1];

/** [rows, cols] of ReLU outputs: max(0, N(0,1)) where kept, exactly 0 at `zeroFraction` of the entries. */
function activations(kernels: Kernels, rows: number, cols: number, zeroFraction: number, rng: Rng): Matrix {
  const matrix = kernels.matrix(rows, cols);
  for (let i = 0; i < matrix.size; i++) matrix.data[i] = rng.uniform() < zeroFraction ? 0 : Math.abs(rng.normal());
  return matrix;
}

function filled(kernels: Kernels, rows: number, cols: number, rng: Rng, std: number): Matrix {
  const matrix = kernels.matrix(rows, cols);
  for (let i = 0; i < matrix.size; i++) matrix.data[i] = std * rng.normal();
  return matrix;
}

/** Median CPU µs per call of `dense` and of `sparse`, measured in alternating rounds. */
function alternate(dense: () => void, sparse: () => void, rounds: number, calls: number): [number, number] {
  const times: [number[], number[]] = [[], []];
  for (let round = -1; round < rounds; round++) {
    [dense, sparse].forEach((run, which) => {
      const start = cpuMicroseconds();
      for (let c = 0; c < calls; c++) run();
      if (round >= 0) times[which]!.push((cpuMicroseconds() - start) / calls);
    });
  }
  return [median(times[0]), median(times[1])];
}

function measure(kernels: Kernels, rounds: number, calls: number): void {
  const rng = new Rng(1);
  const w = filled(kernels, WIDTH, WIDTH, rng, 0.05);
  const dy = filled(kernels, BATCH, WIDTH, rng, 0.01);
  const out = kernels.matrix(BATCH, WIDTH);
  const wUpdated = filled(kernels, WIDTH, WIDTH, rng, 0.05);
  console.log(`\n${kernels.variant}: µs per call (CPU, median of ${rounds} alternating rounds of ${calls} calls)`);
  console.log(
    `${'zeros'.padStart(6)}${'x·W dense'.padStart(11)}${'skipping'.padStart(10)}${'ratio'.padStart(8)}${'xᵀ·dY dense'.padStart(13)}${'skipping'.padStart(10)}${'ratio'.padStart(8)}` +
      `${'dY·Wᵀ whole'.padStart(13)}${'masked'.padStart(8)}${'ratio'.padStart(8)}`,
  );
  for (const zeros of ZERO_FRACTIONS) {
    const x = activations(kernels, BATCH, WIDTH, zeros, rng);
    const forward = (skip: ZeroSkipping) => () => kernels.matmul(x, w, out, skip);
    // −1e-9·xᵀ·dY: the fused SGD update as a training step runs it, with a step too small to drift.
    const gradient = (skip: ZeroSkipping) => () => kernels.matmulTransposeAAdd(x, dy, wUpdated, skip, -1e-9);
    const [forwardDense, forwardSparse] = alternate(forward(false), forward(true), rounds, calls);
    const [gradientDense, gradientSparse] = alternate(gradient(false), gradient(true), rounds, calls);
    // dY·Wᵀ into the layer below, whose ReLU output is x: whole, or only where x > 0.
    const inputGradient = (masked: boolean) => () => kernels.matmulTransposeB(dy, w, out, false, masked ? x : undefined);
    const [inputWhole, inputMasked] = alternate(inputGradient(false), inputGradient(true), rounds, calls);
    console.log(
      `${`${Math.round(zeros * 100)}%`.padStart(6)}${forwardDense.toFixed(2).padStart(11)}${forwardSparse.toFixed(2).padStart(10)}` +
        `${(forwardSparse / forwardDense).toFixed(2).padStart(8)}${gradientDense.toFixed(2).padStart(13)}${gradientSparse.toFixed(2).padStart(10)}` +
        `${(gradientSparse / gradientDense).toFixed(2).padStart(8)}${inputWhole.toFixed(2).padStart(13)}${inputMasked.toFixed(2).padStart(8)}` +
        `${(inputMasked / inputWhole).toFixed(2).padStart(8)}`,
    );
  }
}

/** The article's ReLU networks where skipping matters (models 3 and 5 without BN die; model 7 with BN has a dead last layer). */
const NETWORKS: Array<[string, Partial<TrainConfig>, boolean]> = [
  ['model 1 without BN', { initStd: 0.05, learningRate: 0.01 }, false],
  ['model 1 with BN', { initStd: 0.05, learningRate: 0.01 }, true],
  ['model 3 without BN', { initStd: 0.05, learningRate: 2 }, false],
  ['model 5 without BN', { initStd: 10, learningRate: 0.01 }, false],
  ['model 5 with BN', { initStd: 10, learningRate: 0.01 }, true],
  ['model 7 with BN', { initStd: 10, learningRate: 2 }, true],
];

/** Steps/s of each network with skipping off and on, in alternating rounds after 1,000 steps (by then the dying ones are dead). */
async function measureNetworks(kernelsFor: () => Promise<Kernels>, rounds: number, steps: number): Promise<void> {
  const { train } = await loadMnist();
  console.log(`\ntraining steps/s on real MNIST batches (wall, median of ${rounds} alternating rounds of ${steps} steps, after 1,000 steps)`);
  console.log(`${'network'.padEnd(22)}${'off'.padStart(8)}${'on'.padStart(8)}${'on/off'.padStart(8)}`);
  for (const [label, overrides, batchNorm] of NETWORKS) {
    const config = resolveTrainConfig({ ...overrides, activation: 'relu', seed: 1, batchNorm });
    const kernels = await kernelsFor();
    const net = buildNetwork(kernels, config, batchNorm);
    net.sparseInput = true;
    const feeder = new BatchFeeder(kernels, train, config.batchSize, { shuffle: true, seed: config.seed });
    const x = kernels.matrix(config.batchSize, net.spec.inputSize),
      labels = new Uint8Array(config.batchSize);
    const optimizer = new Sgd(kernels, config.learningRate);
    const trainFor = (count: number): number => {
      const start = performance.now();
      for (let step = 0; step < count; step++) {
        feeder.next(x, labels);
        net.trainStep(x, labels, optimizer);
      }
      return (count * 1000) / (performance.now() - start);
    };
    trainFor(1000);
    const rates: [number[], number[]] = [[], []];
    for (let round = 0; round < rounds; round++) {
      for (const skip of [false, true]) {
        net.skipActivationZeros = skip;
        rates[skip ? 1 : 0].push(trainFor(steps));
      }
    }
    const [off, on] = [median(rates[0]), median(rates[1])];
    console.log(`${label.padEnd(22)}${off.toFixed(0).padStart(8)}${on.toFixed(0).padStart(8)}${(on / off).toFixed(2).padStart(7)}×`);
  }
}

enableRelaxedSimd();
const modules = readKernelModules();
const builds = WASM_VARIANTS.flatMap((variant) => {
  const bytes = variant === 'relaxed-simd' ? modules.relaxedSimd : modules.simd128;
  return bytes && WebAssembly.validate(bytes) ? [{ variant, bytes }] : [];
});
for (const { variant, bytes } of builds) {
  measure(await WasmKernels.create(await compileKernelModule(bytes), variant), Number(option('rounds', '9')), Number(option('calls', '400')));
}
// The native products, where `npm ci` built them (their own break-even: NATIVE_MAX_NONZERO_FRACTION).
const native = nativeKernels();
const first = builds[0];
if (first && native) {
  measure(
    await WasmKernels.create(await compileKernelModule(first.bytes), first.variant, { native }),
    Number(option('rounds', '9')),
    Number(option('calls', '400')),
  );
}
if (first) {
  const module = await compileKernelModule(first.bytes);
  for (const withNative of native ? [null, native] : [null]) {
    console.log(`\n(${first.variant}${withNative ? ' + native' : ''})`);
    await measureNetworks(
      () => WasmKernels.create(module, first.variant, { native: withNative }),
      Number(option('rounds', '9')),
      Number(option('steps', '500')),
    );
  }
}
