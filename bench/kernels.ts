/**
 * @file Kernel micro-benchmark: every kernel at the article's shapes (784-128-128-128-10, batch
 * 60, inputs 19% nonzero like MNIST pixels) on each backend here (the reference, the wasm
 * backend in each build that validates), with microseconds per call, GFLOP/s for the products
 * (dense-equivalent: 2·m·k·n even where zeros are skipped), and how many microseconds of one
 * training step each kernel accounts for. Timings are this process's CPU time (so a busy shared
 * machine inflates them less than wall time would), the best of several rounds, after a warm-up
 * that lets V8 tier the code up.
 *
 * Run: npx tsc -p . && node dist/bench/kernels.js [--only js|wasm] [--round-ms 60]
 */
import { JsKernels } from '../src/core/js-kernels.js';
import type { Kernels } from '../src/core/kernels.js';
import type { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { compileKernelModule } from '../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../src/core/wasm/wasm-kernels.js';
import { enableRelaxedSimd, readKernelModules } from '../src/node/wasm-files.js';
import { cpuMicroseconds, option } from './script-options.js';

const BATCH = 60;
const INPUTS = 784;
const HIDDEN = 128;
const CLASSES = 10;
const NONZERO_FRACTION = 0.19; // of MNIST training pixels

interface Case {
  kernel: string;
  shape: string;
  /** Calls in one training step of the article's network: [without BN, with BN]. */
  callsPerStep: [number, number];
  /** Floating-point operations of one call, dense-equivalent; 0 where not a product. */
  flop: number;
  run: () => void;
}

/** The best CPU microseconds per call over `rounds` rounds of about `roundMs` each. */
function microsecondsPerCall(run: () => void, roundMs: number, rounds = 7): number {
  let calls = 1;
  for (;;) {
    // warm up and find a call count that fills a round
    const start = performance.now();
    for (let i = 0; i < calls; i++) run();
    const elapsedMs = performance.now() - start;
    if (elapsedMs >= roundMs / 4) {
      calls = Math.max(1, Math.round((calls * roundMs) / elapsedMs));
      break;
    }
    calls *= 4;
  }
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = cpuMicroseconds();
    for (let i = 0; i < calls; i++) run();
    best = Math.min(best, (cpuMicroseconds() - start) / calls);
  }
  return best;
}

function filled(kernels: Kernels, rows: number, cols: number, rng: Rng, nonzeroFraction = 1): Matrix {
  const matrix = kernels.matrix(rows, cols);
  const values = new Float32Array(rows * cols);
  rng.fillNormal(values, 1);
  for (let i = 0; i < values.length; i++) if (rng.uniform() >= nonzeroFraction) values[i] = 0;
  matrix.data.set(values);
  return matrix;
}

