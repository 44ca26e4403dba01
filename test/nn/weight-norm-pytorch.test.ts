/**
 * @file Weight Norm against PyTorch: test/fixtures/weight-norm-goldens.json holds float64 outputs
 * and autograd gradients (∇v, ∇g, ∇b, ∇x) of a torch.nn.Linear under torch.nn.utils.weight_norm,
 * plain and with the paper's mean-only batch normalization, and the paper's data-dependent
 * initialization, made by scripts/make-weight-norm-goldens.py with Debian's python3-torch. Every
 * backend must give them: the float64 TypeScript kernels to rounding, float32 (TypeScript and
 * both WebAssembly builds) to float32 precision; the fused SGD step on v (inside backward) must
 * land where v − lr·∇v does. Then the WebAssembly kernels against their TypeScript twins on
 * shapes with SIMD tails.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { WeightNormDense } from '../../src/nn/weight-norm.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';

interface Golden {
  torch: string;
  x: number[][];
  v: number[][];
  g: number[];
  b: number[];
  dy: number[][];
  cases: Array<{ name: string; meanOnly: boolean; y: number[][]; dx: number[][]; dv: number[][]; dg: number[]; db: number[] }>;
  init: { g: number[]; b: number[]; y: number[][] };
}

const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/weight-norm-goldens.json', import.meta.url), 'utf8')) as Golden;
const m = golden.x.length,
  k = golden.v.length,
  n = golden.v[0]!.length;

function layerOf(kernels: Kernels, meanOnly: boolean, init: 'data' | 'none'): WeightNormDense {
  const layer = new WeightNormDense(kernels, 'wn.0', k, n, { init, meanOnly, momentum: 0.99 });
  layer.weights.data.set(golden.v.flat());
  layer.allocate(m, true);
  return layer;
}

function matrixOf(kernels: Kernels, rows: number[][]) {
  const matrix = kernels.matrix(rows.length, rows[0]!.length);
  matrix.data.set(rows.flat());
  return matrix;
}

function check(kernels: Kernels, tolerance: { y: number; grad: number }): void {
  for (const c of golden.cases) {
    const layer = layerOf(kernels, c.meanOnly, 'none');
    assertAllClose(
      layer.g.data,
      Array.from({ length: n }, (_, j) => Math.hypot(...golden.v.map((row) => row[j]!))),
      { rtol: tolerance.y },
      `${c.name}: g starts at ‖v‖`,
    );
    layer.g.data.set(golden.g);
    layer.bias!.data.set(golden.b);
    const x = matrixOf(kernels, golden.x),
      dy = matrixOf(kernels, golden.dy);
    const y = Float64Array.from(layer.forward(x, TRAINING_PASS).data);
    const dx = Float64Array.from(layer.backward(x, dy)!.data);
    assertAllClose(y, c.y.flat(), { rtol: tolerance.y, atol: tolerance.y }, `${c.name}: y`);
    assertAllClose(dx, c.dx.flat(), { rtol: tolerance.grad, atol: tolerance.grad }, `${c.name}: dx`);
    assertAllClose(layer.weightGrad.data, c.dv.flat(), { rtol: tolerance.grad, atol: tolerance.grad }, `${c.name}: dv`);
    assertAllClose(layer.gGrad.data, c.dg, { rtol: tolerance.grad, atol: tolerance.grad }, `${c.name}: dg`);
    assertAllClose(layer.biasGrad!.data, c.db, { rtol: tolerance.grad, atol: tolerance.grad }, `${c.name}: db`);

    // The training step's path: v updated inside backward, ∇v never stored.
    const fused = layerOf(kernels, c.meanOnly, 'none');
    fused.g.data.set(golden.g);
    fused.bias!.data.set(golden.b);
    fused.forward(x, TRAINING_PASS);
    const lr = 0.5;
    fused.backward(x, dy, lr);
    const expected = golden.v.flat().map((value, i) => value - lr * c.dv.flat()[i]!);
    assertAllClose(fused.weights.data, expected, { rtol: tolerance.grad, atol: tolerance.grad }, `${c.name}: v after the fused SGD step`);
    assert.ok(
      fused.weightGrad.data.every((value) => value === 0),
      `${c.name}: the fused step leaves ∇v's buffer alone`,
    );
  }
  // The data-dependent initialization, on the first training forward.
  const layer = layerOf(kernels, false, 'data');
  const y = Float64Array.from(layer.forward(matrixOf(kernels, golden.x), TRAINING_PASS).data);
  assertAllClose(layer.g.data, golden.init.g, { rtol: tolerance.grad }, 'init: g = 1/σ[t]');
  assertAllClose(layer.bias!.data, golden.init.b, { rtol: tolerance.grad, atol: tolerance.grad }, 'init: b = −μ[t]/σ[t]');
  assertAllClose(y, golden.init.y.flat(), { rtol: tolerance.grad, atol: tolerance.grad }, 'init: y');
  assert.equal(layer.initialized, true);
}

describe(`Weight Norm equals PyTorch ${golden.torch}'s torch.nn.utils.weight_norm`, async () => {
  test('float64 TypeScript kernels: to rounding', () => check(new JsKernels('float64'), { y: 1e-12, grad: 1e-11 }));
  for (const kernels of await backendsUnderTest()) {
    // float32: about 6e-8 relative per operation, over sums of 7 (x·v), 9 (column sums) and 7 (‖v‖) terms.
    test(`${kernels.name}: ${kernels.variant}: to float32 precision`, () => check(kernels, { y: 1e-5, grad: 1e-4 }));
  }
});

describe('the WebAssembly Weight Norm kernels equal their TypeScript twins', async () => {
  const reference = new JsKernels();
  const backends = (await backendsUnderTest()).filter((kernels) => kernels.name === 'wasm');
  for (const kernels of backends) {
    test(`${kernels.variant}: weightNormScale, weightNormBackward (with and without the mean), addScaledColumns over shapes with SIMD tails`, () => {
      const rng = new Rng(11);
      for (const [rows, inputs, units] of [
        [5, 33, 13],
        [1, 1, 1],
        [60, 784, 128],
        [7, 3, 4],
        [2, 9, 6],
      ] as const) {
        const random = (backend: Kernels, r: number, c: number, std = 1) => {
          const matrix = backend.matrix(r, c);
          rng.fillNormal(matrix.data, std);
          return matrix;
        };
        const copy = (backend: Kernels, from: { rows: number; cols: number; data: Float32Array | Float64Array }) => {
          const matrix = backend.matrix(from.rows, from.cols);
          matrix.data.set(from.data);
          return matrix;
        };
        const v = random(reference, inputs, units),
          g = random(reference, 1, units),
          dy = random(reference, rows, units),
          t = random(reference, rows, units, 3);
        const mean = random(reference, 1, units),
          coefficient = random(reference, 1, units, 0.1),
          out = random(reference, inputs, units);
        const run = (backend: Kernels) => {
          const norms = backend.matrix(1, units),
            scale = backend.matrix(1, units);
          const V = copy(backend, v),
            G = copy(backend, g);
          backend.weightNormScale(V, G, norms, scale);
          const results: Record<string, Float32Array> = { norms: Float32Array.from(norms.data), scale: Float32Array.from(scale.data) };
          for (const centered of [false, true]) {
            const dt = backend.matrix(rows, units),
              dg = backend.matrix(1, units),
              c = backend.matrix(1, units);
            backend.weightNormBackward(copy(backend, dy), copy(backend, t), centered ? copy(backend, mean) : null, norms, scale, G, dt, dg, c);
            Object.assign(results, {
              [`dt${centered}`]: Float32Array.from(dt.data),
              [`dg${centered}`]: Float32Array.from(dg.data),
              [`c${centered}`]: Float32Array.from(c.data),
            });
          }
          const O = copy(backend, out);
          backend.addScaledColumns(V, copy(backend, coefficient), -0.7, O);
          backend.addScaledColumns(V, copy(backend, coefficient), 0.3, V);
          return { ...results, out: Float32Array.from(O.data), v: Float32Array.from(V.data) };
        };
        const want = run(reference),
          got = run(kernels);
        for (const key of Object.keys(want)) {
          assertAllClose(got[key as keyof typeof got], want[key as keyof typeof want], { rtol: 2e-5, atol: 2e-5 }, `${rows}x${inputs}x${units}: ${key}`);
        }
      }
    });
  }
});
