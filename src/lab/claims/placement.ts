/**
 * @file Claim `placement`: BN before the activation (the BN paper's and the article's act(BN(xW)))
 * against BN after it (BN(act(xW + b)), the question of keras-team/keras#1802 and many forum
 * threads), over the article's eight configurations, from the same weights on the same batches,
 * over several seeds: a verdict per configuration.
 */
import { MLP } from '../../nn/mlp.js';
import { makeSpec } from '../../nn/spec.js';
import { ARTICLE_CONFIGURATIONS, type ArticleConfiguration } from '../article.js';
import { barChartSpec } from '../charts/bar-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, headOf, initialWeightsFor, type NetworkChoice, trainForClaim } from './experiment-kit.js';
import { clearlyAbove, formatPercentMeanStd, type MeanStd, meanStd, noiseOf } from './seed-statistics.js';

export interface PlacementBudget {
  hiddenSizes: number[];
  steps: number;
  batchSize: number;
  /** Validation is measured this many times over the run; the accuracy is the mean of the second half's. */
  checkpoints: number;
  validationCount: number;
  seeds: number;
  configurations: readonly ArticleConfiguration[];
}

const PLACEMENT_FULL: PlacementBudget = {
  hiddenSizes: [128, 128, 128],
  steps: 1500,
  batchSize: 60,
  checkpoints: 10,
  validationCount: 2000,
  seeds: 3,
  configurations: ARTICLE_CONFIGURATIONS,
};

export const PLACEMENT_QUICK: PlacementBudget = { ...PLACEMENT_FULL, steps: 400, validationCount: 1000 };

/** Below this accuracy a network has failed (chance is 10%). */
const FAILED_BELOW = 0.2;

export const placementClaim: Claim = {
  name: 'placement',
  title: 'BN before or after the activation, per configuration of the article',
  description: "act(BN(xW)) vs BN(act(xW + b)) over the article's eight configurations, 3 seeds, a verdict per configuration",
  articleSays:
    "The article, after the BN paper, puts BN between the linear layer and the activation: act(BN(xW)), so that BN controls the activation's input (against saturation). " +
    'Practitioners ask whether after the activation is better (keras-team/keras#1802 and many forum threads); the BN paper gives no comparison.',
  run: (context) => runPlacement(context, context.quick ? PLACEMENT_QUICK : PLACEMENT_FULL),
};

export type PlacementOutcome = 'before' | 'after' | 'inside the noise' | 'both fail';

interface PlacementRow {
  configuration: ArticleConfiguration;
  pre: MeanStd;
  post: MeanStd;
  outcome: PlacementOutcome;
}

/** Which placement wins a configuration: beyond the noise, or neither; where both fail, nothing is decided. */
export function placementOutcome(pre: MeanStd, post: MeanStd): PlacementOutcome {
  if (pre.mean < FAILED_BELOW && post.mean < FAILED_BELOW) return 'both fail';
  if (clearlyAbove(pre, post)) return 'before';
  if (clearlyAbove(post, pre)) return 'after';
  return 'inside the noise';
}