function cases(kernels: Kernels): Case[] {
  const rng = new Rng(1);
  const x = filled(kernels, BATCH, INPUTS, rng, NONZERO_FRACTION);
  const w1 = filled(kernels, INPUTS, HIDDEN, rng),
    w1Grad = kernels.matrix(INPUTS, HIDDEN);
  const w2 = filled(kernels, HIDDEN, HIDDEN, rng),
    w2Grad = kernels.matrix(HIDDEN, HIDDEN);
  const w4 = filled(kernels, HIDDEN, CLASSES, rng),
    w4Grad = kernels.matrix(HIDDEN, CLASSES);
  const h = filled(kernels, BATCH, HIDDEN, rng),
    out = kernels.matrix(BATCH, HIDDEN),
    dH = filled(kernels, BATCH, HIDDEN, rng);
  const logits = kernels.matrix(BATCH, CLASSES),
    dLogits = filled(kernels, BATCH, CLASSES, rng);
  const bias = filled(kernels, 1, HIDDEN, rng),
    biasGrad = kernels.matrix(1, HIDDEN);
  const gamma = filled(kernels, 1, HIDDEN, rng),
    beta = filled(kernels, 1, HIDDEN, rng);
  const mean = kernels.matrix(1, HIDDEN),
    variance = kernels.matrix(1, HIDDEN),
    invStd = kernels.matrix(1, HIDDEN);
  const xhat = kernels.matrix(BATCH, HIDDEN);
  kernels.batchNormForwardTrain(h, 1e-3, gamma, beta, mean, variance, invStd, xhat, out);
  const product = (m: number, k: number, n: number): number => 2 * m * k * n;
  return [
    {
      kernel: 'matmul dense',
      shape: 'x[60x784]·W[784x128]',
      callsPerStep: [0, 0],
      flop: product(BATCH, INPUTS, HIDDEN),
      run: () => kernels.matmul(x, w1, out, false),
    },
    {
      kernel: 'matmul sparse',
      shape: 'x[60x784]·W[784x128]',
      callsPerStep: [1, 1],
      flop: product(BATCH, INPUTS, HIDDEN),
      run: () => kernels.matmul(x, w1, out, true),
    },
    { kernel: 'matmul', shape: 'h[60x128]·W[128x128]', callsPerStep: [2, 2], flop: product(BATCH, HIDDEN, HIDDEN), run: () => kernels.matmul(h, w2, out) },
    { kernel: 'matmul', shape: 'h[60x128]·W[128x10]', callsPerStep: [1, 1], flop: product(BATCH, HIDDEN, CLASSES), run: () => kernels.matmul(h, w4, logits) },
    {
      kernel: 'matmulTransposeAAdd dense',
      shape: 'xᵀ[784x60]·dY[60x128]',
      callsPerStep: [0, 0],
      flop: product(INPUTS, BATCH, HIDDEN),
      run: () => kernels.matmulTransposeAAdd(x, dH, w1Grad, false),
    },
    {
      kernel: 'matmulTransposeAAdd sparse',
      shape: 'xᵀ[784x60]·dY[60x128]',
      callsPerStep: [1, 1],
      flop: product(INPUTS, BATCH, HIDDEN),
      run: () => kernels.matmulTransposeAAdd(x, dH, w1Grad, true),
    },
    {
      kernel: 'matmulTransposeAAdd',
      shape: 'hᵀ[128x60]·dY[60x128]',
      callsPerStep: [2, 2],
      flop: product(HIDDEN, BATCH, HIDDEN),
      run: () => kernels.matmulTransposeAAdd(h, dH, w2Grad),
    },
    {
      kernel: 'matmulTransposeAAdd',
      shape: 'hᵀ[128x60]·dY[60x10]',
      callsPerStep: [1, 1],
      flop: product(HIDDEN, BATCH, CLASSES),
      run: () => kernels.matmulTransposeAAdd(h, dLogits, w4Grad),
    },
    {
      kernel: 'matmulTransposeB',
      shape: 'dY[60x128]·Wᵀ[128x128]',
      callsPerStep: [2, 2],
      flop: product(BATCH, HIDDEN, HIDDEN),
      run: () => kernels.matmulTransposeB(dH, w2, out),
    },
    {
      kernel: 'matmulTransposeB',
      shape: 'dY[60x10]·Wᵀ[10x128]',
      callsPerStep: [1, 1],
      flop: product(BATCH, CLASSES, HIDDEN),
      run: () => kernels.matmulTransposeB(dLogits, w4, out),
    },
    { kernel: 'addRowVector', shape: '[60x128] + [1x128]', callsPerStep: [3, 0], flop: 0, run: () => kernels.addRowVector(out, bias) },
    { kernel: 'addColumnSums', shape: 'Σrows [60x128]', callsPerStep: [3, 0], flop: 0, run: () => kernels.addColumnSums(dH, biasGrad) },
    { kernel: 'activationForward relu', shape: '[60x128] in place', callsPerStep: [3, 3], flop: 0, run: () => kernels.activationForward('relu', out, out) },
    { kernel: 'activationBackward relu', shape: '[60x128]', callsPerStep: [3, 3], flop: 0, run: () => kernels.activationBackward('relu', h, dH, out) },
    {
      kernel: 'batchNormForwardTrain',
      shape: '[60x128]',
      callsPerStep: [0, 3],
      flop: 0,
      run: () => kernels.batchNormForwardTrain(h, 1e-3, gamma, beta, mean, variance, invStd, xhat, out),
    },
    {
      kernel: 'batchNormBackward',
      shape: '[60x128]',
      callsPerStep: [0, 3],
      flop: 0,
      run: () => kernels.batchNormBackward(dH, xhat, invStd, gamma, out, biasGrad, biasGrad),
    },
    { kernel: 'sgdStep (unfused)', shape: 'W1 [784x128]', callsPerStep: [0, 0], flop: 0, run: () => kernels.sgdStep(w1, w1Grad, 1e-9) },
    { kernel: 'sgdStep (unfused)', shape: 'W [128x128]', callsPerStep: [0, 0], flop: 0, run: () => kernels.sgdStep(w2, w2Grad, 1e-9) },
  ];
}

async function backends(only: string): Promise<Kernels[]> {
  const list: Kernels[] = [];
  if (only !== 'wasm') list.push(new JsKernels());
  if (only === 'js') return list;
  enableRelaxedSimd();
  const modules = readKernelModules();
  for (const [variant, bytes] of [
    ['relaxed-simd', modules.relaxedSimd],
    ['simd128', modules.simd128],
  ] as const) {
    if (bytes && WebAssembly.validate(bytes)) list.push(await WasmKernels.create(await compileKernelModule(bytes), variant));
    else console.log(`(wasm ${variant}: ${bytes ? 'does not validate here' : 'not built; run npm run build'})`);
  }
  return list;
}

const roundMs = Number(option('round-ms', '60'));
for (const kernels of await backends(option('only', 'all'))) {
  console.log(`\n${kernels.variant}${kernels.name === 'js' ? ' (reference)' : ''}, one core, node ${process.version}`);
  console.log(`${'kernel'.padEnd(28)}${'shape'.padEnd(25)}${'µs/call'.padStart(9)}${'GFLOP/s'.padStart(9)}${'µs/step'.padStart(9)}${'(BN)'.padStart(8)}`);
  const perStep = [0, 0];
  for (const { kernel, shape, callsPerStep, flop, run } of cases(kernels)) {
    const microseconds = microsecondsPerCall(run, kernels.name === 'js' ? roundMs * 3 : roundMs);
    perStep[0] += callsPerStep[0] * microseconds;
    perStep[1] += callsPerStep[1] * microseconds;
    const gflops = flop > 0 ? (flop / microseconds / 1000).toFixed(1) : '';
    const share = (calls: number): string => (calls > 0 ? (calls * microseconds).toFixed(1) : '');
    console.log(
      `${kernel.padEnd(28)}${shape.padEnd(25)}${microseconds.toFixed(2).padStart(9)}${gflops.padStart(9)}${share(callsPerStep[0]).padStart(9)}${share(callsPerStep[1]).padStart(8)}`,
    );
  }
  console.log(
    `kernel time per step: ${perStep[0]!.toFixed(0)} µs without BN (≤ ${(1e6 / perStep[0]!).toFixed(0)} steps/s), ` +
      `${perStep[1]!.toFixed(0)} µs with BN (≤ ${(1e6 / perStep[1]!).toFixed(0)} steps/s); training applies the weights' SGD inside matmulTransposeAAdd (scale −lr), so sgdStep of W is listed for reference only; sgdStep of the small parameters and the loss are not included`,
  );
}
