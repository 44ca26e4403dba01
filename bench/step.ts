/**
 * @file Whole training steps per second: MLP.trainStep of the article's network
 * (784-128-128-128-10, batch 60, SGD, softmax cross-entropy) on random sparse batches (19% of
 * the inputs nonzero, like MNIST pixels), without and with BatchNorm, on each backend here.
 * Each step copies its batch into the network's input first, as a training loop does. Reports
 * the median of 3 rounds, by wall clock and by this process's CPU time (which a busy shared
 * machine inflates less).
 *
 * Run: npx tsc -p . && node dist/bench/step.js [--only js|wasm] [--steps 2000]
 */
import { JsKernels } from '../src/core/js-kernels.js';
import type { Kernels } from '../src/core/kernels.js';
import { Rng } from '../src/core/rng.js';
import { compileKernelModule } from '../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../src/core/wasm/wasm-kernels.js';
import { drawInitialWeights, MLP } from '../src/nn/mlp.js';
import { Sgd } from '../src/nn/sgd.js';
import { makeSpec } from '../src/nn/spec.js';
import { enableRelaxedSimd, readKernelModules } from '../src/node/wasm-files.js';
import { cpuMicroseconds, option } from './script-options.js';
import { median } from './workload.js';

const BATCH = 60;
const INPUTS = 784;
const NONZERO_FRACTION = 0.19;
const BATCHES = 16;
const ROUNDS = 3;

/** Batches of pixels in [0, 1], 19% nonzero, and their labels. */
function randomBatches(rng: Rng): Array<{ pixels: Float32Array; labels: number[] }> {
  return Array.from({ length: BATCHES }, () => {
    const pixels = new Float32Array(BATCH * INPUTS);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rng.uniform() < NONZERO_FRACTION ? rng.uniform() : 0;
    return { pixels, labels: Array.from({ length: BATCH }, () => rng.int(10)) };
  });
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

const wasmSteps = Number(option('steps', '2000'));
const batches = randomBatches(new Rng(7));
console.log(`training steps per second, batch ${BATCH}, 784-128-128-128-10, one core, node ${process.version}`);
console.log(
  `${'backend'.padEnd(20)}${'BN'.padEnd(6)}${'steps'.padStart(7)}${'steps/s (wall)'.padStart(16)}${'steps/s (cpu)'.padStart(15)}${'µs/step (cpu)'.padStart(15)}`,
);
for (const kernels of await backends(option('only', 'all'))) {
  for (const batchNorm of [false, true]) {
    const spec = makeSpec({ batchNorm });
    const network = new MLP(kernels, spec, drawInitialWeights(spec, 0.05, new Rng(1)));
    network.sparseInput = true;
    const optimizer = new Sgd(kernels, 0.01);
    const input = network.inputFor(BATCH);
    let next = 0;
    const step = (): void => {
      const batch = batches[next++ % BATCHES]!;
      input.data.set(batch.pixels);
      network.trainStep(input, batch.labels, optimizer);
    };
    const steps = kernels.name === 'js' ? Math.max(10, Math.round(wasmSteps / 100)) : wasmSteps;
    for (let i = 0; i < Math.min(200, steps); i++) step(); // warm-up: V8 tiers the code up
    const wall: number[] = [],
      cpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const wallStart = performance.now(),
        cpuStart = cpuMicroseconds();
      for (let i = 0; i < steps; i++) step();
      wall.push(steps / ((performance.now() - wallStart) / 1000));
      cpu.push(steps / ((cpuMicroseconds() - cpuStart) / 1e6));
    }
    console.log(
      `${kernels.variant.padEnd(20)}${(batchNorm ? 'yes' : 'no').padEnd(6)}${String(steps).padStart(7)}` +
        `${median(wall).toFixed(0).padStart(16)}${median(cpu).toFixed(0).padStart(15)}${(1e6 / median(cpu)).toFixed(0).padStart(15)}`,
    );
  }
}
