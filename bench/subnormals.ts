/**
 * @file Why the saturated sigmoid networks are slow on some CPUs (`node dist/bench/subnormals.js
 * [--steps N]`): the share of subnormal floats among each hidden layer's outputs and the gradients
 * at its input, and the steps per second of that network beside model 1's. Models 6 and 8 without
 * BN (std 10, sigmoid) saturate: sigmoid(z) for z between about −103 and −87 is subnormal. A CPU
 * that multiplies subnormal operands in microcode (Intel) trains them many times slower than model
 * 1; one that does it in hardware (AMD Zen) does not. WebAssembly cannot flush them to zero; the
 * wasm backend rescales such operands instead (the same bits) where it measured them slow
 * (src/core/wasm/subnormal-cost.ts), and this prints that measure and both ways.
 * PyTorch's side: bench/peers/torch_subnormals.py. docs/performance.md, "On an Intel Xeon".
 */

import { SLOW_SUBNORMALS } from '../src/core/wasm/subnormal-cost.js';
import { WasmKernels } from '../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { buildNetwork } from '../src/train/networks.js';
import { TrainingRun } from '../src/train/trainer.js';
import { option } from './script-options.js';

const SMALLEST_NORMAL = 2 ** -126;

function subnormalShare(data: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && Math.abs(data[i]!) < SMALLEST_NORMAL) count++;
  return count / data.length;
}

const steps = Number(option('steps', '300'));
enableRelaxedSimd();
const data = await loadMnist();
const kernels = await loadKernels('auto');
console.log(`${steps} training steps each, seed 1, without BN, ${kernels.variant}; subnormal shares on the last training batch`);
if (kernels instanceof WasmKernels) {
  console.log(
    `a product of subnormal floats runs ${kernels.subnormalSlowdown.toFixed(2)}× as long as one of normal floats here: ` +
      `by default ${kernels.rescaleSubnormals ? 'rescaled' : 'multiplied as they are'} (rescaled above ${SLOW_SUBNORMALS}×)`,
  );
}
const models: Array<[string, number, number, 'relu' | 'sigmoid']> = [
  ['model 1 (std 0.05, lr 0.01, ReLU)', 0.05, 0.01, 'relu'],
  ['model 6 (std 10, lr 0.01, sigmoid)', 10, 0.01, 'sigmoid'],
  ['model 8 (std 10, lr 2, sigmoid)', 10, 2, 'sigmoid'],
];
for (const [name, initStd, learningRate, activation] of models) {
  const config = resolveTrainConfig({ steps, initStd, learningRate, activation, batchNorm: false, norm: 'none', seed: 1 });
  const rates: string[] = [];
  let net: ReturnType<typeof buildNetwork> | null = null;
  // The wasm backend rescales subnormal operands (same bits); off, they are multiplied as they are.
  for (const rescale of [false, true]) {
    const backend = await loadKernels('auto');
    if (backend instanceof WasmKernels) backend.rescaleSubnormals = rescale;
    net = buildNetwork(backend, config, false);
    const run = new TrainingRun(net, data, config, {}, { validate: false });
    const started = performance.now();
    run.advance(steps);
    rates.push(
      `${((steps / (performance.now() - started)) * 1000).toFixed(0)} steps/s ${rescale ? 'rescaling subnormal operands' : 'multiplying them as they are'}`,
    );
  }
  const buffers = net!.hiddenBuffers(config.batchSize);
  const percent = (share: number) => `${(100 * share).toFixed(2)}%`;
  console.log(
    `${name}: ${rates.join(', ')}; subnormal outputs per layer ${buffers.map((b) => percent(subnormalShare(b.activation.data))).join(', ')}; ` +
      `gradients at their input ${buffers.map((b) => percent(subnormalShare(b.dLinear.data))).join(', ')}`,
  );
}
