/**
 * @file Finite-difference gradient check of Dense, in float64: dW, db and dx of L = Σ r⊙(x·W + b),
 * with and without bias, plus the accumulation contract (backward adds into dW and db).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import { Dense } from '../../src/nn/dense.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const batch = 6,
  inputs = 5,
  outputs = 4;
// The loss is linear in each W, b and x entry: central differences are exact up to rounding.
const h = 1e-5;

function setUp(useBias: boolean, seed: number) {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const dense = new Dense(kernels, 'dense.0', inputs, outputs, useBias);
  dense.allocate(batch, true);
  rng.fillNormal(dense.weights.data, 1);
  if (dense.bias) rng.fillNormal(dense.bias.data, 1);
  const x = kernels.matrix(batch, inputs); // [m, in]
  rng.fillNormal(x.data, 1);
  const r = kernels.matrix(batch, outputs); // [m, out] fixed weights of the loss
  rng.fillNormal(r.data, 1);
  const loss = (): number => weightedSum(r.data, dense.forward(x).data); // y [m, out]
  return { dense, x, r, loss };
}

for (const useBias of [true, false]) {
  describe(`Dense ${useBias ? 'with' : 'without'} bias: gradients match central differences`, () => {
    test('dW, db and dx', () => {
      const { dense, x, r, loss } = setUp(useBias, useBias ? 11 : 12);
      loss();
      const dx = dense.backward(x, r)!; // ∂L/∂y = r
      assertGradientsMatch('dW', dense.weightGrad.data, numericGradient(dense.weights.data, loss, h));
      assertGradientsMatch('dx', dx.data, numericGradient(x.data, loss, h));
      if (useBias) assertGradientsMatch('db', dense.biasGrad!.data, numericGradient(dense.bias!.data, loss, h));
      else assert.equal(dense.bias, null);
    });

    test('backward accumulates into dW and db instead of overwriting', () => {
      const { dense, x, r, loss } = setUp(useBias, 13);
      loss();
      dense.backward(x, r);
      const once = Float64Array.from(dense.weightGrad.data);
      const onceBias = dense.biasGrad ? Float64Array.from(dense.biasGrad.data) : null;
      dense.backward(x, r);
      // Twice the gradient, up to the rounding of adding term by term onto a non-zero start.
      assertAllClose(
        dense.weightGrad.data,
        once.map((g) => 2 * g),
        { rtol: 1e-14, atol: 1e-14 },
        'dW after two backward calls',
      );
      if (onceBias)
        assertAllClose(
          dense.biasGrad!.data,
          onceBias.map((g) => 2 * g),
          { rtol: 1e-14, atol: 1e-14 },
          'db after two backward calls',
        );
    });
  });
}
