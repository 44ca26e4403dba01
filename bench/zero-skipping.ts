/**
 * @file Where skipping zeros pays: the products of a hidden layer of the article's network
 * ([60x128]·[128x128] forward, [128x60]·[60x128] weight gradient) with a left factor of ReLU-like
 * activations at each zero fraction, multiplied in full (`false`) and with its zeros skipped
 * (`true`), alternating round by round on each wasm build. The break-even zero fractions it
 * prints are where `'measure'` (src/core/wasm/zero-skipping.ts) switches.
 *
 * Run: npm run build && node dist/bench/zero-skipping.js [--rounds 9] [--calls 400]
 */
import type { Kernels, ZeroSkipping } from '../src/core/kernels.js';
import type { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { compileKernelModule, WASM_VARIANTS } from '../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../src/core/wasm/wasm-kernels.js';
import { enableRelaxedSimd, readKernelModules } from '../src/node/wasm-files.js';
import { median } from './workload.js';

const BATCH = 60;
const WIDTH = 128;
const ZERO_FRACTIONS = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1];

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

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
  console.log(`${'zeros'.padStart(6)}${'x·W dense'.padStart(11)}${'skipping'.padStart(10)}${'ratio'.padStart(8)}${'xᵀ·dY dense'.padStart(13)}${'skipping'.padStart(10)}${'ratio'.padStart(8)}`);
  for (const zeros of ZERO_FRACTIONS) {
    const x = activations(kernels, BATCH, WIDTH, zeros, rng);
    const forward = (skip: ZeroSkipping) => () => kernels.matmul(x, w, out, skip);
    // −1e-9·xᵀ·dY: the fused SGD update as a training step runs it, with a step too small to drift.
    const gradient = (skip: ZeroSkipping) => () => kernels.matmulTransposeAAdd(x, dy, wUpdated, skip, -1e-9);
    const [forwardDense, forwardSparse] = alternate(forward(false), forward(true), rounds, calls);
    const [gradientDense, gradientSparse] = alternate(gradient(false), gradient(true), rounds, calls);
    console.log(
      `${`${Math.round(zeros * 100)}%`.padStart(6)}${forwardDense.toFixed(2).padStart(11)}${forwardSparse.toFixed(2).padStart(10)}` +
        `${(forwardSparse / forwardDense).toFixed(2).padStart(8)}${gradientDense.toFixed(2).padStart(13)}${gradientSparse.toFixed(2).padStart(10)}` +
        `${(gradientSparse / gradientDense).toFixed(2).padStart(8)}`,
    );
  }
}

enableRelaxedSimd();
const modules = readKernelModules();
for (const variant of WASM_VARIANTS) {
  const bytes = variant === 'relaxed-simd' ? modules.relaxedSimd : modules.simd128;
  if (!bytes || !WebAssembly.validate(bytes)) continue;
  measure(await WasmKernels.create(await compileKernelModule(bytes), variant), option('rounds', 9), option('calls', 400));
}
