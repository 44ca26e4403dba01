/**
 * @file Finite-difference gradient check of every activation, in float64, with backward written
 * through the forward output y as the layer does: dx of L = Σ r⊙f(x). ReLU is checked away from
 * its kink (|x| ≥ 0.05 ≫ h), where it is differentiable; dx may alias dy, as the MLP uses it.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { ActivationKind } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { Activation } from '../../src/nn/activation.js';
import { ACTIVATIONS } from '../../src/nn/spec.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const rows = 6,
  cols = 7;
const h = 1e-6;

function setUp(kind: ActivationKind, seed: number) {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const activation = new Activation(kernels, kind, cols);
  activation.allocate(rows);
  const x = kernels.matrix(rows, cols); // [m, n]
  // Spread over [-4, 4] so sigmoid and tanh are checked in their curved and flat parts; keep
  // every |x| ≥ 0.05 so that no ±h step crosses ReLU's kink.
  for (let i = 0; i < x.size; i++) {
    const magnitude = 0.05 + 3.95 * rng.uniform();
    x.data[i] = rng.uniform() < 0.5 ? -magnitude : magnitude;
  }
  const r = kernels.matrix(rows, cols);
  rng.fillNormal(r.data, 1);
  const loss = (): number => weightedSum(r.data, activation.forward(x).data);
  return { kernels, activation, x, r, loss };
}

describe('activation gradients match central differences', () => {
  ACTIVATIONS.forEach((kind, index) => {
    test(kind, () => {
      const { kernels, activation, x, r, loss } = setUp(kind, 31 + index);
      loss();
      // Backward multiplies dy in place and returns it.
      const dx = kernels.matrix(rows, cols);
      dx.data.set(r.data);
      assert.equal(activation.backward(x, dx), dx);
      assertGradientsMatch(`${kind} dx`, dx.data, numericGradient(x.data, loss, h));
    });
  });

  test('relu passes exactly dy where x > 0 and exactly 0 where x < 0', () => {
    const { kernels, activation, x, r, loss } = setUp('relu', 41);
    loss();
    const dx = kernels.matrix(rows, cols);
    dx.data.set(r.data);
    activation.backward(x, dx);
    for (let i = 0; i < x.size; i++) assert.equal(dx.data[i], x.data[i]! > 0 ? r.data[i] : 0);
  });

  test('sigmoid saturates to exactly 0 and 1 at ∓800 without NaN, and is 1/2 at 0', () => {
    const kernels = new JsKernels('float64');
    const activation = new Activation(kernels, 'sigmoid', 3);
    activation.allocate(1);
    const x = kernels.matrix(1, 3);
    x.data.set([-800, 0, 800]);
    const y = activation.forward(x);
    assert.deepEqual(Array.from(y.data), [0, 0.5, 1]);
  });
});
