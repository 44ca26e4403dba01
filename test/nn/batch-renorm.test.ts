/**
 * @file Batch Renormalization (Ioffe 2017) against the paper: its forward on every backend
 * against a float64 reference of Algorithm 1 written here with plain loops (r and d from the
 * moving statistics before the batch, clipped; the moving statistics updated after); its
 * backward against central differences of that reference with r and d held fixed (the paper
 * stops their gradient); the schedule; and its limiting case, rmax = 1 and dmax = 0, which is
 * BN bit for bit: forward, backward, moving statistics and whole training steps, on every backend.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { BatchRenorm } from '../../src/nn/batch-renorm.js';
import { TRAINING_PASS } from '../../src/nn/layer.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { renormLimits, renormSchedule } from '../../src/nn/renorm-schedule.js';
import { Sgd } from '../../src/nn/sgd.js';
import { BATCH_NORM_DEFAULTS, type BatchRenormOptions, makeSpec } from '../../src/nn/spec.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { assertGradientsMatch, numericGradient, weightedSum } from '../helpers/gradient-check.js';

const EPS = 1e-3,
  MOMENTUM = 0.99;
const batch = 8,
  features = 21; // 21 = 5 vectors of 4 and a scalar tail in the SIMD kernels
const FULL: BatchRenormOptions = { eps: EPS, momentum: MOMENTUM, rmax: 3, dmax: 5, warmupSteps: 0, rmaxSteps: 0, dmaxSteps: 0, affine: true };

interface Reference {
  y: Float64Array;
  r: Float64Array;
  d: Float64Array;
  movingMean: Float64Array;
  movingVariance: Float64Array;
}

/**
 * Algorithm 1 in float64: μ_B, σ_B = √(σ²_B + eps) per unit; with σ = √(moving σ² + eps),
 * r = clip(σ_B/σ, 1/rmax, rmax), d = clip((μ_B − μ)/σ, −dmax, dmax) (or the `fixed` r and d);
 * y = γ·((x − μ_B)/σ_B·r + d) + β; then μ += (1 − momentum)(μ_B − μ), σ² likewise with σ²_B.
 */
function reference(
  x: ArrayLike<number>,
  m: number,
  n: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  movingMean: ArrayLike<number>,
  movingVariance: ArrayLike<number>,
  rmax: number,
  dmax: number,
  fixed?: { r: ArrayLike<number>; d: ArrayLike<number> },
): Reference {
  const out: Reference = {
    y: new Float64Array(m * n),
    r: new Float64Array(n),
    d: new Float64Array(n),
    movingMean: new Float64Array(n),
    movingVariance: new Float64Array(n),
  };
  for (let j = 0; j < n; j++) {
    let mu = 0;
    for (let i = 0; i < m; i++) mu += x[i * n + j]!;
    mu /= m;
    let variance = 0;
    for (let i = 0; i < m; i++) variance += (x[i * n + j]! - mu) ** 2;
    variance /= m;
    const sigmaB = Math.sqrt(variance + EPS),
      sigma = Math.sqrt(movingVariance[j]! + EPS);
    const r = fixed ? fixed.r[j]! : Math.min(rmax, Math.max(1 / rmax, sigmaB / sigma));
    const d = fixed ? fixed.d[j]! : Math.min(dmax, Math.max(-dmax, (mu - movingMean[j]!) / sigma));
    out.r[j] = r;
    out.d[j] = d;
    for (let i = 0; i < m; i++) out.y[i * n + j] = gamma[j]! * (((x[i * n + j]! - mu) / sigmaB) * r + d) + beta[j]!;
    out.movingMean[j] = MOMENTUM * movingMean[j]! + (1 - MOMENTUM) * mu;
    out.movingVariance[j] = MOMENTUM * movingVariance[j]! + (1 - MOMENTUM) * variance;
  }
  return out;
}

/** A layer with γ, β and moving statistics such that some units' r and d are clipped and others not. */
function setUp(kernels: Kernels, options: BatchRenormOptions, seed: number): { norm: BatchRenorm; x: ReturnType<Kernels['matrix']> } {
  const rng = new Rng(seed);
  const norm = new BatchRenorm(kernels, 'brn.0', features, options);
  norm.allocate(batch, true);
  for (let j = 0; j < features; j++) {
    norm.gamma!.data[j] = 0.5 + rng.uniform() * 2;
    norm.beta!.data[j] = rng.normal();
    // Every third unit's σ far below σ_B (r clipped at rmax, |d| beyond dmax), every third far above (r clipped at 1/rmax), the rest near.
    const kind = j % 3;
    norm.movingMean.data[j] = kind === 0 ? 1 + rng.uniform() : rng.normal() * 0.3;
    norm.movingVariance.data[j] = kind === 0 ? 0.01 : kind === 1 ? 40 + rng.uniform() * 10 : 1 + rng.uniform();
  }
  const x = kernels.matrix(batch, features);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal() * (1 + (i % features) / 7);
  return { norm, x };
}

