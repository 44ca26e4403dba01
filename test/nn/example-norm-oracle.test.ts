/**
 * @file Layer Norm, Group Norm and RMSNorm on every backend against a float64 reference written
 * here from the papers' equations with plain loops (PyTorch is not installed, so no golden files
 * from it): Ba et al. 2016 eq. (4), Wu & He 2018 eqs. (1)-(3) and (6), Zhang & Sennrich 2019
 * eq. (4). The gradient oracle is central differences of that reference, so nothing here shares
 * code with the kernels. Then their limiting cases: GN with one group is LN bit for bit; GN with
 * a group per unit normalizes each unit alone (x − μ = 0: the output is β); LN's x̂ has zero mean
 * and unit variance per example, RMSNorm's x̂ a root mean square of 1.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { ExampleNorm } from '../../src/nn/example-norm.js';
import { GroupNorm } from '../../src/nn/group-norm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { RmsNorm } from '../../src/nn/rms-norm.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { numericGradient } from '../helpers/gradient-check.js';

const EPS = 1e-5;
const batch = 9,
  features = 24; // 24 = 6 vectors of 4 and 3 groups of 8 (and odd-sized tails when not)

/**
 * The papers' forward in float64: per example i and group of s units, μ = Σx/s (0 for RMSNorm),
 * σ² = Σ(x − μ)²/s, y = γ·(x − μ)/√(σ² + eps) + β.
 */
function reference(
  x: ArrayLike<number>,
  m: number,
  n: number,
  groups: number,
  centered: boolean,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number> | null,
): Float64Array {
  const y = new Float64Array(m * n),
    s = n / groups;
  for (let i = 0; i < m; i++) {
    for (let g = 0; g < groups; g++) {
      let mu = 0;
      if (centered) {
        for (let k = 0; k < s; k++) mu += x[i * n + g * s + k]!;
        mu /= s;
      }
      let variance = 0;
      for (let k = 0; k < s; k++) variance += (x[i * n + g * s + k]! - mu) ** 2;
      variance /= s;
      for (let k = 0; k < s; k++) {
        const j = g * s + k;
        y[i * n + j] = (gamma[j]! * (x[i * n + j]! - mu)) / Math.sqrt(variance + EPS) + (beta ? beta[j]! : 0);
      }
    }
  }
  return y;
}

interface Case {
  name: string;
  groups: number;
  centered: boolean;
  make: (kernels: Kernels, features: number) => ExampleNorm;
}

const CASES: Case[] = [
  { name: 'Layer Norm', groups: 1, centered: true, make: (k, n) => new LayerNorm(k, 'ln.0', n, EPS) },
  { name: 'Group Norm (3 groups)', groups: 3, centered: true, make: (k, n) => new GroupNorm(k, 'gn.0', n, 3, EPS) },
  { name: 'RMSNorm', groups: 1, centered: false, make: (k, n) => new RmsNorm(k, 'rms.0', n, EPS) },
];

/** A layer on `kernels` with random γ, β and input (mean 2, std 3: centering matters), its forward and backward for the upstream r. */
function run(kernels: Kernels, c: Case, seed: number, n = features) {
  const rng = new Rng(seed);
  const norm = c.make(kernels, n);
  norm.allocate(batch, true);
  for (let j = 0; j < n; j++) norm.gamma!.data[j] = 0.5 + rng.uniform() * 2;
  if (norm.beta) rng.fillNormal(norm.beta.data, 1);
  const x = kernels.matrix(batch, n);
  for (let i = 0; i < x.size; i++) x.data[i] = 2 + 3 * rng.normal();
  const r = kernels.matrix(batch, n);
  rng.fillNormal(r.data, 1);
  const y = Float64Array.from(norm.forward(x, TRAINING_PASS).data);
  const dx = Float64Array.from(norm.backward(x, r)!.data);
  return {
    norm,
    x: Float64Array.from(x.data),
    r: Float64Array.from(r.data),
    y,
    dx,
    dGamma: Float64Array.from(norm.gammaGrad!.data),
    dBeta: norm.betaGrad && Float64Array.from(norm.betaGrad.data),
  };
}