export async function runPlacement(context: ClaimContext, budget: PlacementBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data } = context;
  const validation = headOf(data.validation, budget.validationCount);
  const every = Math.max(1, Math.round(budget.steps / budget.checkpoints));
  const seeds = Array.from({ length: budget.seeds }, (_, s) => context.seed + s);
  const rows: PlacementRow[] = [];
  for (const configuration of budget.configurations) {
    const choice: NetworkChoice = { hiddenSizes: budget.hiddenSizes, activation: configuration.activation, initStd: configuration.initStd };
    const accuracies = { pre: [] as number[], post: [] as number[] };
    for (const seed of seeds) {
      const weights = initialWeightsFor(choice, seed);
      for (const placement of ['pre', 'post'] as const) {
        context.onProgress?.(`placement: model ${configuration.id}, seed ${seed}, BN ${placement === 'pre' ? 'before' : 'after'} the activation`);
        const net = new MLP(
          kernels,
          makeSpec({ hiddenSizes: budget.hiddenSizes, activation: configuration.activation, norm: 'bn', batchNorm: true, placement }),
          weights,
        );
        const secondHalf: number[] = [];
        await trainForClaim(net, data, {
          steps: budget.steps,
          batchSize: budget.batchSize,
          learningRate: configuration.learningRate,
          seed,
          checkpointEvery: every,
          onCheckpoint: (step) => {
            if (step >= budget.steps / 2) secondHalf.push(accuracyOn(net, validation));
          },
        });
        // A diverged network predicts class 0 (argmax of NaN logits): its accuracy says it failed.
        accuracies[placement].push(secondHalf.reduce((a, b) => a + b, 0) / secondHalf.length);
      }
    }
    const pre = meanStd(accuracies.pre),
      post = meanStd(accuracies.post);
    rows.push({ configuration, pre, post, outcome: placementOutcome(pre, post) });
  }
  const count = (outcome: PlacementOutcome): number => rows.filter((r) => r.outcome === outcome).length;
  const holds = count('after') === 0;
  const label = (c: ArticleConfiguration): string => `model ${c.id} (std ${c.initStd}, lr ${c.learningRate}, ${c.activation})`;
  const difference = (r: PlacementRow): string => `${((r.pre.mean - r.post.mean) * 100).toFixed(1)} ± ${(noiseOf(r.pre, r.post) * 100).toFixed(1)} points`;
  const lines = [
    `784-${budget.hiddenSizes.join('-')}-10 with BN, ${budget.steps} steps of ${budget.batchSize} per configuration, ${budget.seeds} seeds; accuracy = mean validation accuracy (${validation.count} images) over the second half's checkpoints`,
    ...rows.map(
      (r) =>
        `${label(r.configuration).padEnd(38)} before ${formatPercentMeanStd(r.pre, 1)}, after ${formatPercentMeanStd(r.post, 1)}: ${r.outcome === 'before' || r.outcome === 'after' ? `BN ${r.outcome} the activation is better` : r.outcome} (before − after ${difference(r)})`,
    ),
  ];
  const summary = `before the activation wins ${count('before')}, after wins ${count('after')}, inside the noise ${count('inside the noise')}, both fail ${count('both fail')} of ${rows.length} configurations`;
  const verdictText = holds
    ? `holds: the article's placement is never beaten beyond the noise: ${summary} (${
        rows
          .filter((r) => r.outcome === 'before')
          .map((r) => `model ${r.configuration.id} +${difference(r)}`)
          .join(', ') || 'no clear win either way'
      }).`
    : `not shown: BN after the activation is better beyond the noise in ${rows
        .filter((r) => r.outcome === 'after')
        .map((r) => `model ${r.configuration.id} (before − after ${difference(r)})`)
        .join(', ')}; ${summary}.`;
  return {
    name: placementClaim.name,
    title: placementClaim.title,
    articleSays: placementClaim.articleSays,
    method:
      `For each of the article's eight configurations (initial std, learning rate, activation): networks 784-${budget.hiddenSizes.join('-')}-10 with BN before the activation, act(BN(xW)) without hidden bias, and after it, BN(act(xW + b)) with the bias (the activation no longer follows BN), ` +
      `from the same N(0, std²) weights on the same batches, ${budget.steps} SGD steps of ${budget.batchSize} at the configuration's learning rate, seeds ${seeds.join(', ')}. ` +
      `Accuracy: the mean validation accuracy on the first ${validation.count} validation images (inference mode, moving averages) over the checkpoints of the second half of the run (every ${every} steps), less noisy than the last one alone. ` +
      `Per configuration, one placement wins when its mean exceeds the other's by more than twice the standard error of the difference over seeds; where both stay below ${FAILED_BELOW * 100}% both failed. ` +
      "The claim's verdict: the article's placement (before) is not beaten beyond the noise in any configuration." +
      `${context.quick ? ' Quick budget: fewer steps and validation images than the full run.' : ''}`,
    numbers: Object.fromEntries(
      rows.flatMap((r) => [
        [`pre@model${r.configuration.id}`, r.pre.mean],
        [`post@model${r.configuration.id}`, r.post.mean],
        [`outcome@model${r.configuration.id}`, r.outcome],
      ]),
    ),
    tables: [
      {
        title: `Validation accuracy (second half of ${budget.steps} steps), mean ± std over ${budget.seeds} seeds`,
        columns: ['model', 'init std', 'lr', 'activation', 'BN before', 'BN after', 'before − after (± noise)', 'verdict'],
        rows: rows.map((r) => [
          r.configuration.id,
          r.configuration.initStd,
          r.configuration.learningRate,
          r.configuration.activation,
          formatPercentMeanStd(r.pre, 1),
          formatPercentMeanStd(r.post, 1),
          difference(r),
          r.outcome,
        ]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'accuracy',
        caption: `Validation accuracy with BN before and after the activation, per configuration of the article (mean ± std over ${budget.seeds} seeds, ${budget.steps} steps).`,
        spec: barChartSpec({
          title: 'BN before vs after the activation, per configuration',
          xTitle: "model (the article's configuration)",
          yTitle: 'validation accuracy',
          yDomain: [0, 1],
          barWidth: 22,
          bars: rows.flatMap((r) => [
            { category: `model ${r.configuration.id}`, group: 'BN before the activation', value: r.pre.mean, std: r.pre.std },
            { category: `model ${r.configuration.id}`, group: 'BN after the activation', value: r.post.mean, std: r.post.std },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
