/**
 * @file Measurement for issue 15, item 1 (`node dist/bench/relu-zeros.js [--steps N]`): how many
 * of each hidden layer's ReLU outputs are exactly zero over a run, and how many entries of the
 * gradient at each hidden layer's linear output (∂L/∂(x·W), what the input-gradient product of the
 * layer multiplies) are zero, for the article's ReLU models: initial std 0.05 and 10, learning
 * rate 0.01 and 2, without and with BN, seed 1. Sampled on the training batch every 10 steps;
 * printed as the mean over the run and over its first and last tenths. A dense 128-wide product
 * runs at ~50 GFLOP/s and the sparse first layer at ~28 GFLOP/s of real multiply-adds (150
 * dense-equivalent at 19% density), so skipping zeros pays only well beyond half of them zero.
 */

import { loadMnist } from '../src/node/mnist-files.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { buildNetwork } from '../src/train/networks.js';
import { TrainingRun } from '../src/train/trainer.js';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

function zeroFraction(data: ArrayLike<number>, length: number): number {
  let zeros = 0;
  for (let i = 0; i < length; i++) if (data[i] === 0) zeros++;
  return zeros / length;
}

const steps = Number(argument('--steps', '5000'));
const every = 10;
enableRelaxedSimd();
const data = await loadMnist();
console.log(
  `Zero fraction per hidden layer (ReLU output a, then ∂L/∂(x·W) g), ${steps} steps, sampled every ${every}; mean over the run [first tenth → last tenth]`,
);
const models: Array<[string, number, number]> = [
  ['model 1', 0.05, 0.01],
  ['model 3', 0.05, 2],
  ['model 5', 10, 0.01],
  ['model 7', 10, 2],
];
for (const [name, initStd, learningRate] of models) {
  for (const batchNorm of [false, true]) {
    const config = resolveTrainConfig({ steps, initStd, learningRate, activation: 'relu', batchNorm, norm: batchNorm ? 'bn' : 'none', seed: 1 });
    const net = buildNetwork(await loadKernels('auto'), config, batchNorm);
    const run = new TrainingRun(net, data, config, {}, { validate: false });
    const layers = config.hiddenSizes.length;
    const samples: Array<{ step: number; a: number[]; g: number[] }> = [];
    while (!run.ended) {
      run.advance(every);
      const buffers = net.hiddenBuffers(config.batchSize);
      samples.push({
        step: run.step,
        a: buffers.map((b) => zeroFraction(b.activation.data, b.activation.rows * b.activation.cols)),
        g: buffers.map((b) => zeroFraction(b.dLinear.data, b.dLinear.rows * b.dLinear.cols)),
      });
    }
    const mean = (part: typeof samples, key: 'a' | 'g', l: number) => part.reduce((sum, s) => sum + s[key][l]!, 0) / part.length;
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const first = samples.slice(0, tenth),
      last = samples.slice(-tenth);
    const describe = (key: 'a' | 'g') =>
      Array.from(
        { length: layers },
        (_, l) => `${(100 * mean(samples, key, l)).toFixed(1)}% [${(100 * mean(first, key, l)).toFixed(1)} → ${(100 * mean(last, key, l)).toFixed(1)}]`,
      ).join(', ');
    const diverged = run.divergedAtStep === null ? '' : ` (diverged at step ${run.divergedAtStep}: NaN is not zero)`;
    console.log(
      `${name} (std ${initStd}, lr ${learningRate}) ${batchNorm ? 'with BN   ' : 'without BN'}${diverged}\n  a: ${describe('a')}\n  g: ${describe('g')}`,
    );
  }
}
