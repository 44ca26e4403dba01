/**
 * @file A training run's input kept as its nonzeros (issue 15): `TrainingRun` draws each batch
 * straight into SparseRows (`gatherSparseRows`), and the first layer reads those nonzeros in
 * both products. The same network trained on the same batches given as floats (gatherBytesToFloats
 * into `inputFor`, the first layer finding the nonzeros itself) must end with the same weights
 * bit for bit and have seen the same losses, on real MNIST, on every backend, with and without BN.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchFeeder } from '../../src/data/batch-feeder.js';
import { Sgd } from '../../src/nn/sgd.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { deriveSeed } from '../../src/train/seeds.js';
import { TrainingRun } from '../../src/train/trainer.js';
import { backendsUnderTest } from '../helpers/backends.js';

describe('training on the input as its nonzeros gives the numbers of training on its floats (real MNIST)', async () => {
  const data = await loadMnist();
  for (const kernels of await backendsUnderTest()) {
    for (const batchNorm of [false, true]) {
      const steps = kernels.name === 'js' ? 40 : 300;
      test(`${kernels.name} ${kernels.variant}, model 1 ${batchNorm ? 'with' : 'without'} BN, ${steps} steps`, () => {
        const config = resolveTrainConfig({ initStd: 0.05, learningRate: 0.01, seed: 3, steps, batchNorm });
        // The trainer's loop: batches drawn into SparseRows.
        const sparseNet = buildNetwork(kernels, config, batchNorm);
        const sparseLosses: number[] = [];
        const run = new TrainingRun(sparseNet, data, config, { onStep: (_step, loss) => sparseLosses.push(loss) }, { validate: false });
        run.advance();
        // The same batches as floats, through trainStep.
        const floatNet = buildNetwork(kernels, config, batchNorm);
        floatNet.sparseInput = true;
        const feeder = new BatchFeeder(kernels, data.train, config.batchSize, { shuffle: config.shuffle, seed: deriveSeed(config.seed, 'batches') });
        const optimizer = new Sgd(kernels, config.learningRate);
        const x = floatNet.inputFor(config.batchSize),
          labels = new Uint8Array(config.batchSize);
        const floatLosses: number[] = [];
        for (let step = 0; step < steps; step++) {
          feeder.next(x, labels);
          floatLosses.push(floatNet.trainStep(x, labels, optimizer));
        }
        assert.deepStrictEqual(sparseLosses, floatLosses, 'the same loss at every step');
        const weights = (net: typeof sparseNet) => net.checkpointTensors().map((t) => [t.name, Array.from(t.read())]);
        assert.deepStrictEqual(weights(sparseNet), weights(floatNet), 'the same weights, BN statistics and biases at the end');
        assert.notDeepStrictEqual(weights(sparseNet), weights(buildNetwork(kernels, config, batchNorm)), 'training moved the weights');
      });
    }
  }
});
