/**
 * @file Finite-difference gradient check of training-mode BatchNorm, in float64: dx through the
 * batch mean and variance, dgamma and dbeta, with the learnable affine step on and off. A
 * backward that treated μ_B and σ²_B as constants (dx = γ·invStd·dy) fails the dx check by
 * O(1) relative error.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { BATCH_NORM_DEFAULTS, type BatchNormOptions } from '../../src/nn/spec.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const batch = 7,
  features = 5;
// BN is smooth with derivatives of order invStd³ ~ 1 here: h = 1e-5 keeps truncation (h²) and
// rounding (1e-16·|L|/h) both near 1e-10.
const h = 1e-5;

function checkBatchNorm(options: Partial<BatchNormOptions>, seed: number, inputStd: number, inputMean: number): void {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const norm = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS, ...options });
  norm.allocate(batch, true);
  // Non-trivial affine parameters, so a backward that forgot γ in dx would show.
  if (norm.gamma) for (let j = 0; j < features; j++) norm.gamma.data[j] = 0.5 + rng.uniform() * 2;
  if (norm.beta) rng.fillNormal(norm.beta.data, 1);
  const x = kernels.matrix(batch, features); // [m, n]
  for (let i = 0; i < x.size; i++) x.data[i] = inputMean + inputStd * rng.normal();
  const r = kernels.matrix(batch, features); // [m, n]
  rng.fillNormal(r.data, 1);
  const loss = (): number => weightedSum(r.data, norm.forward(x, TRAINING_PASS).data);
  loss();
  const dx = norm.backward(x, r)!;
  assertGradientsMatch('dx', dx.data, numericGradient(x.data, loss, h * inputStd));
  if (norm.gamma) assertGradientsMatch('dgamma', norm.gammaGrad!.data, numericGradient(norm.gamma.data, loss, h));
  else assert.equal(norm.gammaGrad, null);
  if (norm.beta) assertGradientsMatch('dbeta', norm.betaGrad!.data, numericGradient(norm.beta.data, loss, h));
  else assert.equal(norm.betaGrad, null);
}

describe('BatchNorm (training mode) gradients match central differences', () => {
  test('with gamma and beta, eps 1e-3', () => checkBatchNorm({}, 21, 1, 0));
  test('with gamma and beta, inputs of mean 3 and std 0.1 (variance comparable to eps)', () => checkBatchNorm({}, 22, 0.1, 3));
  test('with gamma and beta, eps 1e-8 and inputs of std 20', () => checkBatchNorm({ eps: 1e-8 }, 23, 20, -5));
  test('without gamma (scale off)', () => checkBatchNorm({ scale: false }, 24, 1, 0));
  test('without beta (center off)', () => checkBatchNorm({ center: false }, 25, 1, 0));
  test('without gamma and beta', () => checkBatchNorm({ scale: false, center: false }, 26, 2, 1));
  test('batch of 2, the smallest trainable batch', () => {
    // With m = 2 each column normalizes to ±√(σ²/(σ²+eps)): dx is nearly zero except through eps, a hard case.
    const kernels = new JsKernels('float64');
    const norm = new BatchNorm(kernels, 'bn.0', 1, { ...BATCH_NORM_DEFAULTS, eps: 0.5 });
    norm.allocate(2, true);
    const x = kernels.matrix(2, 1);
    x.data.set([0.3, -0.9]);
    const r = kernels.matrix(2, 1);
    r.data.set([1.7, -0.4]);
    const loss = (): number => weightedSum(r.data, norm.forward(x, TRAINING_PASS).data);
    loss();
    const dx = norm.backward(x, r)!;
    assertGradientsMatch('dx (m = 2)', dx.data, numericGradient(x.data, loss, h));
  });
});
