/**
 * @file Weight Norm networks: whole-network gradients against central differences in float64
 * (every v, g and bias; plain and mean-only, ReLU and tanh), the data-dependent initialization
 * (each hidden unit's pre-activation has mean 0 and variance 1 on the first batch, layer after
 * layer, a derivation of the paper's §3), `--wn-init none` starting as the network without a norm
 * from the same weights (the same logits to the bit on every backend), the training step's fused
 * update equal to computeGradients then SGD, and checkpoints (format 3, wn.{i}.* tensors) that
 * restore the same logits without initializing again.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { ActivationKind, Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { softmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { makeSpec } from '../../src/nn/spec.js';
import type { WeightNormDense } from '../../src/nn/weight-norm.js';
import { decodeCheckpoint, encodeCheckpoint, METADATA_FORMAT } from '../../src/train/checkpoint.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { assertGradientsMatch, numericGradientRichardson, rootMeanSquare } from '../helpers/gradient-check.js';

const batch = 8,
  inputSize = 6,
  hiddenSizes = [5, 4],
  outputSize = 3;

function network(kernels: Kernels, options: { meanOnly: boolean; init: 'data' | 'none'; activation?: ActivationKind }, seed: number) {
  const rng = new Rng(seed);
  const spec = makeSpec({
    inputSize,
    hiddenSizes,
    outputSize,
    activation: options.activation ?? 'relu',
    norm: 'wn',
    weightNorm: { init: options.init, meanOnly: options.meanOnly },
  });
  const model = new MLP(kernels, spec, drawInitialWeights(spec, 0.5, rng));
  const x = kernels.matrix(batch, inputSize);
  rng.fillNormal(x.data, 1);
  const labels = Array.from({ length: batch }, () => rng.int(outputSize));
  return { model, x, labels, rng };
}

describe('Weight Norm networks: gradients match central differences (float64)', () => {
  for (const meanOnly of [false, true]) {
    for (const activation of ['tanh', 'relu'] as const) {
      test(`${meanOnly ? 'mean-only BN' : 'plain'}, ${activation}`, () => {
        const kernels = new JsKernels('float64');
        const { model, x, labels, rng } = network(kernels, { meanOnly, init: 'none', activation }, meanOnly ? 41 : 43);
        for (const { name, value } of model.parameters()) {
          if (name.endsWith('.bias')) rng.fillNormal(value.data, 0.3);
          if (name.endsWith('.g')) for (let j = 0; j < value.size; j++) value.data[j] = 0.5 + rng.uniform();
        }
        const signs = (): string =>
          model
            .hiddenBuffers(batch)
            .map((b) => Array.from(b.preActivation.data, (z) => (z > 0 ? '+' : '-')).join(''))
            .join('|');
        let crossedKink = false;
        model.zeroGrad();
        model.forward(x, 'train');
        const baseSigns = signs();
        model.backward(x, model.lossAndGradient(labels).dLogits);
        const loss = (): number => {
          const value = softmaxCrossEntropy(model.forward(x, 'train'), labels, null);
          if (activation === 'relu' && signs() !== baseSigns) crossedKink = true;
          return value;
        };
        const names = model.parameters().map((p) => p.name);
        assert.deepEqual(names, ['wn.0.v', 'wn.0.g', 'wn.0.bias', 'wn.1.v', 'wn.1.g', 'wn.1.bias', 'dense.2.weight', 'dense.2.bias']);
        for (const { name, value, grad } of model.parameters()) {
          const numeric = numericGradientRichardson(value.data, loss, 1e-4 * Math.max(1, rootMeanSquare(value.data)));
          assert.ok(!crossedKink, `${name}: a finite-difference step crossed a ReLU kink`);
          if (meanOnly && name.endsWith('.bias') && name.startsWith('wn.')) {
            // Under mean-only BN a hidden bias still shifts the output (it is added after the mean is removed).
            assert.ok(Math.max(...Array.from(grad.data, Math.abs)) > 1e-4);
          }
          assertGradientsMatch(name, grad.data, numeric, { minScale: 1e-5 });
        }
      });
    }
  }
});

describe('Weight Norm initialization', () => {
  test("data: on the first batch every hidden unit's pre-activation has mean 0 and variance 1 (biased), layer after layer; then it never runs again", () => {
    for (const meanOnly of [false, true]) {
      const kernels = new JsKernels('float64');
      const { model, x } = network(kernels, { meanOnly, init: 'data' }, 5);
      model.forward(x, 'train');
      for (const [l, { linear }] of model.hiddenBuffers(batch).entries()) {
        for (let j = 0; j < linear.cols; j++) {
          const column = Array.from({ length: batch }, (_, i) => linear.data[i * linear.cols + j]!);
          const mean = column.reduce((s, v) => s + v, 0) / batch;
          const variance = column.reduce((s, v) => s + (v - mean) ** 2, 0) / batch;
          assert.ok(
            Math.abs(mean) < 1e-12 && Math.abs(variance - 1) < 1e-12,
            `${meanOnly ? 'mean-only' : 'plain'} layer ${l} unit ${j}: mean ${mean}, variance ${variance}`,
          );
        }
      }
      const layer = model.dense[0] as WeightNormDense;
      const g = Float64Array.from(layer.g.data);
      model.forward(x, 'train');
      assert.deepEqual(Float64Array.from(layer.g.data), g, 'a second forward does not initialize again');
    }
  });

  test('none: the network starts as the one without a norm from the same weights, the same logits to the bit (every backend)', async () => {
    for (const kernels of [new JsKernels('float64'), ...(await backendsUnderTest())]) {
      const rng = new Rng(9);
      const wn = makeSpec({ inputSize: 30, hiddenSizes: [16, 13], outputSize: 10, norm: 'wn', weightNorm: { init: 'none' } });
      const none = makeSpec({ inputSize: 30, hiddenSizes: [16, 13], outputSize: 10, norm: 'none' });
      const weights = drawInitialWeights(none, 0.05, rng);
      const x = kernels.matrix(12, 30);
      rng.fillNormal(x.data, 1);
      const a = Float64Array.from(new MLP(kernels, wn, weights).forward(x, 'train').data);
      const b = Float64Array.from(new MLP(kernels, none, weights).forward(x, 'train').data);
      assert.deepEqual(a, b, `${kernels.name} ${kernels.variant}`);
    }
  });
});

describe('Weight Norm training steps and checkpoints', () => {
  test('trainStep (v updated inside backward) equals computeGradients then SGD of every parameter, to float32 precision (every backend)', async () => {
    for (const kernels of await backendsUnderTest()) {
      for (const meanOnly of [false, true]) {
        const fused = network(kernels, { meanOnly, init: 'data' }, 21),
          plain = network(kernels, { meanOnly, init: 'data' }, 21);
        const optimizer = new Sgd(kernels, 0.1);
        fused.model.trainStep(fused.x, fused.labels, optimizer);
        plain.model.computeGradients(plain.x, plain.labels);
        for (const parameter of plain.model.parameters()) kernels.sgdStep(parameter.value, parameter.grad, 0.1);
        fused.model.parameters().forEach((parameter, i) => {
          assertAllClose(
            parameter.value.data,
            plain.model.parameters()[i]!.value.data,
            { rtol: 1e-5, atol: 1e-6 },
            `${kernels.variant} ${meanOnly ? 'mean-only' : 'plain'}: ${parameter.name}`,
          );
        });
      }
    }
  });

  test('a checkpoint (format 3: wn.{i}.v, g, bias, moving_mean) restores the same logits, as initialized', () => {
    const kernels = new JsKernels();
    const { model, x, labels } = network(kernels, { meanOnly: true, init: 'data' }, 3);
    const optimizer = new Sgd(kernels, 0.1);
    for (let step = 0; step < 5; step++) model.trainStep(x, labels, optimizer);
    const bytes = encodeCheckpoint(model);
    const names = model.checkpointTensors().map((tensor) => tensor.name);
    assert.deepEqual(names, [
      'wn.0.v',
      'wn.0.g',
      'wn.0.bias',
      'wn.0.moving_mean',
      'wn.1.v',
      'wn.1.g',
      'wn.1.bias',
      'wn.1.moving_mean',
      'dense.2.weight',
      'dense.2.bias',
    ]);
    const { net, metadata } = decodeCheckpoint(bytes, kernels);
    assert.equal(metadata[METADATA_FORMAT], '3');
    assert.deepEqual(net.spec, model.spec);
    assert.deepEqual(Float64Array.from(net.forward(x, 'infer').data), Float64Array.from(model.forward(x, 'infer').data));
    assert.ok(
      net.dense.slice(0, 2).every((layer) => (layer as WeightNormDense).initialized),
      'restored layers do not initialize again',
    );
  });
});
