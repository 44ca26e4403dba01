/**
 * @file Ghost BN (Hoffer et al. 2017): each virtual batch normalized by its own statistics (an
 * output row does not move when rows of another virtual batch change), on every backend; its
 * backward against central differences in float64; its moving statistics updated once per
 * virtual batch, in order (as PyTorch-style ghost BN, one BatchNorm applied to each chunk, does);
 * and its limiting case, one virtual batch the size of the batch, which is BN bit for bit.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { GhostBatchNorm } from '../../src/nn/ghost-batch-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { BATCH_NORM_DEFAULTS, makeSpec } from '../../src/nn/spec.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const EPS = 1e-3,
  MOMENTUM = 0.99;
const virtualBatch = 4,
  batch = 12,
  features = 13;

function ghostLayer(kernels: Kernels, size: number, rows: number, seed: number): { norm: GhostBatchNorm; x: Matrix } {
  const rng = new Rng(seed);
  const norm = new GhostBatchNorm(kernels, 'ghost.0', features, { eps: EPS, momentum: MOMENTUM, virtualBatch: size, affine: true });
  norm.allocate(rows, true);
  for (let j = 0; j < features; j++) {
    norm.gamma!.data[j] = 0.5 + rng.uniform() * 2;
    norm.beta!.data[j] = rng.normal();
  }
  const x = kernels.matrix(rows, features);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal() * 2 + (i % 5);
  return { norm, x };
}

describe('Ghost BN: statistics per virtual batch', async () => {
  const backends = await backendsUnderTest();
  for (const kernels of backends) {
    test(`${kernels.variant}: rows of other virtual batches do not change an output row; each virtual batch is BN of its rows`, () => {
      const { norm, x } = ghostLayer(kernels, virtualBatch, batch, 41);
      const before = Array.from(norm.forward(x, TRAINING_PASS).data);
      for (let j = 0; j < features; j++) x.data[2 * virtualBatch * features + j] += 10; // a row of the third virtual batch
      const after = Array.from(norm.forward(x, TRAINING_PASS).data);
      const firstTwo = 2 * virtualBatch * features;
      assert.deepEqual(after.slice(0, firstTwo), before.slice(0, firstTwo), 'the first two virtual batches unchanged to the bit');
      assert.notDeepEqual(after.slice(firstTwo), before.slice(firstTwo), 'the third changed');
      // Each virtual batch alone through BN gives its rows.
      const bn = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS });
      bn.allocate(virtualBatch, true);
      bn.gamma!.data.set(norm.gamma!.data);
      bn.beta!.data.set(norm.beta!.data);
      const rows = kernels.matrix(virtualBatch, features);
      for (let v = 0; v < batch / virtualBatch; v++) {
        const span = virtualBatch * features;
        rows.data.set(x.data.subarray(v * span, (v + 1) * span));
        assert.deepEqual(Array.from(bn.forward(rows, TRAINING_PASS).data), after.slice(v * span, (v + 1) * span), `virtual batch ${v}`);
      }
    });

    test(`${kernels.variant}: the moving statistics take each virtual batch in turn (one update per virtual batch)`, () => {
      const { norm, x } = ghostLayer(kernels, virtualBatch, batch, 42);
      norm.forward(x, TRAINING_PASS);
      const mean = new Float64Array(features),
        variance = new Float64Array(features).fill(1);
      for (let v = 0; v < batch / virtualBatch; v++) {
        for (let j = 0; j < features; j++) {
          let mu = 0,
            sigma2 = 0;
          for (let i = v * virtualBatch; i < (v + 1) * virtualBatch; i++) mu += x.data[i * features + j]!;
          mu /= virtualBatch;
          for (let i = v * virtualBatch; i < (v + 1) * virtualBatch; i++) sigma2 += (x.data[i * features + j]! - mu) ** 2;
          sigma2 /= virtualBatch;
          mean[j] = MOMENTUM * mean[j]! + (1 - MOMENTUM) * mu;
          variance[j] = MOMENTUM * variance[j]! + (1 - MOMENTUM) * sigma2;
        }
      }
      assertAllClose(norm.movingMean.data, mean, { rtol: 1e-5, atol: 1e-6 }, 'moving mean');
      assertAllClose(norm.movingVariance.data, variance, { rtol: 1e-5, atol: 1e-6 }, 'moving variance');
      assert.equal(norm.averagedBatches, batch / virtualBatch);
    });

    test(`${kernels.variant}: a batch the virtual batch does not divide is a one-line error naming --ghost-batch`, () => {
      const { norm } = ghostLayer(kernels, 5, batch, 43);
      assert.throws(
        () => norm.forward(kernels.matrix(batch, features), TRAINING_PASS),
        /^RangeError: --ghost-batch 5 does not divide the training batch of 12 rows/,
      );
    });
  }

  test('float64: dx, dγ and dβ match central differences', () => {
    const kernels = new JsKernels('float64');
    const { norm, x } = ghostLayer(kernels, virtualBatch, batch, 44);
    const r = kernels.matrix(batch, features);
    new Rng(45).fillNormal(r.data as unknown as Float32Array, 1);
    const loss = (): number => weightedSum(r.data, norm.forward(x, TRAINING_PASS).data);
    loss();
    const dx = norm.backward(x, r)!;
    assertGradientsMatch('dx', dx.data, numericGradient(x.data, loss, 1e-5));
    assertGradientsMatch('dgamma', norm.gammaGrad!.data, numericGradient(norm.gamma!.data, loss, 1e-5));
    assertGradientsMatch('dbeta', norm.betaGrad!.data, numericGradient(norm.beta!.data, loss, 1e-5));
  });
});

describe('Ghost BN with one virtual batch the size of the batch is BN bit for bit', async () => {
  const backends = await backendsUnderTest();
  for (const kernels of backends) {
    test(`${kernels.variant}: a network: training steps give BN's weights, γ, β, statistics and losses`, () => {
      const layout = { inputSize: 12, hiddenSizes: [16, 9], outputSize: 4 };
      const bnSpec = makeSpec({ ...layout, norm: 'bn' });
      const ghostSpec = makeSpec({ ...layout, norm: 'ghost', ghost: { virtualBatch: 10 } });
      const weights = drawInitialWeights(bnSpec, 0.3, new Rng(46));
      const bnNet = new MLP(kernels, bnSpec, weights, { maxBatchSize: 10 });
      const ghostNet = new MLP(kernels, ghostSpec, weights, { maxBatchSize: 10 });
      const rng = new Rng(47);
      for (let step = 0; step < 4; step++) {
        const x = new Float32Array(10 * 12);
        rng.fillNormal(x, 1);
        const labels = Array.from({ length: 10 }, (_, i) => (i * 7 + step) % 4);
        const losses = [bnNet, ghostNet].map((net) => {
          const input = net.inputFor(10);
          input.data.set(x);
          return net.trainStep(input, labels, new Sgd(kernels, 0.1));
        });
        assert.equal(losses[1], losses[0], `loss of step ${step}`);
      }
      const values = (net: MLP): number[][] => net.checkpointTensors().map((t) => Array.from(t.read()));
      assert.deepEqual(values(ghostNet), values(bnNet));
      assert.deepEqual(
        ghostNet.checkpointTensors().map((t) => t.name.replace('ghost.', 'bn.')),
        bnNet.checkpointTensors().map((t) => t.name),
      );
    });
  }
});
