/**
 * @file Issue 15, item 1: the products after a ReLU skip its zeros where a count shows that pays
 * (`MLP.skipActivationZeros`, on by default), and the gradient through it is summed only where it
 * passes (dY·Wᵀ masked by its output), and that must not change a single bit. The article's
 * runs whose activations are sparse in every way a network makes them (model 1 with BN: about half
 * zeros; models 3 and 5 without BN: dead, zeros everywhere, gradients too; model 7 with BN: a dead
 * last hidden layer above live ones; model 5 with BN: 90% zeros in layer 3) are trained on real
 * MNIST with skipping on and off, on every wasm build: the records (curve, final validation, test)
 * and the final weights must be equal bit for bit, and the counters must show each skip taken.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { NormKind } from '../../src/nn/spec.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { wasmBuildsHere } from '../helpers/backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';

type Skip = keyof WasmKernels['zeroSkips'];

describe('skipping ReLU zeros gives the same numbers bit for bit (real MNIST, wasm)', async () => {
  const data = await loadMnist();
  // [label, the article's configuration, the norm (true: BN), the skips it must take]
  const cases: Array<[string, Partial<TrainConfig>, NormKind | boolean, Skip[]]> = [
    ['model 1 with BN', { initStd: 0.05, learningRate: 0.01 }, true, ['weightGradient', 'maskedInputGradient']],
    ['model 1 without BN', { initStd: 0.05, learningRate: 0.01 }, false, ['maskedInputGradient']],
    ['model 3 without BN (dies)', { initStd: 0.05, learningRate: 2 }, false, ['forward', 'weightGradient', 'vanishedGradient']],
    ['model 5 without BN (dead)', { initStd: 10, learningRate: 0.01 }, false, ['forward', 'weightGradient', 'vanishedGradient']],
    ['model 5 with BN', { initStd: 10, learningRate: 0.01 }, true, ['forward', 'weightGradient']],
    ['model 7 with BN (a dead layer)', { initStd: 10, learningRate: 2 }, true, ['forward', 'vanishedGradient']],
    ['model 1 with Weight Norm (its own backward)', { initStd: 0.05, learningRate: 0.01, norm: 'wn' }, 'wn', ['maskedInputGradient']],
    ['model 1 with BN after the activation (nothing masked)', { initStd: 0.05, learningRate: 0.01, normPlacement: 'post' }, true, []],
  ];
  for (const { variant, bytes } of wasmBuildsHere()) {
    const module = await compileKernelModule(bytes);
    for (const [label, overrides, batchNorm, skips] of cases) {
      test(`${variant}: ${label}, 800 steps`, async () => {
        const config = resolveTrainConfig({ ...overrides, activation: 'relu', seed: 1, steps: 800, validateEvery: 200, batchNorm: batchNorm === true });
        const run = async (skip: boolean) => {
          const kernels = await WasmKernels.create(module, variant);
          const net = buildNetwork(kernels, config, batchNorm);
          net.skipActivationZeros = skip;
          const result = await train(net, data, config);
          return { result, weights: net.checkpointTensors().map((t) => [t.name, Array.from(t.read())]), skips: { ...kernels.zeroSkips } };
        };
        const multiplied = await run(false);
        const skipped = await run(true);
        assert.deepStrictEqual(
          multiplied.skips,
          { forward: 0, weightGradient: 0, vanishedGradient: 0, maskedInputGradient: 0 },
          'off: nothing measured, nothing skipped',
        );
        for (const kind of skips) assert.ok(skipped.skips[kind] > 0, `${label} skips zeros in ${kind}: ${JSON.stringify(skipped.skips)}`);
        // After the activation, the norm's output (not the ReLU's) is the next layer's input: nothing to mask.
        if (overrides.normPlacement === 'post') assert.equal(skipped.skips.maskedInputGradient, 0, `${label}: no dY·Wᵀ masked`);
        assert.deepStrictEqual(trainNumbers(skipped.result), trainNumbers(multiplied.result), `${label}: the same record`);
        assert.equal(skipped.result.skippedSteps, multiplied.result.skippedSteps, `${label}: the same steps skipped`);
        assert.deepStrictEqual(skipped.weights, multiplied.weights, `${label}: the same final weights`);
      });
    }
  }
});