describe('Batch Renormalization against the paper (Algorithm 1, float64 reference)', async () => {
  const backends = await backendsUnderTest();
  for (const kernels of backends) {
    test(`${kernels.variant}: forward, r, d and the moving statistics match the reference (clipped and unclipped units)`, () => {
      const { norm, x } = setUp(kernels, FULL, 31);
      const expected = reference(
        x.data,
        batch,
        features,
        norm.gamma!.data,
        norm.beta!.data,
        norm.movingMean.data.slice(),
        norm.movingVariance.data.slice(),
        3,
        5,
      );
      const clipped = expected.r.filter((r) => r === 3 || r === 1 / 3).length + expected.d.filter((d) => Math.abs(d) === 5).length;
      assert.ok(clipped >= 2 && clipped < 2 * features - 4, `the inputs exercise clipping and its absence (${clipped} clipped limits)`);
      const y = norm.forward(x, TRAINING_PASS);
      const tolerance = { rtol: 1e-5, atol: 1e-5 };
      assertAllClose(norm.r.data, expected.r, tolerance, 'r');
      assertAllClose(norm.d.data, expected.d, tolerance, 'd');
      assertAllClose(y.data, expected.y, { rtol: 1e-4, atol: 1e-4 }, 'y');
      assertAllClose(norm.movingMean.data, expected.movingMean, tolerance, 'moving mean');
      assertAllClose(norm.movingVariance.data, expected.movingVariance, tolerance, 'moving variance');
      assert.equal(norm.steps, 1);
    });

    test(`${kernels.variant}: inference normalizes with the moving statistics, as BN's does`, () => {
      const { norm, x } = setUp(kernels, FULL, 32);
      const bn = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS });
      bn.allocate(batch, true);
      for (const [to, from] of [
        [bn.gamma!, norm.gamma!],
        [bn.beta!, norm.beta!],
        [bn.movingMean, norm.movingMean],
        [bn.movingVariance, norm.movingVariance],
      ] as const)
        to.data.set(from.data);
      const pass = { mode: 'infer', statistics: { estimator: 'ema', unbiased: true } } as const;
      assert.deepEqual(Array.from(norm.forward(x, pass).data), Array.from(bn.forward(x, pass).data));
    });
  }

  test("float64: the backward is the reference's gradient with r and d held fixed (central differences)", () => {
    const kernels = new JsKernels('float64');
    const { norm, x } = setUp(kernels, FULL, 33);
    const movingMean = norm.movingMean.data.slice(),
      movingVariance = norm.movingVariance.data.slice();
    const weights = new Float64Array(batch * features);
    const rng = new Rng(34);
    for (let i = 0; i < weights.length; i++) weights[i] = rng.normal();
    const upstream = kernels.matrix(batch, features);
    upstream.data.set(weights);
    norm.forward(x, TRAINING_PASS);
    const fixed = { r: norm.r.data.slice(), d: norm.d.data.slice() };
    assert.ok(fixed.r.some((r) => r !== 1) && fixed.d.some((d) => d !== 0), 'a correction to check');
    const dx = norm.backward(x, upstream)!;
    const loss = (): number =>
      weightedSum(weights, reference(x.data, batch, features, norm.gamma!.data, norm.beta!.data, movingMean, movingVariance, 3, 5, fixed).y);
    const h = 1e-5;
    assertGradientsMatch('dx', dx.data, numericGradient(x.data, loss, h));
    assertGradientsMatch('dgamma', norm.gammaGrad!.data, numericGradient(norm.gamma!.data, loss, h));
    assertGradientsMatch('dbeta', norm.betaGrad!.data, numericGradient(norm.beta!.data, loss, h));
  });
});

