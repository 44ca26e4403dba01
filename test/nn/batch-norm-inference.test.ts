/**
 * @file BatchNorm's population statistics and inference mode, against closed forms:
 * `average` = (mean of batch means, m/(m−1)·mean of batch variances, or without the factor when
 * unbiased = false) on batches built by hand; `ema` after k updates = momentum^k·init +
 * Σ_i (1−momentum)·momentum^(k−i)·stat_i; the inference forward = γ(x−mean)/√(var+eps)+β; the
 * `batch` estimator on one example gives β; and training on one example is refused.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { type ForwardPass, TRAINING_PASS } from '../../src/nn/layer.js';
import { BATCH_NORM_DEFAULTS, type BatchNormOptions, type Estimator } from '../../src/nn/spec.js';
import { assertAllClose } from '../helpers/assert-close.js';
import { backendsUnderTest } from '../helpers/backends.js';

/**
 * Three batches of m = 4 examples, 2 features, as [row][feature]. Feature 0 by hand:
 * [1,2,3,4]: μ 2.5, σ² (1.5²+0.5²+0.5²+1.5²)/4 = 1.25; [0,0,4,4]: μ 2, σ² 4; [−1,1,−1,1]: μ 0, σ² 1.
 * Feature 1 is feature 0 times −2 plus 10: μ 5, 6, 10 and σ² 5, 16, 4.
 */
const handBatches = [
  [
    [1, 8],
    [2, 6],
    [3, 4],
    [4, 2],
  ],
  [
    [0, 10],
    [0, 10],
    [4, 2],
    [4, 2],
  ],
  [
    [-1, 12],
    [1, 8],
    [-1, 12],
    [1, 8],
  ],
];
// Feature 0: E[μ_B] = (2.5 + 2 + 0)/3 = 1.5; E[σ²_B] = (1.25 + 4 + 1)/3 = 6.25/3.
// Feature 1: E[μ_B] = (5 + 6 + 10)/3 = 7;   E[σ²_B] = (5 + 16 + 4)/3 = 25/3.
const averageMean = [1.5, 7];
const averageBiasedVariance = [6.25 / 3, 25 / 3];
const bessel = 4 / 3; // m/(m−1), m = 4

function feed(kernels: Kernels, norm: BatchNorm, rows: number[][]): void {
  const x = kernels.matrix(rows.length, norm.features);
  x.data.set(rows.flat());
  norm.forward(x, TRAINING_PASS);
}

function makeNorm(kernels: Kernels, options: Partial<BatchNormOptions>, features = 2): BatchNorm {
  const norm = new BatchNorm(kernels, 'bn.0', features, { ...BATCH_NORM_DEFAULTS, ...options });
  norm.allocate(8, true);
  return norm;
}

/** An inference pass with the estimator (and m/(m−1) or not) a network's spec would name. */
function inferring(estimator: Estimator, unbiased = true): ForwardPass {
  return { mode: 'infer', statistics: { estimator, unbiased } };
}

