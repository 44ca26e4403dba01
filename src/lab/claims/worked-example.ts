/**
 * @file Claim `worked-example`: the article's 8-example, 4-feature batch pushed through the
 * BatchNorm layer in training mode, stage by stage (μ, σ², x̂, then γ and β). The article gives
 * feature 1 only; features 2-4 are a small fixed example of ours.
 */

import { BatchNorm } from '../../nn/batch-norm.js';
import { TRAINING_PASS } from '../../nn/layer.js';
import { BATCH_NORM_DEFAULTS } from '../../nn/spec.js';
import { barChartSpec } from '../charts/bar-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { elapsedSince, formatNumber } from './experiment-kit.js';

/** The article's feature 1 (the row consistent with its μ, σ² and x̂). */
const ARTICLE_FEATURE_ROW = [1.0, 1.5, 1.2, 0.9, 1.7, 2.1, 3.1, 1.7];
/** The article's figures for feature 1, to two decimals. */
const ARTICLE_MEAN = 1.65;
const ARTICLE_VARIANCE = 0.44;
export const ARTICLE_XHAT = [-0.98, -0.23, -0.68, -1.13, 0.08, 0.68, 2.19, 0.08];
const ARTICLE_EPS = 1e-8;

/** Features 2-4: our own small example (a shifted one, a large-offset one, a symmetric one). */
const OTHER_FEATURE_ROWS = [
  [0.5, -0.3, 0.8, 0.1, -0.6, 0.4, 0.0, 0.3],
  [10, 12, 11, 13, 9, 14, 12, 15],
  [-1, 0, 1, 0, -1, 0, 1, 0],
];
/** A learnable scale and shift to show the affine step with (any values would do). */
const EXAMPLE_GAMMA = [2, 0.5, 1, 3];
const EXAMPLE_BETA = [0.5, -1, 0, 2];

const EXAMPLES = 8;
const FEATURES = 4;
/** "To two decimals": a value rounds to the article's figure when within half a unit of the second decimal. */
const TWO_DECIMALS = 0.005;

export const workedExampleClaim: Claim = {
  name: 'worked-example',
  title: 'The worked example: μ, σ², x̂, γ and β on a batch of 8',
  description: "the article's 4×8 example through the BatchNorm layer, every stage printed",
  articleSays:
    'For a batch of 8 examples, feature 1 has μ = 1.65 and σ² = 0.44 (ε = 1e-8), and normalizes to ' +
    '[-0.98, -0.23, -0.68, -1.13, 0.08, 0.68, 2.19, 0.08]; then x̃ = γ·x̂ + β, and γ = √σ², β = μ restore the input.',
  run: (context) => runWorkedExample(context),
};

