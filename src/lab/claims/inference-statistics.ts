/**
 * @file Claim `inference-statistics`: at inference a single example has no batch, so BN must use
 * population statistics. One trained BN network evaluated with the moving average (`ema`), the
 * average of batch statistics over training batches with frozen weights (`average`, with and
 * without the m/(m−1) factor) and the test batch's own statistics (`batch`), on the test set in
 * batches and one example at a time. With `batch` and one example, σ² = 0, x̂ = 0 and every
 * example gets the output of β alone: the same class for all.
 */
import type { Estimator } from '../../nn/spec.js';
import { recomputeAverageStatistics } from '../../train/population-statistics.js';
import { barChartSpec } from '../charts/bar-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOf, elapsedSince, formatPercent, headOf, type NetworkChoice, networkPair, predictClasses, trainForClaim } from './experiment-kit.js';

export interface InferenceStatisticsBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  /** Training batches the `average` estimator is recomputed over, with the trained weights frozen (the paper's Algorithm 2). */
  averageBatches: number;
  /** Test images evaluated in batches, and one at a time. */
  testCount: number;
  singleCount: number;
  evalBatchSize: number;
}

const INFERENCE_STATISTICS_FULL: InferenceStatisticsBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.5,
  steps: 5000,
  batchSize: 60,
  averageBatches: 500,
  testCount: 10000,
  singleCount: 10000,
  evalBatchSize: 1000,
};

export const INFERENCE_STATISTICS_QUICK: InferenceStatisticsBudget = { ...INFERENCE_STATISTICS_FULL, steps: 1000, averageBatches: 200, singleCount: 2000 };

interface EstimatorChoice {
  label: string;
  /** The chart's axis label (a category slot is only about two bars wide). */
  shortLabel: string;
  estimator: Estimator;
  unbiased: boolean;
}

const CHOICES: EstimatorChoice[] = [
  { label: 'ema (moving average)', shortLabel: 'ema', estimator: 'ema', unbiased: true },
  { label: 'average, m/(m−1)·E[σ²_B]', shortLabel: 'average ×m/(m−1)', estimator: 'average', unbiased: true },
  { label: 'average, E[σ²_B]', shortLabel: 'average', estimator: 'average', unbiased: false },
  { label: 'batch (own statistics)', shortLabel: 'batch', estimator: 'batch', unbiased: true },
];

export const inferenceStatisticsClaim: Claim = {
  name: 'inference-statistics',
  title: 'Inference needs population statistics',
  description: 'one trained BN net evaluated with ema, average (±m/(m−1)) and batch statistics, in batches and one example at a time',
  articleSays:
    'A single test example has no batch, so inference uses population statistics: either E[μ_B] and m/(m−1)·E[σ²_B] over training batches, ' +
    "or an exponential moving average of the batch statistics (TensorFlow's way, momentum 0.99).",
  run: (context) => runInferenceStatistics(context, context.quick ? INFERENCE_STATISTICS_QUICK : INFERENCE_STATISTICS_FULL),
};

interface EstimatorResult {
  choice: EstimatorChoice;
  batchedAccuracy: number;
  singleAccuracy: number;
  singleDistinctClasses: number;
  /** The class predicted most often one example at a time, and for what fraction of the examples. */
  singleCommonestClass: number;
  singleCommonestShare: number;
  /** Fraction of the one-at-a-time predictions that equal the batched prediction of the same example. */
  singleAgreement: number;
}

