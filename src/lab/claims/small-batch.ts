/**
 * @file Claim `small-batch`: Wu & He (2018, "Group Normalization", Figure 1) at MNIST scale. Final
 * validation accuracy against the batch size (2 to 128) for no norm, BN, Batch Renorm, Ghost BN,
 * Layer Norm and Group Norm, every run seeing the same number of training examples with the
 * learning rate scaled linearly with the batch, over several seeds.
 */
import { MLP } from '../../nn/mlp.js';
import type { NormKind } from '../../nn/spec.js';
import { resolveTrainConfig, specFromConfig } from '../../train/config.js';
import { errorLineChartSpec } from '../charts/error-line-chart.js';
import { withBnName, withBrnName, withGhostName, withGnName, withLnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, headOf, initialWeightsFor, type NetworkChoice, trainForClaim } from './experiment-kit.js';
import { clearlyAbove, formatPercentMeanStd, type MeanStd, meanStd, noiseOf } from './seed-statistics.js';

export interface SmallBatchBudget {
  network: NetworkChoice;
  /** The learning rate at batch `referenceBatch`; at batch m it is baseLearningRate·m/referenceBatch. */
  baseLearningRate: number;
  referenceBatch: number;
  batchSizes: number[];
  /** Training examples every run sees: steps = examplesSeen / m. */
  examplesSeen: number;
  validationCount: number;
  /** Group Norm's groups (they must divide the hidden width). */
  groups: number;
  /** Ghost BN's virtual batch: min(m, this). */
  ghostBatch: number;
  seeds: number;
}

const SMALL_BATCH_FULL: SmallBatchBudget = {
  network: { hiddenSizes: [64, 64, 64], activation: 'relu', initStd: 0.05 },
  baseLearningRate: 0.1,
  referenceBatch: 32,
  batchSizes: [2, 4, 8, 16, 32, 64, 128],
  examplesSeen: 30000,
  validationCount: 5000,
  groups: 16,
  ghostBatch: 16,
  seeds: 3,
};

export const SMALL_BATCH_QUICK: SmallBatchBudget = { ...SMALL_BATCH_FULL, batchSizes: [2, 8, 32, 128], examplesSeen: 8000, validationCount: 2000 };

export const SMALL_BATCH_NORMS: ReadonlyArray<{ norm: NormKind; name: string; batchFree: boolean }> = [
  { norm: 'none', name: withoutBnName, batchFree: true },
  { norm: 'bn', name: withBnName, batchFree: false },
  { norm: 'brn', name: withBrnName, batchFree: false },
  { norm: 'ghost', name: withGhostName, batchFree: false },
  { norm: 'ln', name: withLnName, batchFree: true },
  { norm: 'gn', name: withGnName, batchFree: true },
];

export const smallBatchClaim: Claim = {
  name: 'small-batch',
  title: 'BN loses accuracy as the batch shrinks; batch-free norms hold (Wu & He 2018)',
  description: 'final accuracy vs batch size 2-128 for none, BN, Batch Renorm, Ghost BN, LN, GN: same examples seen, linear learning-rate scaling, 3 seeds',
  articleSays:
    'The article trains with batches of 60 and normalizes with each batch\'s statistics. Wu & He (2018, "Group Normalization", Figure 1) show BN\'s error climbing as the batch per GPU shrinks ' +
    "(ResNet-50 on ImageNet: 23.6% top-1 error at 32 images, 34.7% at 2) while Group Norm, whose statistics are each example's own, stays at 24.1% at every batch size.",
  run: (context) => runSmallBatch(context, context.quick ? SMALL_BATCH_QUICK : SMALL_BATCH_FULL),
};