export async function runWorkedExample(context: Pick<ClaimContext, 'kernels'>): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels } = context;
  const rows = [ARTICLE_FEATURE_ROW, ...OTHER_FEATURE_ROWS]; // [features][examples], the article's layout
  const norm = new BatchNorm(kernels, 'bn.0', FEATURES, { ...BATCH_NORM_DEFAULTS, eps: ARTICLE_EPS });
  norm.allocate(EXAMPLES, false);
  const z = kernels.matrix(EXAMPLES, FEATURES); // [8, 4]: our layers take [batch, features], the transpose of the article's Z
  for (let j = 0; j < FEATURES; j++) for (let i = 0; i < EXAMPLES; i++) z.set(i, j, rows[j]![i]!);

  // Stage 1-3: γ = 1, β = 0 (the layer's initial values), so y = x̂.
  norm.forward(z, TRAINING_PASS);
  const mean = Array.from(norm.trainingBatch.mean.data);
  const variance = Array.from(norm.trainingBatch.variance.data);
  const invStd = Array.from(norm.trainingBatch.invStd.data);
  const xhat = norm.buffersFor(EXAMPLES).xhat.toArrays(); // [8][4]

  // Stage 4: a learnable scale and shift.
  norm.gamma!.data.set(EXAMPLE_GAMMA);
  norm.beta!.data.set(EXAMPLE_BETA);
  const affine = norm.forward(z, TRAINING_PASS).toArrays(); // [8][4]

  // Stage 5: γ = √(σ²+ε), β = μ make BN the identity: the affine step can undo the normalization.
  norm.gamma!.data.set(variance.map((v) => Math.sqrt(v + ARTICLE_EPS)));
  norm.beta!.data.set(mean);
  const y = norm.forward(z, TRAINING_PASS); // [8, 4]
  let identityError = 0;
  for (let i = 0; i < z.data.length; i++) identityError = Math.max(identityError, Math.abs(y.data[i]! - z.data[i]!));

  const feature1Xhat = xhat.map((row) => row[0]!);
  const meanError = Math.abs(mean[0]! - ARTICLE_MEAN);
  const varianceError = Math.abs(variance[0]! - ARTICLE_VARIANCE);
  const xhatError = Math.max(...feature1Xhat.map((value, i) => Math.abs(value - ARTICLE_XHAT[i]!)));
  const holds = meanError < TWO_DECIMALS && varianceError < TWO_DECIMALS && xhatError < TWO_DECIMALS;

  const round2 = (v: number): string => v.toFixed(2);
  const lines = [
    `input z, feature 1: [${ARTICLE_FEATURE_ROW.map((v) => v.toFixed(1)).join(', ')}] (features 2-4 are our own example)`,
    `μ  = [${mean.map((v) => formatNumber(v, 4)).join(', ')}]   article, feature 1: ${ARTICLE_MEAN}`,
    `σ² = [${variance.map((v) => formatNumber(v, 4)).join(', ')}]   article, feature 1: ${ARTICLE_VARIANCE} (biased: divides by m = 8)`,
    `x̂ feature 1 = [${feature1Xhat.map(round2).join(', ')}]`,
    `   article   = [${ARTICLE_XHAT.map(round2).join(', ')}]`,
    `γ = [${EXAMPLE_GAMMA.join(', ')}], β = [${EXAMPLE_BETA.join(', ')}] → x̃ feature 1 = [${affine.map((row) => round2(row[0]!)).join(', ')}]`,
    `γ = √(σ²+ε), β = μ → x̃ = z again (max |x̃ − z| = ${formatNumber(identityError, 6)})`,
  ];
  const featureLabel = (j: number): string => `feature ${j + 1}`;
  return {
    name: workedExampleClaim.name,
    title: workedExampleClaim.title,
    articleSays: workedExampleClaim.articleSays,
    method:
      "The 8×4 batch (feature 1 from the article, features 2-4 our own) goes through bnlab's BatchNorm layer (src/nn/batch-norm.ts) in training mode with ε = 1e-8, " +
      `float32 on the ${kernels.name} backend; first with γ = 1, β = 0, then with γ = [${EXAMPLE_GAMMA.join(', ')}], β = [${EXAMPLE_BETA.join(', ')}], then with γ = √(σ²+ε), β = μ.`,
    numbers: {
      mean1: mean[0]!,
      variance1: variance[0]!,
      maxXhatErrorVsArticle: xhatError,
      identityMaxError: identityError,
    },
    tables: [
      {
        title: 'Batch statistics per feature',
        columns: ['feature', 'μ', 'σ² (÷m)', '1/√(σ²+ε)', 'γ', 'β'],
        rows: mean.map((mu, j) => [
          featureLabel(j),
          formatNumber(mu, 4),
          formatNumber(variance[j]!, 4),
          formatNumber(invStd[j]!, 4),
          EXAMPLE_GAMMA[j]!,
          EXAMPLE_BETA[j]!,
        ]),
      },
      {
        title: 'Every stage, example by example (x̂ and x̃ = γ·x̂ + β)',
        columns: ['example', ...rows.map((_, j) => `z${j + 1}`), ...rows.map((_, j) => `x̂${j + 1}`), ...rows.map((_, j) => `x̃${j + 1}`)],
        rows: xhat.map((row, i) => [i + 1, ...rows.map((feature) => feature[i]!), ...row.map(round2), ...affine[i]!.map(round2)]),
      },
    ],
    verdict: {
      holds,
      text: holds
        ? `matches the article to two decimals: μ₁ = ${mean[0]!.toFixed(4)}, σ²₁ = ${variance[0]!.toFixed(4)}, largest x̂ difference ${formatNumber(xhatError, 4)}.`
        : `differs from the article: μ₁ off by ${formatNumber(meanError, 4)}, σ²₁ by ${formatNumber(varianceError, 4)}, x̂ by up to ${formatNumber(xhatError, 4)}.`,
    },
    figures: [
      {
        name: 'feature1',
        caption: "Feature 1 of the article's batch: the input z, the normalized x̂ (mean 0, variance 1), and x̃ = γ·x̂ + β with γ = 2, β = 0.5.",
        spec: barChartSpec({
          title: 'Worked example, feature 1: z → x̂ → γ·x̂ + β',
          xTitle: 'example',
          yTitle: 'value',
          bars: ARTICLE_FEATURE_ROW.flatMap((value, i) => [
            { category: String(i + 1), group: 'input z', value },
            { category: String(i + 1), group: 'x̂ (normalized)', value: Number(feature1Xhat[i]!.toFixed(2)) },
            { category: String(i + 1), group: 'γ·x̂ + β', value: Number(affine[i]![0]!.toFixed(2)) },
          ]),
          barWidth: 18,
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
