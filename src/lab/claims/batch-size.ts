/**
 * @file Claim `batch-size`: BN's batch statistics are estimates from m examples, so BN needs a
 * batch large enough for them. Final validation accuracy for batch sizes 2 to 60, without and
 * with BN, at a fixed number of examples seen and a fixed learning rate.
 */
import { barChartSpec } from '../charts/bar-chart.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, formatPercent, headOf, type NetworkChoice, networkPair, trainForClaim } from './experiment-kit.js';

export interface BatchSizeBudget {
  network: NetworkChoice;
  learningRate: number;
  batchSizes: number[];
  /** Training examples every run sees: steps = examplesSeen / batch size. */
  examplesSeen: number;
  validationCount: number;
}

const BATCH_SIZE_FULL: BatchSizeBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  batchSizes: [2, 4, 8, 16, 60],
  examplesSeen: 60 * 2000,
  validationCount: 5000,
};

export const BATCH_SIZE_QUICK: BatchSizeBudget = { ...BATCH_SIZE_FULL, examplesSeen: 60 * 300, validationCount: 2000 };

/** Below this accuracy a network has failed (chance is 10%). */
const FAILED_BELOW = 0.2;

export const batchSizeClaim: Claim = {
  name: 'batch-size',
  title: 'BN needs a large enough batch',
  description: 'final accuracy for batch sizes 2-60 without and with BN, same examples seen, same learning rate',
  articleSays:
    "BN normalizes with each mini-batch's own mean and variance, estimates of the population statistics (the article trains with batches of 60, as the BN paper does); " +
    'a single example has no variance.',
  run: (context) => runBatchSize(context, context.quick ? BATCH_SIZE_QUICK : BATCH_SIZE_FULL),
};

export interface BatchSizeRun {
  batchSize: number;
  steps: number;
  withoutBn: number;
  withBn: number;
}

export async function runBatchSize(context: ClaimContext, budget: BatchSizeBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const validation = headOf(data.validation, budget.validationCount);
  const runs: BatchSizeRun[] = [];
  for (const batchSize of budget.batchSizes) {
    const steps = Math.round(budget.examplesSeen / batchSize);
    const { withoutBn, withBn } = networkPair(kernels, budget.network, seed);
    const accuracies: number[] = [];
    for (const [label, net] of [
      [withoutBnName, withoutBn],
      [withBnName, withBn],
    ] as const) {
      context.onProgress?.(`batch-size: batch ${batchSize}, ${label}, ${steps} steps`);
      await trainForClaim(net, data, { steps, batchSize, learningRate: budget.learningRate, seed });
      accuracies.push(accuracyOn(net, validation));
    }
    runs.push({ batchSize, steps, withoutBn: accuracies[0]!, withBn: accuracies[1]! });
  }
  const { holds, smallest, largest, failedWithoutBn } = compareBatchSizes(runs);
  const failedNote =
    failedWithoutBn.length === 0
      ? ''
      : ` (at batch ${failedWithoutBn.map((run) => run.batchSize).join(', ')} the network without BN fails too, ${failedWithoutBn.map((run) => formatPercent(run.withoutBn)).join(', ')}, so the comparison starts at batch ${smallest.batchSize})`;

  const lines = [
    `784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, std ${budget.network.initStd}, learning rate ${budget.learningRate} for every batch size, ${budget.examplesSeen} training examples seen per run`,
    ...runs.map(
      (run) =>
        `batch ${String(run.batchSize).padEnd(3)} (${run.steps} steps): without BN ${formatPercent(run.withoutBn, 2)}, with BN ${formatPercent(run.withBn, 2)}, BN gain ${signedPercent(gain(run))}`,
    ),
  ];
  return {
    name: batchSizeClaim.name,
    title: batchSizeClaim.title,
    articleSays: batchSizeClaim.articleSays,
    method:
      `For each batch size m ∈ {${budget.batchSizes.join(', ')}}: networks 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) without and with BN from the same weights, ` +
      `trained on ${budget.examplesSeen} examples (${budget.examplesSeen}/m SGD steps) at a fixed learning rate ${budget.learningRate} (not scaled with m); ` +
      `accuracy on the first ${validation.count} validation images, BN with its moving averages. The verdict compares BN's gain at batch ${budget.batchSizes.at(-1)} with its gain at the smallest batch ` +
      `where the network without BN trains (accuracy ≥ ${FAILED_BELOW * 100}%; below that it has failed and the gain says nothing about BN).` +
      `${context.quick ? ' Quick budget: fewer examples seen than the full run.' : ''}`,
    numbers: Object.fromEntries(
      runs.flatMap((run) => [
        [`withoutBn@m${run.batchSize}`, run.withoutBn],
        [`withBn@m${run.batchSize}`, run.withBn],
      ]),
    ),
    tables: [
      {
        title: `Validation accuracy after ${budget.examplesSeen} examples`,
        columns: ['batch size', 'steps', withoutBnName, withBnName, 'BN gain'],
        rows: runs.map((run) => [run.batchSize, run.steps, formatPercent(run.withoutBn, 2), formatPercent(run.withBn, 2), signedPercent(gain(run))]),
      },
    ],
    verdict: {
      holds,
      text: holds
        ? `holds: BN's gain over the network without BN is ${signedPercent(gain(largest))} at batch ${largest.batchSize} but ${signedPercent(gain(smallest))} at batch ${smallest.batchSize}: its batch statistics need enough examples${failedNote}.`
        : `not shown: BN's gain is ${signedPercent(gain(smallest))} at batch ${smallest.batchSize} and ${signedPercent(gain(largest))} at batch ${largest.batchSize}${failedNote}.`,
    },
    figures: [
      {
        name: 'accuracy',
        caption: `Validation accuracy per batch size after ${budget.examplesSeen} training examples at learning rate ${budget.learningRate}, without and with BN.`,
        spec: barChartSpec({
          title: `Accuracy by batch size (${budget.examplesSeen} examples seen, lr ${budget.learningRate})`,
          xTitle: 'batch size',
          yTitle: 'validation accuracy',
          yDomain: [0, 1],
          bars: runs.flatMap((run) => [
            { category: String(run.batchSize), group: withoutBnName, value: run.withoutBn },
            { category: String(run.batchSize), group: withBnName, value: run.withBn },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}

const gain = (run: BatchSizeRun): number => run.withBn - run.withoutBn;

/**
 * The verdict rule: BN's gain (with − without) at the largest batch must exceed its gain at the
 * smallest batch where the network without BN trains. Where that network fails too (small
 * batches at a fixed learning rate can diverge), the gain says nothing about BN.
 */
export function compareBatchSizes(runs: readonly BatchSizeRun[]): {
  holds: boolean;
  smallest: BatchSizeRun;
  largest: BatchSizeRun;
  failedWithoutBn: BatchSizeRun[];
} {
  const largest = runs.at(-1)!;
  const failedWithoutBn = runs.filter((run) => run.withoutBn < FAILED_BELOW);
  const comparable = runs.find((run) => run.withoutBn >= FAILED_BELOW);
  const smallest = comparable ?? runs[0]!;
  return { holds: comparable !== undefined && comparable !== largest && gain(largest) > gain(comparable), smallest, largest, failedWithoutBn };
}

function signedPercent(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)} points`;
}