describe('Layer, Group and RMS Norm agree with a float64 reference from the papers', async () => {
  for (const kernels of await backendsUnderTest()) {
    for (const c of CASES) {
      test(`${c.name} [${kernels.name}: ${kernels.variant}]`, () => {
        const got = run(kernels, c, 41);
        const gamma = Float64Array.from(got.norm.gamma!.data),
          beta = got.norm.beta && Float64Array.from(got.norm.beta.data);
        assertAllClose(got.y, reference(got.x, batch, features, c.groups, c.centered, gamma, beta), { rtol: 1e-5, atol: 1e-5 }, 'y');
        // Gradients of L = Σ r·y, by central differences of the reference in float64.
        const loss = (xs: Float64Array, g: Float64Array, b: Float64Array | null): number => {
          const y = reference(xs, batch, features, c.groups, c.centered, g, b);
          let sum = 0;
          for (let i = 0; i < y.length; i++) sum += got.r[i]! * y[i]!;
          return sum;
        };
        const x = Float64Array.from(got.x),
          g = Float64Array.from(gamma),
          b = beta && Float64Array.from(beta);
        assertAllClose(
          got.dx,
          numericGradient(x, () => loss(x, g, b), 1e-6),
          { rtol: 1e-4, atol: 1e-4 },
          'dx',
        );
        assertAllClose(
          got.dGamma,
          numericGradient(g, () => loss(x, g, b), 1e-6),
          { rtol: 1e-4, atol: 1e-4 },
          'dgamma',
        );
        if (b)
          assertAllClose(
            got.dBeta!,
            numericGradient(b, () => loss(x, g, b), 1e-6),
            { rtol: 1e-4, atol: 1e-4 },
            'dbeta',
          );
        else assert.equal(got.dBeta, null, 'RMSNorm has no β');
      });
    }
  }
});

describe('limiting cases', async () => {
  for (const kernels of await backendsUnderTest()) {
    const tag = `[${kernels.name}: ${kernels.variant}]`;
    test(`Group Norm with one group is Layer Norm, bit for bit ${tag}`, () => {
      const ln = run(kernels, CASES[0]!, 51);
      const gn = run(kernels, { name: 'gn', groups: 1, centered: true, make: (k, n) => new GroupNorm(k, 'gn.0', n, 1, EPS) }, 51);
      assert.deepEqual(gn.y, ln.y, 'y');
      assert.deepEqual(gn.dx, ln.dx, 'dx');
      assert.deepEqual(gn.dGamma, ln.dGamma, 'dgamma');
      assert.deepEqual(gn.dBeta, ln.dBeta, 'dbeta');
    });
    test(`Group Norm with a group per unit normalizes each unit alone: the output is β ${tag}`, () => {
      const each = run(kernels, { name: 'gn', groups: features, centered: true, make: (k, n) => new GroupNorm(k, 'gn.0', n, n, EPS) }, 52);
      const beta = each.norm.beta!.data;
      for (let i = 0; i < batch; i++) for (let j = 0; j < features; j++) assert.equal(each.y[i * features + j], beta[j], `y[${i},${j}]`);
      assert.ok(
        each.dx.every((v) => v === 0),
        'x − μ is 0 whatever x: dx = 0',
      );
    });
    for (const [c, n] of [
      [CASES[0]!, features],
      [CASES[0]!, 13],
      [CASES[2]!, features],
      [CASES[2]!, 13],
    ] as const) {
      test(`${c.name}'s x̂ per example (${n} units): ${c.centered ? 'mean 0, variance 1' : 'root mean square 1'} ${tag}`, () => {
        const got = run(kernels, c, 53, n);
        const { xhat } = got.norm.buffersFor(batch);
        for (let i = 0; i < batch; i++) {
          const row = Array.from(xhat.data.subarray(i * n, (i + 1) * n));
          const mean = row.reduce((a, v) => a + v, 0) / n;
          const meanSquare = row.reduce((a, v) => a + v * v, 0) / n;
          if (c.centered) {
            assert.ok(Math.abs(mean) < 1e-6, `example ${i}: mean ${mean}`);
            assert.ok(Math.abs(meanSquare - mean * mean - 1) < 1e-5, `example ${i}: variance ${meanSquare - mean * mean}`);
          } else {
            assert.ok(Math.abs(Math.sqrt(meanSquare) - 1) < 1e-5, `example ${i}: root mean square ${Math.sqrt(meanSquare)}`);
          }
        }
      });
    }
  }
});
