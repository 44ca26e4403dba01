/**
 * @file Norm placement (`post`: norm(act(x·W + b))) and norm layers without γ/β (`affine: false`):
 * whole-network gradients against central differences in float64 (as mlp-gradient.test.ts, whose
 * step rule and thresholds these reuse), the layer order a post network runs (its logits equal
 * the layers composed by hand), which parameters exist, and that the default spec is the pre
 * network of before (a spec without `placement` builds the same layers).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { ActivationKind } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { softmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { makeSpec, type NormKind, type NormPlacement } from '../../src/nn/spec.js';
import { assertGradientsMatch, numericGradientRichardson, rootMeanSquare } from '../helpers/gradient-check.js';

const batch = 8,
  inputSize = 6,
  hiddenSizes = [8, 8],
  outputSize = 3;

/**
 * The finite-difference step, relative to a tensor's rms: smaller than mlp-gradient's 1e-3 because
 * per-example norms over a handful of units (Group Norm's groups of 4, RMSNorm of 8 ReLU outputs)
 * curve on a shorter scale than BN over a batch; Richardson's O(h⁴) keeps rounding noise far below 1e-6.
 */
const STEP = 1e-4;

interface Case {
  norm: NormKind;
  placement: NormPlacement;
  affine: boolean;
  activation: ActivationKind;
}

function specOf({ norm, placement, affine, activation }: Case) {
  return makeSpec({
    inputSize,
    hiddenSizes,
    outputSize,
    activation,
    norm,
    placement,
    batchNorm: norm === 'bn' ? { scale: affine, center: affine } : undefined,
    exampleNorm: { affine, groups: norm === 'gn' ? 2 : 1 },
    renorm: { affine, rmax: 2, dmax: 0.5 },
    ghost: { affine, virtualBatch: 4 },
  });
}

function checkNetwork(c: Case, seed: number): void {
  const kernels = new JsKernels('float64');
  const rng = new Rng(seed);
  const spec = specOf(c);
  const model = new MLP(kernels, spec, drawInitialWeights(spec, 0.5, rng));
  for (const parameter of model.parameters()) {
    if (parameter.name.endsWith('.bias') || parameter.name.endsWith('.beta')) rng.fillNormal(parameter.value.data, 0.5);
    if (parameter.name.endsWith('.gamma')) for (let j = 0; j < parameter.value.size; j++) parameter.value.data[j] = 0.5 + 1.5 * rng.uniform();
  }
  const x = kernels.matrix(batch, inputSize);
  rng.fillNormal(x.data, 1);
  const labels = Array.from({ length: batch }, () => rng.int(outputSize));
  const signs = (): string =>
    model
      .hiddenBuffers(batch)
      .map((b) => Array.from(b.preActivation.data, (z) => (z > 0 ? '+' : '-')).join(''))
      .join('|');
  let crossedKink = false,
    baseSigns = '';
  const loss = (): number => {
    const value = softmaxCrossEntropy(model.forward(x, 'train'), labels, null);
    if (c.activation === 'relu' && signs() !== baseSigns) crossedKink = true;
    return value;
  };
  model.zeroGrad();
  model.forward(x, 'train');
  baseSigns = signs();
  const { dLogits } = model.lossAndGradient(labels);
  model.backward(x, dLogits);
  for (const { name, value, grad } of model.parameters()) {
    const numeric = numericGradientRichardson(value.data, loss, STEP * Math.max(1, rootMeanSquare(value.data)));
    assert.ok(!crossedKink, `${name}: a finite-difference step crossed a ReLU kink; the check is void for this seed`);
    assertGradientsMatch(name, grad.data, numeric, { minScale: 1e-5 });
  }
}

// Not Batch Renormalization: its r and d are constants of the batch by definition (no gradient)
// and come from moving statistics that every forward moves, so each loss evaluation sees others.
const cases: Case[] = [];
for (const norm of ['bn', 'ghost', 'ln', 'gn', 'rms'] as const) {
  for (const activation of ['sigmoid', 'tanh', 'relu'] as const) cases.push({ norm, placement: 'post', affine: true, activation });
  cases.push({ norm, placement: 'pre', affine: false, activation: 'tanh' });
  cases.push({ norm, placement: 'post', affine: false, activation: 'sigmoid' });
}