export async function runSmallBatch(context: ClaimContext, budget: SmallBatchBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data } = context;
  const validation = headOf(data.validation, budget.validationCount);
  const seeds = Array.from({ length: budget.seeds }, (_, s) => context.seed + s);
  const learningRateAt = (m: number): number => (budget.baseLearningRate * m) / budget.referenceBatch;
  // accuracy[norm][batch][seed]
  const accuracy = SMALL_BATCH_NORMS.map(() => budget.batchSizes.map(() => [] as number[]));
  for (const seed of seeds) {
    const weights = initialWeightsFor(budget.network, seed);
    for (const [b, m] of budget.batchSizes.entries()) {
      const steps = Math.round(budget.examplesSeen / m);
      for (const [k, { norm, name }] of SMALL_BATCH_NORMS.entries()) {
        context.onProgress?.(`small-batch: seed ${seed}, batch ${m}, ${name}, ${steps} steps`);
        const config = resolveTrainConfig({
          norm,
          steps,
          batchSize: m,
          learningRate: learningRateAt(m),
          seed,
          hiddenSizes: budget.network.hiddenSizes,
          activation: budget.network.activation,
          initStd: budget.network.initStd,
          normGroups: budget.groups,
          ghostBatch: Math.min(m, budget.ghostBatch),
        });
        const net = new MLP(kernels, specFromConfig(config, 784, 10), weights);
        await trainForClaim(net, data, { steps, batchSize: m, learningRate: learningRateAt(m), seed });
        accuracy[k]![b]!.push(accuracyOn(net, validation));
      }
    }
  }
  const smallest = 0,
    largest = budget.batchSizes.length - 1;
  const stats = accuracy.map((byBatch) => byBatch.map((values) => meanStd(values)));
  // Per seed, accuracy at the largest batch minus at the smallest: what shrinking the batch costs.
  const drops = accuracy.map((byBatch) => meanStd(byBatch[largest]!.map((a, s) => a - byBatch[smallest]![s]!)));
  const at = (norm: NormKind): number => SMALL_BATCH_NORMS.findIndex((n) => n.norm === norm);
  const bnDrop = drops[at('bn')]!;
  const zero: MeanStd = { mean: 0, std: 0, n: budget.seeds };
  const bnLoses = clearlyAbove(bnDrop, zero);
  const batchFree = ['ln', 'gn'] as const;
  const holdBetter = batchFree.map((norm) => clearlyAbove(bnDrop, drops[at(norm)]!));
  const holds = bnLoses && holdBetter.every(Boolean);
  const mSmall = budget.batchSizes[smallest]!,
    mLarge = budget.batchSizes[largest]!;
  const points = (fraction: number): string => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}`;
  // The change from the largest batch to the smallest (negative: accuracy lost by shrinking the batch).
  const changeText = (k: number): string => `${points(-drops[k]!.mean)} ± ${(drops[k]!.std * 100).toFixed(1)} points`;

  const lines = [
    `784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, std ${budget.network.initStd}; ${budget.examplesSeen} examples per run, lr ${budget.baseLearningRate}·m/${budget.referenceBatch}; GN ${budget.groups} groups, Ghost BN virtual batch min(m, ${budget.ghostBatch}); ${budget.seeds} seeds (mean ± std)`,
    ...SMALL_BATCH_NORMS.map(
      ({ name }, k) =>
        `${name.padEnd(14)} ${budget.batchSizes.map((m, b) => `m=${m} ${formatPercentMeanStd(stats[k]![b]!, 1)}`).join(', ')}; from m=${mLarge} to m=${mSmall}: ${changeText(k)}`,
    ),
  ];
  const verdictText = holds
    ? `holds: going from batch ${mLarge} down to ${mSmall}, BN's validation accuracy changes by ${changeText(at('bn'))}, Layer Norm's by ${changeText(at('ln'))} and Group Norm's by ${changeText(at('gn'))} (BN's loss is larger beyond the noise than both); ` +
      `Batch Renorm ${changeText(at('brn'))}, Ghost BN ${changeText(at('ghost'))}, no norm ${changeText(at('none'))}. At batch ${mSmall}: BN ${formatPercentMeanStd(stats[at('bn')]![smallest]!, 1)}, LN ${formatPercentMeanStd(stats[at('ln')]![smallest]!, 1)}, GN ${formatPercentMeanStd(stats[at('gn')]![smallest]!, 1)}.`
    : `not shown: from batch ${mLarge} down to ${mSmall} BN's accuracy changes by ${changeText(at('bn'))}${bnLoses ? '' : ' (not a loss beyond the noise)'}, Layer Norm's by ${changeText(at('ln'))}${holdBetter[0] ? '' : ` (BN's loss is not larger beyond the noise ±${(noiseOf(bnDrop, drops[at('ln')]!) * 100).toFixed(1)})`}, ` +
      `Group Norm's by ${changeText(at('gn'))}${holdBetter[1] ? '' : ` (BN's loss is not larger beyond the noise ±${(noiseOf(bnDrop, drops[at('gn')]!) * 100).toFixed(1)})`}; Batch Renorm ${changeText(at('brn'))}, Ghost BN ${changeText(at('ghost'))}, no norm ${changeText(at('none'))}.`;
  return {
    name: smallBatchClaim.name,
    title: smallBatchClaim.title,
    articleSays: smallBatchClaim.articleSays,
    method:
      `For each batch size m ∈ {${budget.batchSizes.join(', ')}} and each norm, a network 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²), the same initial weights for every norm and batch of a seed) ` +
      `trained on ${budget.examplesSeen} examples (${budget.examplesSeen}/m SGD steps) with the learning rate scaled linearly with the batch, ${budget.baseLearningRate}·m/${budget.referenceBatch} (Goyal et al.'s rule, which Wu & He use: the same step per example at every m). ` +
      `Batch Renorm with the paper's rmax 3, dmax 5 and its schedule scaled to each run (bnlab's default); Ghost BN with virtual batches of min(m, ${budget.ghostBatch}) (at m ≤ ${budget.ghostBatch} it is BN); Group Norm with ${budget.groups} groups of ${budget.network.hiddenSizes[0]! / budget.groups} units (Wu & He's 4 channels per group at the article's width). ` +
      `Accuracy on the first ${validation.count} validation images in inference mode (moving averages for the batch norms), seeds ${seeds.join(', ')}. ` +
      `The verdict takes per seed the accuracy at batch ${mLarge} minus at batch ${mSmall}: BN's must be a loss beyond the noise and larger, beyond the noise, than Layer Norm's and Group Norm's (noise: twice the standard error of the difference over seeds).` +
      `${context.quick ? ' Quick budget: fewer batch sizes, examples and validation images than the full run.' : ''}`,
    numbers: Object.fromEntries(
      SMALL_BATCH_NORMS.flatMap(({ norm }, k) => [
        ...budget.batchSizes.map((m, b) => [`${norm}@m${m}`, stats[k]![b]!.mean] as const),
        [`${norm}Drop`, drops[k]!.mean] as const,
        [`${norm}DropStd`, drops[k]!.std] as const,
      ]),
    ),
    tables: [
      {
        title: `Validation accuracy after ${budget.examplesSeen} examples, mean ± std over ${budget.seeds} seeds`,
        columns: ['norm', ...budget.batchSizes.map((m) => `m = ${m} (lr ${learningRateAt(m)})`), `m=${mSmall} − m=${mLarge}`],
        rows: SMALL_BATCH_NORMS.map(({ name }, k) => [name, ...budget.batchSizes.map((_, b) => formatPercentMeanStd(stats[k]![b]!, 1)), changeText(k)]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'accuracy',
        caption: `Validation accuracy against the batch size per norm after ${budget.examplesSeen} examples, learning rate ${budget.baseLearningRate}·m/${budget.referenceBatch}, mean ± std over ${budget.seeds} seeds (Wu & He's Figure 1 at MNIST scale).`,
        spec: errorLineChartSpec({
          title: 'Accuracy against batch size, per norm',
          xTitle: 'batch size (log scale)',
          yTitle: 'validation accuracy',
          xScale: 'log',
          xTicks: budget.batchSizes,
          seriesTitle: 'norm',
          panels: [
            {
              title: 'accuracy',
              series: SMALL_BATCH_NORMS.map(({ name }, k) => ({
                name,
                points: budget.batchSizes.map((m, b) => ({ x: m, mean: stats[k]![b]!.mean, std: stats[k]![b]!.std })),
              })),
            },
          ],
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