for (const kernels of await backendsUnderTest()) {
  describe(`BatchNorm population statistics and inference [${kernels.name}: ${kernels.variant}]`, () => {
    const float32 = { rtol: 1e-6, atol: 1e-7 };

    test('average, unbiased: mean of batch means and m/(m−1)·mean of batch variances', () => {
      const norm = makeNorm(kernels, {});
      for (const rows of handBatches) feed(kernels, norm, rows);
      const { mean, variance } = norm.populationStatistics({ estimator: 'average', unbiased: true });
      assertAllClose(mean, averageMean, float32, 'mean');
      assertAllClose(
        variance,
        averageBiasedVariance.map((v) => bessel * v),
        float32,
        'variance',
      );
    });

    test('average, unbiased = false: the plain mean of batch variances', () => {
      const norm = makeNorm(kernels, {});
      for (const rows of handBatches) feed(kernels, norm, rows);
      const { mean, variance } = norm.populationStatistics({ estimator: 'average', unbiased: false });
      assertAllClose(mean, averageMean, float32, 'mean');
      assertAllClose(variance, averageBiasedVariance, float32, 'variance');
    });

    test('average after resetAverage counts only the batches since', () => {
      const norm = makeNorm(kernels, {});
      feed(kernels, norm, [
        [100, -100],
        [-50, 70],
      ]);
      norm.resetAverage();
      for (const rows of handBatches) feed(kernels, norm, rows);
      assertAllClose(norm.populationStatistics({ estimator: 'average', unbiased: false }).mean, averageMean, float32, 'mean');
    });

    test('inference with the average estimator is γ(x − E[μ_B])/√(m/(m−1)·E[σ²_B] + eps) + β', () => {
      const eps = 0.01;
      const norm = makeNorm(kernels, { eps });
      norm.gamma!.data.set([2, -0.5]);
      norm.beta!.data.set([0.25, 3]);
      for (const rows of handBatches) feed(kernels, norm, rows);
      const examples = [
        [0.5, 9],
        [3, -1],
        [-2, 7],
      ];
      const x = kernels.matrix(3, 2);
      x.data.set(examples.flat());
      const y = norm.forward(x, inferring('average'));
      const gamma = [2, -0.5],
        beta = [0.25, 3];
      const expected = examples.flatMap((row) =>
        row.map((v, j) => (gamma[j]! * (v - averageMean[j]!)) / Math.sqrt(bessel * averageBiasedVariance[j]! + eps) + beta[j]!),
      );
      assertAllClose(y.data, expected, { rtol: 1e-6, atol: 1e-6 }, 'inference output');
    });

    test('ema after k updates equals momentum^k·init + Σ (1−momentum)·momentum^(k−i)·stat_i', () => {
      const momentum = 0.9,
        k = 6,
        m = 5,
        features = 3;
      const norm = makeNorm(kernels, { momentum }, features);
      const rng = new Rng(101);
      const expectedMean = new Array<number>(features).fill(0); // TensorFlow's initial moving mean
      const expectedVariance = new Array<number>(features).fill(0);
      for (let j = 0; j < features; j++) expectedVariance[j] = momentum ** k * 1; // initial moving variance 1
      for (let i = 1; i <= k; i++) {
        const rows = Array.from({ length: m }, () => Array.from({ length: features }, (_, j) => 3 * j + (1 + j) * rng.normal()));
        feed(kernels, norm, rows);
        for (let j = 0; j < features; j++) {
          // This batch's statistics, computed here in float64 from the rows (float32-rounded, as fed).
          const column = rows.map((row) => Math.fround(row[j]!));
          const mu = column.reduce((s, v) => s + v, 0) / m;
          const sigma2 = column.reduce((s, v) => s + (v - mu) ** 2, 0) / m; // biased, as TensorFlow's moving variance for 2-D inputs
          expectedMean[j]! += (1 - momentum) * momentum ** (k - i) * mu;
          expectedVariance[j]! += (1 - momentum) * momentum ** (k - i) * sigma2;
        }
      }
      const { mean, variance } = norm.populationStatistics({ estimator: 'ema', unbiased: true });
      assertAllClose(mean, expectedMean, { rtol: 1e-5, atol: 1e-6 }, 'moving mean');
      assertAllClose(variance, expectedVariance, { rtol: 1e-5, atol: 1e-6 }, 'moving variance');
    });

    test('inference with the ema estimator uses the moving statistics, and does not move them', () => {
      const eps = 1e-3;
      const norm = makeNorm(kernels, { momentum: 0.5, eps });
      norm.gamma!.data.set([1.5, 0.5]);
      norm.beta!.data.set([-1, 2]);
      feed(kernels, norm, handBatches[0]!);
      // One update from (0, 1) with momentum 1/2: mean = μ_B/2, variance = (1 + σ²_B)/2.
      const movingMean = [2.5 / 2, 5 / 2],
        movingVariance = [(1 + 1.25) / 2, (1 + 5) / 2];
      const x = kernels.matrix(2, 2);
      x.data.set([0, 1, 2, -3]);
      const y = norm.forward(x, inferring('ema'));
      const gamma = [1.5, 0.5],
        beta = [-1, 2];
      const expected = [0, 1, 2, -3].map((v, i) => (gamma[i % 2]! * (v - movingMean[i % 2]!)) / Math.sqrt(movingVariance[i % 2]! + eps) + beta[i % 2]!);
      assertAllClose(y.data, expected, { rtol: 1e-6, atol: 1e-6 }, 'inference output');
      assertAllClose(norm.movingMean.data, movingMean, float32, 'moving mean after inference');
      assertAllClose(norm.movingVariance.data, movingVariance, float32, 'moving variance after inference');
    });

    test('the batch estimator on a single example gives β for every feature (its own variance is 0)', () => {
      const norm = makeNorm(kernels, {}, 4);
      norm.gamma!.data.set([2, 3, -1, 0.5]);
      norm.beta!.data.set([0.5, -1.25, 4, 0]);
      const x = kernels.matrix(1, 4);
      x.data.set([7, -3, 0.1, 1e3]);
      const y = norm.forward(x, inferring('batch'));
      assert.deepEqual(Array.from(y.data), [0.5, -1.25, 4, 0]);
    });

    test('training mode with a batch of 1 throws an error that names the batch size', () => {
      const norm = makeNorm(kernels, {});
      const x = kernels.matrix(1, 2);
      assert.throws(
        () => norm.forward(x, TRAINING_PASS),
        (error: unknown) => error instanceof Error && /batch/i.test(error.message) && /\b1\b/.test(error.message) && /at least 2/.test(error.message),
      );
    });
  });
}
