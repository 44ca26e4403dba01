/**
 * @file The noisy-bn claim: the noise layer computes y′ = s·y + m per unit and passes s·∂L/∂y′ back;
 * with s = 1 and m = 0 a noisy network trains bit for bit as the plain BN one; Santurkar et al.'s
 * covariate-shift probe leaves weights, BN estimates and the noise sample as it found them; the
 * claim at a test budget is well formed and its figures render.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Matrix } from '../../../src/core/matrix.js';
import { Rng } from '../../../src/core/rng.js';
import { headOf, initialWeightsFor, specFor, trainForClaim } from '../../../src/lab/claims/experiment-kit.js';
import { loadBatch } from '../../../src/lab/claims/landscape-kit.js';
import { measureShift, NOISY_BN_QUICK, type NoisyBnBudget, noisyBnClaim, runNoisyBn } from '../../../src/lab/claims/noisy-bn.js';
import { ActivationNoise } from '../../../src/nn/activation-noise.js';
import { TRAINING_PASS } from '../../../src/nn/layer.js';
import { MLP } from '../../../src/nn/mlp.js';
import { assertFiguresRender, assertWellFormed, testContext } from './claim-test-kit.js';

const NETWORK = { hiddenSizes: [16, 16, 16], activation: 'relu' as const, initStd: 0.05 };

test('ActivationNoise: y′ = s·y + m per unit in training, s̄·y at inference, ∂L/∂y = s·∂L/∂y′; a new sample every training forward', () => {
  const noise = new ActivationNoise(3, new Rng(7), { shiftRange: 1, scaleLow: 0.5, scaleHigh: 1.5 });
  const x = Matrix.from(2, 3, [1, 2, 3, -1, 0, 4]);
  const y = noise.forward(new Matrix(2, 3, x.data.slice()), TRAINING_PASS);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      assert.equal(y.get(i, j), Math.fround(x.get(i, j) * noise.scale[j]! + noise.shift[j]!));
      assert.ok(noise.scale[j]! >= 0.5 && noise.scale[j]! <= 1.5 && Math.abs(noise.shift[j]!) <= 1);
    }
  }
  const dy = noise.backward(x, Matrix.from(2, 3, [1, 1, 1, 2, 2, 2]));
  assert.deepEqual(
    Array.from(dy.data),
    [1, 1, 1, 2, 2, 2].map((g, k) => Math.fround(g * noise.scale[k % 3]!)),
  );
  const first = noise.scale.slice();
  noise.forward(new Matrix(2, 3, x.data.slice()), TRAINING_PASS);
  assert.notDeepEqual(noise.scale, first, 'resampled');
  const inferred = noise.forward(new Matrix(2, 3, x.data.slice()), { mode: 'infer', statistics: { estimator: 'ema', unbiased: true } });
  assert.deepEqual(Array.from(inferred.data), Array.from(x.data), 'the mean of U(0.5, 1.5) is 1: identity at inference');
});

test('a BN network with noise s = 1, m = 0 after every BN layer trains bit for bit as the plain one; the noise layers sit right after the BN layers', async () => {
  const { kernels, data } = await testContext();
  const weights = initialWeightsFor(NETWORK, 3);
  const plain = new MLP(kernels, specFor(NETWORK, true), weights);
  const noisy = new MLP(kernels, specFor(NETWORK, true), weights, {
    afterNorm: (_l, width) => new ActivationNoise(width, new Rng(1), { shiftRange: 0, scaleLow: 1, scaleHigh: 1 }),
  });
  assert.equal(noisy.layers.length, plain.layers.length + 3);
  noisy.layers.forEach((layer, i) => {
    if (layer instanceof ActivationNoise) assert.equal(noisy.layers[i - 1], noisy.normLayers[(i - 2) / 4]);
  });
  for (const net of [plain, noisy]) await trainForClaim(net, data, { steps: 20, batchSize: 30, learningRate: 0.1, seed: 3 });
  assert.deepEqual(
    noisy.checkpointTensors().map((t) => Array.from(t.read())),
    plain.checkpointTensors().map((t) => Array.from(t.read())),
  );
});

test('measureShift puts weights, BN estimates and the noise sample back; cosines in [−1, 1]; no shift below the first layer', async () => {
  const { kernels, data } = await testContext();
  const noises: ActivationNoise[] = [];
  const rng = new Rng(5);
  const net = new MLP(kernels, specFor(NETWORK, true), initialWeightsFor(NETWORK, 1), {
    afterNorm: (_l, width) => {
      const noise = new ActivationNoise(width, rng, NOISY_BN_QUICK.noise);
      noises.push(noise);
      return noise;
    },
  });
  await trainForClaim(net, data, { steps: 10, batchSize: 30, learningRate: 0.1, seed: 1 });
  const before = net.checkpointTensors().map((t) => Array.from(t.read()));
  const samples = noises.map((n) => Array.from(n.scale));
  const probe = headOf(data.train, 50);
  const { x, labels } = loadBatch(net, probe, 0, 50);
  const shift = measureShift(net, noises, x, labels, 0.1);
  assert.deepEqual(
    net.checkpointTensors().map((t) => Array.from(t.read())),
    before,
  );
  assert.deepEqual(
    noises.map((n) => Array.from(n.scale)),
    samples,
  );
  assert.ok(noises.every((n) => n.resampling));
  assert.equal(shift.icsDistance.length, 3);
  for (const c of shift.icsCosine) assert.ok(c >= -1 - 1e-9 && c <= 1 + 1e-9, `cosine ${c}`);
  assert.equal(shift.means.length, 3);
});

test('claim noisy-bn at a test budget: three networks, numbers per network, verdict follows the numbers, figures render', async () => {
  const budget: NoisyBnBudget = { ...NOISY_BN_QUICK, network: NETWORK, steps: 40, checkpointEvery: 10, validationCount: 200, probeCount: 60, seeds: 2 };
  const result = await runNoisyBn(await testContext(), budget);
  assertWellFormed(result, noisyBnClaim.name);
  for (const key of ['none', 'bn', 'noisyBn']) {
    const accuracy = result.numbers[`${key}Accuracy`] as number;
    assert.ok(accuracy >= 0 && accuracy <= 1, `${key} accuracy ${accuracy}`);
    assert.ok((result.numbers[`${key}Drift`] as number) >= 0);
  }
  assert.ok((result.numbers.noisyBnDrift as number) > (result.numbers.bnDrift as number), 'noise moves the layer inputs');
  assert.equal(result.verdict.holds, result.verdict.text.startsWith('holds'));
  await assertFiguresRender(result);
});