export async function runInferenceStatistics(context: ClaimContext, budget: InferenceStatisticsBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const { withBn: net } = networkPair(kernels, budget.network, seed);
  context.onProgress?.(`inference-statistics: training the BN network, ${budget.steps} steps`);
  await trainForClaim(net, data, { steps: budget.steps, batchSize: budget.batchSize, learningRate: budget.learningRate, seed });
  context.onProgress?.(`inference-statistics: averaging batch statistics over ${budget.averageBatches} batches with frozen weights`);
  recomputeAverageStatistics(net, data.train, budget.batchSize, budget.averageBatches, seed);

  const test = headOf(data.test, budget.testCount);
  const single = headOf(data.test, budget.singleCount);
  const results: EstimatorResult[] = CHOICES.map((choice) => {
    context.onProgress?.(`inference-statistics: evaluating with ${choice.label}`);
    const statistics = { estimator: choice.estimator, unbiased: choice.unbiased };
    const batched = predictClasses(net, test, budget.evalBatchSize, statistics);
    const oneByOne = predictClasses(net, single, 1, statistics);
    const counts = new Array<number>(10).fill(0);
    for (const predicted of oneByOne) counts[predicted]!++;
    const commonest = counts.indexOf(Math.max(...counts));
    let agreeing = 0;
    for (let i = 0; i < single.count; i++) if (oneByOne[i] === batched[i]) agreeing++;
    return {
      choice,
      batchedAccuracy: accuracyOf(batched, test.labels),
      singleAccuracy: accuracyOf(oneByOne, single.labels),
      singleDistinctClasses: counts.filter((count) => count > 0).length,
      singleCommonestClass: commonest,
      singleCommonestShare: counts[commonest]! / single.count,
      singleAgreement: agreeing / single.count,
    };
  });

  const batchResult = results.find((r) => r.choice.estimator === 'batch')!;
  const population = results.filter((r) => r.choice.estimator !== 'batch');
  const collapses = batchResult.singleDistinctClasses === 1;
  // Population statistics make inference per-example: one at a time must predict what the batch predicted (float rounding aside).
  const populationWorks = population.every((r) => r.singleDistinctClasses > 1 && r.singleAgreement >= 0.99);
  const holds = collapses && populationWorks;

  const lines = [
    `BN network 784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, ${budget.steps} steps at lr ${budget.learningRate}; average recomputed over ${budget.averageBatches} batches of ${budget.batchSize}`,
    ...results.map(
      (r) =>
        `${r.choice.label.padEnd(27)} test (batches of ${budget.evalBatchSize}) ${formatPercent(r.batchedAccuracy, 2)}, one at a time ${formatPercent(r.singleAccuracy, 2)}, ` +
        `${r.singleDistinctClasses} distinct predicted class${r.singleDistinctClasses === 1 ? '' : 'es'}, ${formatPercent(r.singleAgreement, 2)} agree with the batched predictions`,
    ),
  ];
  const verdictText = holds
    ? `holds: one example at a time, the test batch's own statistics give every one of ${single.count} examples the same class (${batchResult.singleCommonestClass}; accuracy ${formatPercent(batchResult.singleAccuracy)}), ` +
      `while with population statistics one at a time predicts what the batches predicted (agreement ${population.map((r) => formatPercent(r.singleAgreement, 2)).join(', ')}).`
    : `does not hold as stated: with batch statistics one at a time there were ${batchResult.singleDistinctClasses} distinct classes; population estimators one at a time: ` +
      `${population.map((r) => `${formatPercent(r.singleAccuracy)} (${r.singleDistinctClasses} classes, ${formatPercent(r.singleAgreement, 2)} agreement)`).join(', ')}.`;
  return {
    name: inferenceStatisticsClaim.name,
    title: inferenceStatisticsClaim.title,
    articleSays: inferenceStatisticsClaim.articleSays,
    method:
      `One BN network 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²) weights) trained ${budget.steps} SGD steps of ${budget.batchSize} at learning rate ${budget.learningRate}. ` +
      `The average estimator is then recomputed over ${budget.averageBatches} training batches with the weights frozen (the paper's Algorithm 2; the moving averages are left as training left them). ` +
      `Evaluated on the first ${test.count} test images in batches of ${budget.evalBatchSize}, and on the first ${single.count} one at a time (batch size 1).` +
      `${context.quick ? ' Quick budget: fewer training steps and fewer single-example evaluations than the full run.' : ''}`,
    numbers: {
      ...Object.fromEntries(
        results.flatMap((r) => {
          const key = r.choice.estimator === 'average' ? (r.choice.unbiased ? 'averageUnbiased' : 'averageBiased') : r.choice.estimator;
          return [
            [`${key}BatchedAccuracy`, r.batchedAccuracy],
            [`${key}SingleAccuracy`, r.singleAccuracy],
            [`${key}SingleDistinctClasses`, r.singleDistinctClasses],
            [`${key}SingleAgreement`, r.singleAgreement],
          ];
        }),
      ),
      batchSingleCommonestClass: batchResult.singleCommonestClass,
    },
    tables: [
      {
        title: 'Test accuracy by inference statistics',
        columns: [
          'statistics',
          `${test.count} images, batches of ${budget.evalBatchSize}`,
          `first ${single.count}, one at a time`,
          'distinct classes (one at a time)',
          'commonest class (share)',
          'same prediction as batched',
        ],
        rows: results.map((r) => [
          r.choice.label,
          formatPercent(r.batchedAccuracy, 2),
          formatPercent(r.singleAccuracy, 2),
          r.singleDistinctClasses,
          `${r.singleCommonestClass} (${formatPercent(r.singleCommonestShare)})`,
          formatPercent(r.singleAgreement, 2),
        ]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'accuracy',
        caption: 'Test accuracy of one trained BN network under each choice of inference statistics, in batches and one example at a time.',
        spec: barChartSpec({
          title: 'Inference statistics: test accuracy',
          xTitle: 'statistics used at inference',
          yTitle: 'test accuracy',
          yDomain: [0, 1],
          barWidth: 50,
          bars: results.flatMap((r) => [
            { category: r.choice.shortLabel, group: `batches of ${budget.evalBatchSize}`, value: r.batchedAccuracy },
            { category: r.choice.shortLabel, group: 'one example at a time', value: r.singleAccuracy },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