describe('networks with the norm after the activation, or without γ/β: gradients match central differences (float64)', () => {
  cases.forEach((c, index) => {
    test(`${c.norm} ${c.placement}${c.affine ? '' : ' without γ/β'}, ${c.activation}`, () => checkNetwork(c, 301 + index));
  });
});

describe('the layers a placement builds', () => {
  test('post: the logits are dense → act → BN → … composed by hand, with the hidden bias kept', () => {
    const kernels = new JsKernels('float64');
    const rng = new Rng(7);
    const spec = specOf({ norm: 'bn', placement: 'post', affine: true, activation: 'tanh' });
    assert.equal(spec.hiddenBias, true, 'BN after the activation keeps the bias: BN no longer follows the linear layer');
    assert.equal(makeSpec({ norm: 'bn' }).hiddenBias, false, 'BN before the activation drops it, as the article');
    const model = new MLP(kernels, spec, drawInitialWeights(spec, 0.5, rng));
    for (const { name, value } of model.parameters()) if (name.endsWith('.bias')) rng.fillNormal(value.data, 0.5);
    const x = kernels.matrix(batch, inputSize);
    rng.fillNormal(x.data, 1);
    const logits = Float64Array.from(model.forward(x, 'train').data);

    // By hand, in float64: h ← BN(tanh(h·W + b)) per hidden layer (batch mean, biased variance, eps 1e-3, γ 1, β 0).
    let h = Array.from({ length: batch }, (_, i) => Array.from(x.data.subarray(i * inputSize, (i + 1) * inputSize)));
    model.dense.forEach((dense, l) => {
      const W = dense.weights,
        b = dense.bias!.data;
      const z = h.map((row) => Array.from({ length: W.cols }, (_, j) => row.reduce((sum, v, k) => sum + v * W.data[k * W.cols + j]!, 0) + b[j]!));
      if (l === model.dense.length - 1) {
        h = z;
        return;
      }
      const a = z.map((row) => row.map(Math.tanh));
      h = a.map((row) =>
        row.map((v, j) => {
          const column = a.map((r) => r[j]!);
          const mean = column.reduce((s, u) => s + u, 0) / batch;
          const variance = column.reduce((s, u) => s + (u - mean) ** 2, 0) / batch;
          return (v - mean) / Math.sqrt(variance + 1e-3);
        }),
      );
    });
    h.flat().forEach((value, i) => {
      assert.ok(Math.abs(value - logits[i]!) < 1e-12, `logit ${i}: ${logits[i]} by the network, ${value} by hand`);
    });
  });

  test('without γ/β a norm has no parameters and no γ/β tensors; with them, it has', () => {
    const kernels = new JsKernels();
    for (const norm of ['bn', 'brn', 'ghost', 'ln', 'gn', 'rms'] as const) {
      for (const affine of [true, false]) {
        const spec = specOf({ norm, placement: 'pre', affine, activation: 'relu' });
        const model = new MLP(kernels, spec, drawInitialWeights(spec, 0.1, new Rng(1)));
        const names = model.checkpointTensors().map((tensor) => tensor.name);
        const gammas = names.filter((name) => name.endsWith('.gamma') || name.endsWith('.beta'));
        const expected = affine ? hiddenSizes.length * (norm === 'rms' ? 1 : 2) : 0;
        assert.equal(gammas.length, expected, `${norm}${affine ? '' : ' without γ/β'}: ${gammas.join(', ')}`);
        assert.equal(model.parameters().filter((p) => p.name.endsWith('.gamma') || p.name.endsWith('.beta')).length, expected);
      }
    }
  });

  test('the placement a spec gets by default is pre, and post is refused where there is no norm layer to place', () => {
    assert.equal(makeSpec({ norm: 'bn' }).placement, 'pre');
    assert.throws(() => makeSpec({ norm: 'none', placement: 'post' }), /needs a norm layer to place after the activation; this network has no norm/);
    assert.throws(() => makeSpec({ norm: 'wn', placement: 'post' }), /Weight Norm reparametrizes the linear layer's weights/);
  });
});
