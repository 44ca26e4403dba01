/**
 * @file The bench's split of a step (bench/split.ts) times every kernel call through a wrapper,
 * TimingKernels; the step it times must be the step that trains. A wrapper that drops an optional
 * argument (a zero-skipping mode, dY·Wᵀ's output mask) changes which path runs or what it
 * computes, silently. So the article's ReLU networks train on the same synthetic batches through
 * the wrapper and without it, on each backend: the same weights to the bit, and the masked dY·Wᵀ
 * recorded and replayed with its mask.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimingKernels } from '../../bench/timing-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { Sgd } from '../../src/nn/sgd.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { backendsUnderTest } from '../helpers/backends.js';

const STEPS = 30;

/** The final weights after STEPS steps of model 1 (ReLU, std 0.05) with or without BN on random sparse batches. */
function trainedWeights(kernels: Kernels, batchNorm: boolean): number[][] {
  const config = resolveTrainConfig({ initStd: 0.05, learningRate: 0.5, activation: 'relu', seed: 3, batchNorm });
  const net = buildNetwork(kernels, config, batchNorm);
  net.sparseInput = true;
  const optimizer = new Sgd(kernels, config.learningRate);
  const rng = new Rng(4);
  const x = kernels.matrix(config.batchSize, 784),
    labels = new Uint8Array(config.batchSize);
  for (let step = 0; step < STEPS; step++) {
    for (let i = 0; i < x.size; i++) x.data[i] = rng.uniform() < 0.8 ? 0 : rng.uniform();
    for (let i = 0; i < labels.length; i++) labels[i] = rng.int(10);
    net.trainStep(x, labels, optimizer);
  }
  return net.checkpointTensors().map((tensor) => Array.from(tensor.read()));
}

describe("the bench's timing wrapper changes no number", async () => {
  for (const kernels of await backendsUnderTest()) {
    const name = kernels instanceof WasmKernels ? kernels.variant : 'js reference';
    for (const batchNorm of [false, true]) {
      test(`${name}: model 1 ${batchNorm ? 'with' : 'without'} BN trains to the same bits through TimingKernels`, () => {
        const timing = new TimingKernels(kernels);
        timing.recordedMatmuls = [];
        assert.deepStrictEqual(trainedWeights(timing, batchNorm), trainedWeights(kernels, batchNorm));
        assert.ok(
          timing.recordedMatmuls.some((call) => call.method === 'matmulTransposeB' && call.outputMask !== undefined),
          'dY·Wᵀ recorded with its output mask',
        );
      });
    }
  }
});
