/**
 * @file The SGD update fused into the weight-gradient kernel (W += −lr·xᵀ·dY) gives bit for bit
 * what a gradient buffer followed by sgdStep gives, on every backend: for the kernel alone (dense
 * and sparse left factor, shapes with ragged edges) and for whole training steps of the
 * article's network, whose trainStep uses the fused path.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { makeSpec } from '../../src/nn/spec.js';
import { backendsUnderTest } from '../helpers/backends.js';

/** A matrix in the backend's memory filled with N(0, 1) values, `zeroFraction` of them zero. */
function randomMatrix(kernels: Kernels, rows: number, cols: number, rng: Rng, zeroFraction = 0) {
  const matrix = kernels.matrix(rows, cols);
  for (let i = 0; i < matrix.size; i++) matrix.data[i] = rng.uniform() < zeroFraction ? 0 : rng.normal();
  return matrix;
}

/** One SGD step the unfused way: every gradient into its buffer, then the optimizer over all parameters. */
function unfusedStep(net: MLP, x: ReturnType<MLP['inputFor']>, labels: number[], optimizer: Sgd): number {
  const { loss } = net.computeGradients(x, labels);
  optimizer.step(net.parameters());
  return loss;
}

for (const kernels of await backendsUnderTest()) {
  describe(`SGD fused into the weight gradient [${kernels.name}: ${kernels.variant}]`, () => {
    for (const [m, k, n, sparse] of [
      [60, 128, 128, false],
      [7, 13, 10, false],
      [60, 784, 128, true],
      [5, 21, 30, true],
    ] as const) {
      test(`W += −lr·aᵀ·b equals g = aᵀ·b then W −= lr·g, bit for bit: ${m}x${k}x${n}${sparse ? ' sparse' : ''}`, () => {
        const rng = new Rng(m * 1000 + k + n);
        const a = randomMatrix(kernels, m, k, rng, sparse ? 0.8 : 0),
          b = randomMatrix(kernels, m, n, rng);
        const fused = randomMatrix(kernels, k, n, rng),
          unfused = kernels.matrix(k, n),
          gradient = kernels.matrix(k, n);
        unfused.data.set(fused.data);
        const learningRate = 0.37;
        kernels.matmulTransposeAAdd(a, b, fused, sparse, -learningRate);
        kernels.matmulTransposeAAdd(a, b, gradient, sparse);
        kernels.sgdStep(unfused, gradient, learningRate);
        assert.deepEqual(Array.from(fused.data), Array.from(unfused.data));
      });
    }

    for (const batchNorm of [false, true]) {
      test(`trainStep (fused) equals backward + Sgd.step (unfused) bit for bit over 4 steps, ${batchNorm ? 'with' : 'without'} BN`, () => {
        const spec = makeSpec({ activation: 'relu', batchNorm });
        const weights = drawInitialWeights(spec, 0.05, new Rng(7));
        const fused = new MLP(kernels, spec, weights),
          unfused = new MLP(kernels, spec, weights);
        const rng = new Rng(8);
        for (let step = 0; step < 4; step++) {
          const pixels = Array.from({ length: 60 * 784 }, () => (rng.uniform() < 0.8 ? 0 : rng.uniform()));
          const labels = Array.from({ length: 60 }, () => rng.int(10));
          const losses = [fused, unfused].map((net) => {
            net.sparseInput = true;
            const x = net.inputFor(60);
            x.data.set(pixels);
            return net === fused ? net.trainStep(x, labels, new Sgd(kernels, 0.01)) : unfusedStep(net, x, labels, new Sgd(kernels, 0.01));
          });
          assert.equal(losses[0], losses[1], `step ${step}: the losses differ`);
        }
        const after = unfused.parameters();
        for (const [i, parameter] of fused.parameters().entries()) {
          assert.deepEqual(Array.from(parameter.value.data), Array.from(after[i]!.value.data), `${parameter.name} differs`);
        }
      });
    }
  });
}
