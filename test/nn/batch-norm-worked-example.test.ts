/**
 * @file The article's worked example: the row [1.0, 1.5, 1.2, 0.9, 1.7, 2.1, 3.1, 1.7] as one
 * feature over a batch of 8, eps 1e-8, gives μ = 1.65, σ² = 0.44 (biased: Σ(x−μ)² = 3.52 over 8)
 * and the normalized row [-0.98, -0.23, -0.68, -1.13, 0.08, 0.68, 2.19, 0.08] to two decimals.
 * An unbiased variance (3.52/7 = 0.503) would give -0.92 for the first element.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { BATCH_NORM_DEFAULTS } from '../../src/nn/spec.js';
import { backendsUnderTest } from '../helpers/backends.js';

const row = [1.0, 1.5, 1.2, 0.9, 1.7, 2.1, 3.1, 1.7];
const normalized = [-0.98, -0.23, -0.68, -1.13, 0.08, 0.68, 2.19, 0.08];

for (const kernels of await backendsUnderTest()) {
  describe(`the article's worked example [${kernels.name}: ${kernels.variant}]`, () => {
    test('mean 1.65, variance 0.44 and the normalized row to two decimals', () => {
      const norm = new BatchNorm(kernels, 'bn.0', 1, { ...BATCH_NORM_DEFAULTS, eps: 1e-8 });
      norm.allocate(8, false);
      const x = kernels.matrix(8, 1); // [8 examples, 1 feature]
      x.data.set(row);
      const y = norm.forward(x, TRAINING_PASS);
      const cache = { ...norm.trainingBatch, xhat: norm.buffersFor(8).xhat };
      // float32: the inputs themselves are rounded to ~6e-8, so 1e-6 is the honest closeness.
      assert.ok(Math.abs(cache.mean.data[0]! - 1.65) < 1e-6, `mean ${cache.mean.data[0]}`);
      assert.ok(Math.abs(cache.variance.data[0]! - 0.44) < 1e-6, `variance ${cache.variance.data[0]}`);
      assert.deepEqual(
        Array.from(y.data, (v) => Math.round(v * 100) / 100),
        normalized,
      );
      assert.deepEqual(
        Array.from(cache.xhat.data, (v) => Math.round(v * 100) / 100),
        normalized,
      );
    });
  });
}
