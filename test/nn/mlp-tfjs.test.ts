/**
 * @file One full SGD step of the article's 784-128-128-128-10 network against TensorFlow.js: the
 * same initial weights, a batch of 60 MNIST-like inputs (uniform [0, 1), ~80% zeros, as MNIST's
 * pixels are 81% zeros), lr 0.01. bnlab's `trainStep` (updates) and `computeGradients`
 * (gradients) and a tf-ops model of the same math (BN by `tf.layers.batchNormalization` in
 * training mode) must give the same loss, gradients, updated
 * weights, biases, gamma and beta, and moving statistics, to float32 precision.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivationKind } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { makeSpec } from '../../src/nn/spec.js';
import { assertAllClose, assertCloseToScale, difference, maxAbs } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { tfjsNetworkStep } from '../helpers/tfjs-oracle.js';

const batch = 60,
  learningRate = 0.01;

const cases: Array<{ activation: ActivationKind & ('relu' | 'sigmoid'); batchNorm: boolean; initStd: number; seed: number }> = [
  { activation: 'relu', batchNorm: true, initStd: 0.05, seed: 81 }, // the article's model 1, with BN
  { activation: 'relu', batchNorm: false, initStd: 0.05, seed: 82 }, // and without
  { activation: 'sigmoid', batchNorm: true, initStd: 10, seed: 83 }, // large weights under BN
];

for (const kernels of await backendsUnderTest()) {
  describe(`one SGD step of 784-128-128-128-10 [${kernels.name}: ${kernels.variant}] agrees with TensorFlow.js`, () => {
    for (const { activation, batchNorm, initStd, seed } of cases) {
      test(`${activation}, ${batchNorm ? 'with' : 'without'} BN, init std ${initStd}`, async () => {
        const rng = new Rng(seed);
        const spec = makeSpec({ activation, batchNorm });
        const initialWeights = drawInitialWeights(spec, initStd, rng);
        const model = new MLP(kernels, spec, initialWeights);
        model.sparseInput = true; // as in MNIST training: the first layer may skip zero pixels
        const x = model.inputFor(batch); // [60, 784]
        for (let i = 0; i < x.size; i++) x.data[i] = rng.uniform() < 0.8 ? 0 : rng.uniform();
        const labels = Array.from({ length: batch }, () => rng.int(spec.outputSize));
        const initial = new Map(model.parameters().map((p) => [p.name, Float32Array.from(p.value.data)]));

        // The gradients from computeGradients on a twin (trainStep applies the weights' updates inside
        // their gradient kernels and leaves weightGrad alone); the updates from trainStep itself.
        const twin = new MLP(kernels, spec, initialWeights);
        twin.sparseInput = true;
        const twinX = twin.inputFor(batch);
        twinX.data.set(x.data);
        twin.computeGradients(twinX, labels);
        const gradients = new Map(twin.parameters().map((p) => [p.name, p.grad.data]));
        const loss = model.trainStep(x, labels, new Sgd(kernels, learningRate));

        const oracle = await tfjsNetworkStep({
          weights: initialWeights,
          activation,
          x,
          labels,
          learningRate,
          batchNorm: spec.batchNorm ? { momentum: spec.batchNorm.momentum, epsilon: spec.batchNorm.eps } : null,
        });

        assert.ok(Math.abs(loss - oracle.loss) <= 1e-5 * Math.abs(oracle.loss), `loss ${loss}, TensorFlow.js ${oracle.loss}`);
        assert.deepEqual(
          model
            .parameters()
            .map((p) => p.name)
            .sort(),
          [...oracle.gradients.keys()].sort(),
          'the same parameters',
        );
        for (const { name, value } of model.parameters()) {
          const grad = { data: gradients.get(name)! };
          // Gradients are sums of up to 784·60 float32 products in different orders: judged against
          // each tensor's scale (measured on the js backend: at most 2.3e-6 of it).
          const expectedGrad = oracle.gradients.get(name)!;
          assertCloseToScale(grad.data, expectedGrad, 5e-5, `${name} gradient`);
          // The update Δ = −lr·grad against tf's Δ. Both updated values are rounded to float32, so Δ
          // also carries up to one float32 rounding of the values (2^-24 relative each).
          const before = initial.get(name)!;
          const expectedDelta = difference(oracle.updated.get(name)!, before);
          const valueRounding = 2 ** -23 * maxAbs(before);
          assertAllClose(difference(value.data, before), expectedDelta, { atol: 1e-3 * maxAbs(expectedDelta) + valueRounding }, `${name} update`);
        }
        model.norms.forEach((norm, i) => {
          if (!norm) return;
          assertAllClose(norm.movingMean.data, oracle.movingStatistics.get(`bn.${i}.movingMean`)!, { rtol: 1e-6, atol: 1e-7 }, `bn.${i} moving mean`);
          assertAllClose(
            norm.movingVariance.data,
            oracle.movingStatistics.get(`bn.${i}.movingVariance`)!,
            { rtol: 1e-6, atol: 1e-7 },
            `bn.${i} moving variance`,
          );
        });
      });
    }
  });
}
