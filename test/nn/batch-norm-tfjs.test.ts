/**
 * @file BatchNorm against TensorFlow.js: `tf.layers.batchNormalization` (momentum 0.99, epsilon
 * 1e-3, cpu backend) called with `training: true` on the same random inputs, gamma and beta. The
 * training-mode output, the gradients wrt x, gamma and beta (from tf's autodiff through
 * `tf.moments`) and the moving mean and variance after one call must agree to float32 precision.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { BATCH_NORM_DEFAULTS } from '../../src/nn/spec.js';
import { assertAllClose, assertCloseToScale, maxAbs } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { tfjsBatchNormTraining } from '../helpers/tfjs-oracle.js';

const cases = [
  { name: 'batch 60 x 12 features, mixed column scales', batch: 60, features: 12, seed: 71 },
  // With m = 2, x̂ = ±√(σ²/(σ²+eps)) and dx vanishes as eps/σ² → 0; spreads of ~0.03 (σ² ~ eps)
  // keep dx at the size of its terms, so the comparison is not one of rounding noise.
  { name: 'batch 2 x 5 features, the smallest trainable batch', batch: 2, features: 5, seed: 72, columnStd: 0.03 },
  { name: 'batch 7 x 3 features, a column with variance near eps', batch: 7, features: 3, seed: 73, tinyColumn: true },
];

for (const kernels of await backendsUnderTest()) {
  describe(`BatchNorm [${kernels.name}: ${kernels.variant}] agrees with tf.layers.batchNormalization in training mode`, () => {
    for (const { name, batch, features, seed, tinyColumn, columnStd } of cases) {
      test(name, async () => {
        const rng = new Rng(seed);
        const options = { ...BATCH_NORM_DEFAULTS }; // momentum 0.99, eps 1e-3: tf's defaults
        const norm = new BatchNorm(kernels, 'bn.0', features, options);
        norm.allocate(batch, true);
        const x = kernels.matrix(batch, features); // [m, n]
        for (let j = 0; j < features; j++) {
          // Columns with their own offset and spread, like pre-activations of different units.
          const mean = 4 * rng.normal(),
            std = columnStd ?? (tinyColumn && j === 0 ? 0.02 : 0.2 + 3 * rng.uniform());
          for (let i = 0; i < batch; i++) x.data[i * features + j] = mean + std * rng.normal();
        }
        for (let j = 0; j < features; j++) {
          norm.gamma!.data[j] = 0.5 + 1.5 * rng.uniform();
          norm.beta!.data[j] = rng.normal();
        }
        const upstream = kernels.matrix(batch, features); // [m, n] ∂L/∂y
        rng.fillNormal(upstream.data, 1);

        const y = norm.forward(x, TRAINING_PASS);
        const dx = norm.backward(x, upstream)!;
        const cache = norm.trainingBatch;

        const oracle = await tfjsBatchNormTraining({
          x,
          gamma: norm.gamma!.data,
          beta: norm.beta!.data,
          upstream,
          momentum: options.momentum,
          epsilon: options.eps,
        });
        // Float32 tolerances: y and the moving statistics are a few roundings deep (relative error
        // ~1e-6 of their scale). dx = γ·invStd/m·(m·dy − Σdy − x̂·Σdy·x̂) is a difference of terms of
        // size γ·invStd·|dy|; its rounding error follows that term scale, not dx's own size.
        assertCloseToScale(y.data, oracle.y, 1e-5, 'y');
        let termScale = 0;
        for (let j = 0; j < features; j++) termScale = Math.max(termScale, Math.abs(norm.gamma!.data[j]!) * cache.invStd.data[j]!);
        termScale *= maxAbs(upstream.data);
        assert.ok(maxAbs(oracle.dx) > 1e-2 * termScale, `dx is only ${maxAbs(oracle.dx)} against terms of ${termScale}: the comparison would test rounding`);
        assertAllClose(dx.data, oracle.dx, { atol: 1e-5 * termScale }, 'dx');
        assertCloseToScale(norm.gammaGrad!.data, oracle.dGamma, 1e-5, 'dgamma');
        assertCloseToScale(norm.betaGrad!.data, oracle.dBeta, 1e-5, 'dbeta');
        assertAllClose(norm.movingMean.data, oracle.movingMean, { rtol: 1e-5, atol: 1e-6 }, 'moving mean');
        assertAllClose(norm.movingVariance.data, oracle.movingVariance, { rtol: 1e-5, atol: 1e-6 }, 'moving variance');
      });
    }
  });
}
