/**
 * @file Layer Norm and Group Norm against PyTorch: test/fixtures/norm-goldens.json holds float64
 * outputs and autograd gradients of torch.nn.functional.layer_norm and group_norm (2, 4 and 8
 * groups of 24 units), made by scripts/make-norm-goldens.py with Debian's python3-torch. Every
 * backend must give them: the float64 TypeScript kernels to rounding, the float32 ones (and
 * WebAssembly's) to float32 precision. (PyTorch 1.13 has no RMSNorm: its oracle is the float64
 * reference in example-norm-oracle.test.ts.)
 */

import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import type { ExampleNorm } from '../../src/nn/example-norm.js';
import { GroupNorm } from '../../src/nn/group-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';

interface Golden {
  torch: string;
  eps: number;
  x: number[][];
  dy: number[][];
  gamma: number[];
  beta: number[];
  cases: Array<{ name: string; groups: number; y: number[][]; dx: number[][]; dgamma: number[]; dbeta: number[] }>;
}

const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/norm-goldens.json', import.meta.url), 'utf8')) as Golden;
const m = golden.x.length,
  n = golden.x[0]!.length;

function layerOf(kernels: Kernels, name: string, groups: number): ExampleNorm {
  return name === 'layer_norm' ? new LayerNorm(kernels, 'ln.0', n, golden.eps) : new GroupNorm(kernels, 'gn.0', n, groups, golden.eps);
}

function check(kernels: Kernels, tolerance: { y: number; grad: number }): void {
  for (const c of golden.cases) {
    const norm = layerOf(kernels, c.name, c.groups);
    norm.allocate(m, true);
    norm.gamma!.data.set(golden.gamma);
    norm.beta!.data.set(golden.beta);
    const x = kernels.matrix(m, n);
    x.data.set(golden.x.flat());
    const dy = kernels.matrix(m, n);
    dy.data.set(golden.dy.flat());
    const y = Float64Array.from(norm.forward(x, TRAINING_PASS).data);
    const dx = Float64Array.from(norm.backward(x, dy)!.data);
    const what = `${c.name} (${c.groups} group${c.groups === 1 ? '' : 's'})`;
    assertAllClose(y, c.y.flat(), { rtol: tolerance.y, atol: tolerance.y }, `${what}: y`);
    assertAllClose(dx, c.dx.flat(), { rtol: tolerance.grad, atol: tolerance.grad }, `${what}: dx`);
    assertAllClose(norm.gammaGrad!.data, c.dgamma, { rtol: tolerance.grad, atol: tolerance.grad }, `${what}: dgamma`);
    assertAllClose(norm.betaGrad!.data, c.dbeta, { rtol: tolerance.grad, atol: tolerance.grad }, `${what}: dbeta`);
  }
}

describe(`Layer Norm and Group Norm equal PyTorch ${golden.torch}'s`, async () => {
  test('float64 TypeScript kernels: to rounding', () => {
    check(new JsKernels('float64'), { y: 1e-12, grad: 1e-11 });
  });
  for (const kernels of await backendsUnderTest()) {
    // float32: about 6e-8 relative per operation, over sums of 24 (statistics) and 9 (γ, β gradients) terms.
    test(`${kernels.name}: ${kernels.variant}: to float32 precision`, () => check(kernels, { y: 1e-5, grad: 1e-4 }));
  }
});
