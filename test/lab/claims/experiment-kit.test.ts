/**
 * @file The claims train on the one training loop: `trainForClaim` (a TrainingRun without
 * evaluations, checkpoints from its onStep hook) leaves a network bit for bit where `train()`
 * leaves it from the same weights, config and batches, on every backend: on the whole training
 * split, on a subset of it, and when the network diverges.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headOf, type NetworkChoice, networkPair, trainForClaim } from '../../../src/lab/claims/experiment-kit.js';
import type { MLP } from '../../../src/nn/mlp.js';
import { resolveTrainConfig } from '../../../src/train/config.js';
import { train } from '../../../src/train/trainer.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { testData } from './claim-test-kit.js';

/** Every parameter and BN estimate of `net` as raw float bits (so NaN, −0 and last-bit differences count). */
function stateBits(net: MLP): Record<string, Uint8Array> {
  const bits: Record<string, Uint8Array> = {};
  const copy = (data: Float32Array | Float64Array): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  for (const { name, value } of net.parameters()) bits[name] = copy(value.data);
  net.norms.forEach((norm, l) => {
    if (!norm) return;
    bits[`bn.${l}.movingMean`] = copy(norm.movingMean.data);
    bits[`bn.${l}.movingVariance`] = copy(norm.movingVariance.data);
  });
  return bits;
}

interface Case {
  name: string;
  network: NetworkChoice;
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Train on the first this many training images only. */
  subset?: number;
  checkpointEvery: number;
}

const cases: Case[] = [
  {
    name: 'relu on the training split',
    network: { hiddenSizes: [32, 16], activation: 'relu', initStd: 0.05 },
    steps: 83,
    batchSize: 17,
    learningRate: 0.05,
    checkpointEvery: 20,
  },
  {
    name: 'sigmoid on a 100-image subset (several epochs)',
    network: { hiddenSizes: [24], activation: 'sigmoid', initStd: 1 },
    steps: 40,
    batchSize: 32,
    learningRate: 0.5,
    subset: 100,
    checkpointEvery: 0,
  },
  {
    name: 'a diverging network',
    network: { hiddenSizes: [16, 16], activation: 'relu', initStd: 10 },
    steps: 30,
    batchSize: 20,
    learningRate: 1e6,
    checkpointEvery: 7,
  },
];

/** 0, every `every` steps, and the last step; only 0 without checkpoints. */
function checkpointSteps(steps: number, every: number): number[] {
  if (!every) return [0];
  const marks: number[] = [];
  for (let step = 0; step <= steps; step += every) marks.push(step);
  if (marks.at(-1) !== steps) marks.push(steps);
  return marks;
}

for (const kernels of await backendsUnderTest()) {
  for (const c of cases) {
    test(`[${kernels.name}: ${kernels.variant}] trainForClaim = train() bit for bit: ${c.name}`, async () => {
      const full = await testData();
      const data = c.subset ? { ...full, train: headOf(full.train, c.subset) } : full;
      const seed = 3;
      const config = resolveTrainConfig({ steps: c.steps, batchSize: c.batchSize, learningRate: c.learningRate, seed, validateEvery: 25, evalBatchSize: 500 });
      const reference = networkPair(kernels, c.network, seed);
      const claim = networkPair(kernels, c.network, seed);
      for (const bn of ['withoutBn', 'withBn'] as const) {
        const expected = await train(reference[bn], data, config);
        const checkpoints: number[] = [];
        const run = await trainForClaim(claim[bn], data, {
          steps: c.steps,
          batchSize: c.batchSize,
          learningRate: c.learningRate,
          seed,
          checkpointEvery: c.checkpointEvery,
          onCheckpoint: (step) => checkpoints.push(step),
        });
        assert.deepEqual(stateBits(claim[bn]), stateBits(reference[bn]), `${bn}: same weights and estimates`);
        assert.equal(run.step, expected.steps);
        assert.equal(run.divergedAtStep, expected.divergedAtStep, `${bn}: diverged at the same step`);
        if (c.learningRate > 1e3 && bn === 'withoutBn') assert.notEqual(run.divergedAtStep, null, 'the diverging case diverges');
        assert.deepEqual(run.curve, [], 'no validation in the claim path');
        assert.deepEqual(checkpoints, checkpointSteps(c.steps, c.checkpointEvery), 'checkpoints at 0, every N steps and at the last step');
      }
    });
  }
}
