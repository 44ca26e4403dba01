/**
 * @file The article's scale properties of BatchNorm, checked numerically for a ∈ {0.1, 10, 1000}:
 * BN(aWu) = BN(Wu); BN(Wu + b) = BN(Wu); ∂BN(aWu)/∂u = ∂BN(Wu)/∂u; ∂BN/∂(aW) = (1/a)·∂BN/∂W,
 * the last two through a scalar loss L = Σ r⊙BN(·) with fixed random r.
 *
 * They are exact only for eps = 0: with eps, BN(aWu)/BN(Wu) = √((σ²+eps)/(σ²+eps/a²)), off from 1
 * by at most |1 − 1/a²|·eps/(2σ²). With eps = 1e-8 and column variances σ² ≥ 1 (W, u ~ N(0, 1),
 * 10 inputs: σ² ≈ 10), that is ≤ 5e-7 relative at a = 0.1 and far less otherwise, below the
 * float32 rounding of a batch mean and centring (~1e-6 of |x̂| ≤ √(m−1)). The tolerances are that
 * float32 budget plus the eps bound computed from the data; a BN that failed to divide by the
 * batch's own std would be off by a factor a.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { Dense } from '../../src/nn/dense.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { BATCH_NORM_DEFAULTS } from '../../src/nn/spec.js';
import { assertAllClose, maxAbs } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';

const batch = 32,
  inputs = 10,
  features = 6,
  eps = 1e-8;
const scales = [0.1, 10, 1000];

interface Pass {
  y: Float64Array; // [m, n] BN(x·W (+ b))
  du: Float64Array; // [m, k] ∂L/∂u
  dW: Float64Array; // [k, n] ∂L/∂W of the weights actually used
  db: Float64Array | null; // [n] ∂L/∂b
  dLinearScale: number; // max |∂L/∂(Wu + b)|
  minVariance: number;
}

/** BN(u·(scale·W) + bias) with L = Σ r⊙BN(·), forward and backward. */
function run(
  kernels: Kernels,
  u: Matrix,
  weights: Float32Array,
  scale: number,
  bias: Float32Array | null,
  r: Matrix,
  gamma: Float32Array,
  beta: Float32Array,
): Pass {
  const dense = new Dense(kernels, 'dense.0', inputs, features, bias !== null);
  dense.allocate(batch, true);
  for (let i = 0; i < weights.length; i++) dense.weights.data[i] = scale * weights[i]!;
  if (bias) dense.bias!.data.set(bias);
  const norm = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS, eps });
  norm.allocate(batch, true);
  norm.gamma!.data.set(gamma);
  norm.beta!.data.set(beta);
  const linear = dense.forward(u); // [m, n]
  const y = norm.forward(linear, TRAINING_PASS); // [m, n]
  const dLinear = norm.backward(linear, r)!; // [m, n]
  const du = dense.backward(u, dLinear)!; // [m, k]
  const cache = norm.trainingBatch;
  return {
    y: Float64Array.from(y.data),
    du: Float64Array.from(du.data),
    dW: Float64Array.from(dense.weightGrad.data),
    db: dense.biasGrad ? Float64Array.from(dense.biasGrad.data) : null,
    dLinearScale: maxAbs(dLinear.data),
    minVariance: Math.min(...Array.from(cache.variance.data)),
  };
}

for (const kernels of await backendsUnderTest()) {
  describe(`BatchNorm's scale properties [${kernels.name}: ${kernels.variant}]`, () => {
    const rng = new Rng(91);
    const u = kernels.matrix(batch, inputs); // [m, k]
    rng.fillNormal(u.data, 1);
    const weights = new Float32Array(inputs * features); // [k, n]
    rng.fillNormal(weights, 1);
    const r = kernels.matrix(batch, features);
    rng.fillNormal(r.data, 1);
    const gamma = Float32Array.from({ length: features }, () => 0.5 + 1.5 * rng.uniform());
    const beta = Float32Array.from({ length: features }, () => rng.normal());
    const reference = run(kernels, u, weights, 1, null, r, gamma, beta);
    // float32 budget on BN outputs and gradients, relative to their largest element.
    const float32Budget = 1e-5;

    test('the columns have variance ≥ 1, so the eps bound below is small', () => {
      assert.ok(reference.minVariance >= 1, `smallest column variance ${reference.minVariance}`);
    });

    for (const a of scales) {
      const epsBound = (Math.abs(1 - 1 / (a * a)) * eps) / (2 * reference.minVariance);
      const scaled = run(kernels, u, weights, a, null, r, gamma, beta);

      test(`BN(aWu) = BN(Wu) for a = ${a}`, () => {
        assertAllClose(scaled.y, reference.y, { atol: (float32Budget + epsBound) * maxAbs(reference.y) }, 'BN(aWu)');
      });

      test(`∂BN(aWu)/∂u = ∂BN(Wu)/∂u for a = ${a}`, () => {
        assertAllClose(scaled.du, reference.du, { atol: (float32Budget + epsBound) * maxAbs(reference.du) }, '∂L/∂u');
      });

      test(`∂BN/∂(aW) = (1/a)·∂BN/∂W for a = ${a}`, () => {
        const expected = reference.dW.map((g) => g / a);
        assertAllClose(scaled.dW, expected, { atol: (float32Budget + epsBound) * maxAbs(expected) }, '∂L/∂(aW)');
      });
    }

    test('BN(Wu + b) = BN(Wu), and b gets no gradient through BN', () => {
      const bias = Float32Array.from({ length: features }, () => 3 * rng.normal());
      const shifted = run(kernels, u, weights, 1, bias, r, gamma, beta);
      assertAllClose(shifted.y, reference.y, { atol: float32Budget * maxAbs(reference.y) }, 'BN(Wu + b)');
      assertAllClose(shifted.du, reference.du, { atol: float32Budget * maxAbs(reference.du) }, '∂L/∂u with a bias');
      // ∂L/∂b = Σ_rows ∂L/∂(Wu + b) = 0: BN's dx sums to zero over the batch (Σ x̂ = 0).
      assert.ok(maxAbs(shifted.db!) <= float32Budget * shifted.dLinearScale * batch, `∂L/∂b = ${Array.from(shifted.db!)}`);
    });
  });
}