describe("Batch Renormalization's schedule", () => {
  test('1 and 0 through the warm-up, linear to rmax and dmax at their marks, constant after', () => {
    const options = { rmax: 3, dmax: 5, warmupSteps: 10, rmaxSteps: 50, dmaxSteps: 30 };
    assert.deepEqual(renormLimits(options, 0), { rmax: 1, dmax: 0 });
    assert.deepEqual(renormLimits(options, 9), { rmax: 1, dmax: 0 });
    assert.deepEqual(renormLimits(options, 10), { rmax: 1, dmax: 0 });
    assert.deepEqual(renormLimits(options, 20), { rmax: 1.5, dmax: 2.5 });
    assert.deepEqual(renormLimits(options, 30), { rmax: 2, dmax: 5 });
    assert.deepEqual(renormLimits(options, 50), { rmax: 3, dmax: 5 });
    assert.deepEqual(renormLimits(options, 1e9), { rmax: 3, dmax: 5 });
  });

  test("scaled to a run: the paper's 5k, 25k and 40k as 1/16, 5/16 and 1/2 of it; a longer warm-up moves the ends with it", () => {
    assert.deepEqual(renormSchedule(3000, 1 / 16), { warmupSteps: 188, dmaxSteps: 938, rmaxSteps: 1500 });
    assert.deepEqual(renormSchedule(80_000, 1 / 16), { warmupSteps: 5000, dmaxSteps: 25_000, rmaxSteps: 40_000 });
    assert.deepEqual(renormSchedule(1000, 0.6), { warmupSteps: 600, dmaxSteps: 600, rmaxSteps: 600 });
  });

  test("the layer follows it: BN's numbers through the warm-up, a correction after", () => {
    const kernels = new JsKernels();
    const { norm, x } = setUp(kernels, { ...FULL, warmupSteps: 2, rmaxSteps: 4, dmaxSteps: 4 }, 35);
    norm.forward(x, TRAINING_PASS);
    norm.forward(x, TRAINING_PASS);
    assert.ok(Array.from(norm.r.data).every((r) => r === 1) && Array.from(norm.d.data).every((d) => d === 0), 'no correction in the warm-up');
    norm.forward(x, TRAINING_PASS); // step 2: the relaxation starts from 1 and 0
    assert.ok(
      Array.from(norm.r.data).every((r) => r === 1),
      'none where the relaxation starts',
    );
    norm.forward(x, TRAINING_PASS);
    assert.ok(
      Array.from(norm.r.data).some((r) => r !== 1),
      'a correction after it',
    );
    assert.equal(norm.steps, 4);
  });
});

describe('Batch Renormalization with rmax = 1 and dmax = 0 is BN bit for bit', async () => {
  const backends = await backendsUnderTest();
  for (const kernels of backends) {
    test(`${kernels.variant}: one layer: forward, backward, gradients, moving statistics`, () => {
      const { norm, x } = setUp(kernels, { ...FULL, rmax: 1, dmax: 0 }, 36);
      const bn = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS });
      bn.allocate(batch, true);
      for (const [to, from] of [
        [bn.gamma!, norm.gamma!],
        [bn.beta!, norm.beta!],
        [bn.movingMean, norm.movingMean],
        [bn.movingVariance, norm.movingVariance],
      ] as const)
        to.data.set(from.data);
      const dy = kernels.matrix(batch, features);
      new Rng(37).fillNormal(dy.data as Float32Array, 1);
      const dyCopy = kernels.matrix(batch, features);
      dyCopy.data.set(dy.data);
      const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => assert.deepEqual(Array.from(a), Array.from(b), what);
      for (let step = 0; step < 3; step++) {
        same(norm.forward(x, TRAINING_PASS).data, bn.forward(x, TRAINING_PASS).data, 'y');
        same(norm.backward(x, dy)!.data, bn.backward(x, dyCopy)!.data, 'dx');
      }
      same(norm.gammaGrad!.data, bn.gammaGrad!.data, 'dgamma');
      same(norm.betaGrad!.data, bn.betaGrad!.data, 'dbeta');
      same(norm.movingMean.data, bn.movingMean.data, 'moving mean');
      same(norm.movingVariance.data, bn.movingVariance.data, 'moving variance');
    });

    test(`${kernels.variant}: a network: training steps give BN's weights, γ, β, statistics and losses`, () => {
      const layout = { inputSize: 12, hiddenSizes: [16, 9], outputSize: 4 };
      const bnSpec = makeSpec({ ...layout, norm: 'bn' });
      const brnSpec = makeSpec({ ...layout, norm: 'brn', renorm: { rmax: 1, dmax: 0, warmupSteps: 0, rmaxSteps: 0, dmaxSteps: 0 } });
      const weights = drawInitialWeights(bnSpec, 0.3, new Rng(38));
      const bnNet = new MLP(kernels, bnSpec, weights, { maxBatchSize: 10 });
      const brnNet = new MLP(kernels, brnSpec, weights, { maxBatchSize: 10 });
      const rng = new Rng(39);
      for (let step = 0; step < 4; step++) {
        const x = new Float32Array(10 * 12);
        rng.fillNormal(x, 1);
        const labels = Array.from({ length: 10 }, (_, i) => (i * 7 + step) % 4);
        const losses = [bnNet, brnNet].map((net) => {
          const input = net.inputFor(10);
          input.data.set(x);
          return net.trainStep(input, labels, new Sgd(kernels, 0.1));
        });
        assert.equal(losses[1], losses[0], `loss of step ${step}`);
      }
      const values = (net: MLP): number[][] =>
        net
          .checkpointTensors()
          .filter((t) => !t.name.endsWith('.steps'))
          .map((t) => Array.from(t.read()));
      assert.deepEqual(values(brnNet), values(bnNet));
    });
  }
});
