/**
 * @file Finite-difference gradient checks of Layer Norm, Group Norm and RMSNorm, in float64: dx
 * through each example's mean and variance (mean square for RMS), dγ and dβ, with non-trivial γ
 * and β. A backward that treated the statistics as constants (dx = γ·invStd·dy) fails dx by
 * O(1); one that factored γ out of the bracket as BatchNorm may (γ is constant along BN's
 * normalized axis, not along these) fails it too.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { ExampleNorm } from '../../src/nn/example-norm.js';
import { GroupNorm } from '../../src/nn/group-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { RmsNorm } from '../../src/nn/rms-norm.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const batch = 5,
  features = 12;
// Smooth with derivatives of order invStd³ ~ 1 here: h = 1e-5 keeps truncation and rounding near 1e-10.
const h = 1e-5;

type Make = (kernels: JsKernels, eps: number) => ExampleNorm;

function check(make: Make, seed: number, inputStd: number, inputMean: number, eps = 1e-5): void {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const norm = make(kernels, eps);
  norm.allocate(batch, true);
  for (let j = 0; j < features; j++) norm.gamma!.data[j] = 0.5 + rng.uniform() * 2;
  if (norm.beta) rng.fillNormal(norm.beta.data, 1);
  const x = kernels.matrix(batch, features);
  for (let i = 0; i < x.size; i++) x.data[i] = inputMean + inputStd * rng.normal();
  const r = kernels.matrix(batch, features);
  rng.fillNormal(r.data, 1);
  const loss = (): number => weightedSum(r.data, norm.forward(x, TRAINING_PASS).data);
  loss();
  const dx = norm.backward(x, r)!;
  assertGradientsMatch('dx', dx.data, numericGradient(x.data, loss, h * inputStd));
  assertGradientsMatch('dgamma', norm.gammaGrad!.data, numericGradient(norm.gamma!.data, loss, h));
  if (norm.beta) assertGradientsMatch('dbeta', norm.betaGrad!.data, numericGradient(norm.beta.data, loss, h));
  else assert.equal(norm.betaGrad, null);
}

const NORMS: Array<[string, Make]> = [
  ['Layer Norm', (k, eps) => new LayerNorm(k, 'ln.0', features, eps)],
  ['Group Norm, 2 groups', (k, eps) => new GroupNorm(k, 'gn.0', features, 2, eps)],
  ['Group Norm, 4 groups (of 3 units)', (k, eps) => new GroupNorm(k, 'gn.0', features, 4, eps)],
  ['RMSNorm', (k, eps) => new RmsNorm(k, 'rms.0', features, eps)],
];

for (const [name, make] of NORMS) {
  describe(`${name} gradients match central differences`, () => {
    test('inputs N(0, 1), eps 1e-5', () => check(make, 31, 1, 0));
    test('inputs of mean 3 and std 0.1', () => check(make, 32, 0.1, 3));
    test('inputs of std 20, eps 1e-8', () => check(make, 33, 20, -5, 1e-8));
    test('eps 0.5, comparable to the variance', () => check(make, 34, 0.7, 0, 0.5));
  });
}
