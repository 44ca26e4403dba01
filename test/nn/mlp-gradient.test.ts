/**
 * @file Finite-difference gradient check of the whole MLP, in float64: ∂(mean softmax
 * cross-entropy)/∂(every weight, bias, gamma and beta) from `backward` against central
 * differences, with and without BatchNorm, ReLU and sigmoid, at init std 0.05 and 10.
 *
 * The step: h = 1e-3·max(1, rms of the tensor), with one Richardson step (O(h⁴) truncation).
 * Plain O(h²) central differences cannot serve every tensor with one h: the first layer of the
 * std-0.05 sigmoid net has gradients down to ~1e-6 (rounding noise ε·|L|/h needs h ≳ 1e-3), while under
 * BN the loss is scale-invariant in W and curves on the scale of |W| ≈ 0.1 (h² error needs
 * h ≲ 1e-5). Measured worst relative error with this rule: 1.4e-7 over all eight cases.
 *
 * Making the std-10 checks meaningful: without BN the pre-activations grow ~10·√fan-in per layer.
 * With sigmoid that buries units so deep in saturation (σ' ≈ e^−|z|) that the true gradients
 * would fall below the finite differences' rounding floor, and the check would compare noise
 * with noise. So the inputs get std 0.02 (first-layer |z| ≲ 1.5) and the network is narrow
 * (hidden widths 4 and 3): the second layer's |z| then reaches ~20, units are saturated (the test
 * asserts some σ' < 1e-3), yet every tensor's gradient is far above the floor (the check asserts
 * its scale). With ReLU nothing saturates but the logits reach the tens and the loss ~20; only
 * rows the network gets wrong carry gradient, which they do at unit scale. With BN, std 10 is
 * harmless: BN(aWu) = BN(Wu). Each check also asserts that no ±h step moved a ReLU
 * pre-activation across 0, where the loss has a kink.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { ActivationKind } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { softmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { makeSpec } from '../../src/nn/spec.js';
import { assertGradientsMatch, numericGradientRichardson, rootMeanSquare } from '../helpers/gradient-check.js';

const batch = 8,
  inputSize = 6,
  hiddenSizes = [4, 3],
  outputSize = 3;

interface Case {
  activation: ActivationKind;
  batchNorm: boolean;
  initStd: number;
  inputStd: number;
}

/** Every tensor's largest gradient element must reach this: ~1e6 times the rounding floor ε·|L|/h ≲ 5e-12. */
const minScale = 1e-5;

const cases: Case[] = [];
for (const activation of ['relu', 'sigmoid'] as const) {
  for (const batchNorm of [false, true]) {
    cases.push({ activation, batchNorm, initStd: 0.05, inputStd: 1 });
    cases.push({ activation, batchNorm, initStd: 10, inputStd: batchNorm ? 1 : 0.02 });
  }
}

function checkNetwork({ activation, batchNorm, initStd, inputStd }: Case, seed: number): void {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const spec = makeSpec({ inputSize, hiddenSizes, outputSize, activation, batchNorm });
  const model = new MLP(kernels, spec, drawInitialWeights(spec, initStd, rng));
  // Biases, gamma and beta away from their initial 0 and 1, so that every term of backward matters.
  for (const parameter of model.parameters()) {
    if (parameter.name.endsWith('.bias') || parameter.name.endsWith('.beta')) rng.fillNormal(parameter.value.data, 0.5);
    if (parameter.name.endsWith('.gamma')) for (let j = 0; j < parameter.value.size; j++) parameter.value.data[j] = 0.5 + 1.5 * rng.uniform();
  }
  const x = kernels.matrix(batch, inputSize); // [m, inputSize]
  rng.fillNormal(x.data, inputStd);
  const labels = Array.from({ length: batch }, () => rng.int(outputSize));

  // The sign of every pre-activation at the unperturbed point: a ±h step that flips one crossed a ReLU kink.
  const signs = (): string =>
    model
      .hiddenBuffers(batch)
      .map((b) => Array.from(b.preActivation.data, (z) => (z > 0 ? '+' : '-')).join(''))
      .join('|');
  let crossedKink = false;
  let baseSigns = '';
  const loss = (): number => {
    const value = softmaxCrossEntropy(model.forward(x, 'train'), labels, null);
    if (activation === 'relu' && signs() !== baseSigns) crossedKink = true;
    return value;
  };

  model.zeroGrad();
  model.forward(x, 'train');
  baseSigns = signs();
  const { dLogits } = model.lossAndGradient(labels);
  model.backward(x, dLogits);

  if (activation === 'sigmoid' && !batchNorm && initStd === 10) {
    // The saturated regime for real: some unit's σ'(z) = σ(1 − σ) is below 1e-3.
    const smallestSlope = Math.min(...model.hiddenBuffers(batch).flatMap((b) => Array.from(b.activation.data, (a) => a * (1 - a))));
    assert.ok(smallestSlope < 1e-3, `no saturated unit: the smallest sigmoid slope is ${smallestSlope}`);
  }

  for (const { name, value, grad } of model.parameters()) {
    const numeric = numericGradientRichardson(value.data, loss, 1e-3 * Math.max(1, rootMeanSquare(value.data)));
    assert.ok(!crossedKink, `${name}: a finite-difference step crossed a ReLU kink; the check is void for this seed`);
    assertGradientsMatch(name, grad.data, numeric, { minScale });
  }
}

describe('MLP gradients match central differences (float64)', () => {
  cases.forEach((c, index) => {
    test(`${c.activation}, ${c.batchNorm ? 'with' : 'without'} BN, init std ${c.initStd}, input std ${c.inputStd}`, () => checkNetwork(c, 61 + index));
  });
});
