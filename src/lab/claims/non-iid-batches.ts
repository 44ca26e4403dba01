/**
 * @file Claim `non-iid-batches`: Ioffe (2017, "Batch Renormalization", Section 5.2). Batches of
 * only a few classes at a time (2 classes × 30 images) against i.i.d. batches of 60, for BN and
 * Batch Renorm (and no norm for reference), from the same weights, evaluated on the normal test
 * set. In training BN normalizes with a 2-class batch's statistics; at inference with population
 * statistics of all ten classes, so what the network learned does not hold at test time; Batch
 * Renorm's r and d make training use the population statistics' view of each example.
 */
import { Rng } from '../../core/rng.js';
import type { Split } from '../../data/mnist.js';
import { MLP } from '../../nn/mlp.js';
import type { NormKind } from '../../nn/spec.js';
import { resolveTrainConfig, specFromConfig } from '../../train/config.js';
import { deriveSeed } from '../../train/seeds.js';
import { runToEnd, TrainingRun } from '../../train/trainer.js';
import { barChartSpec } from '../charts/bar-chart.js';
import { withBnName, withBrnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, headOf, initialWeightsFor, type NetworkChoice } from './experiment-kit.js';
import { clearlyAbove, formatPercentMeanStd, type MeanStd, meanStd, noiseOf } from './seed-statistics.js';

export interface NonIidBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  /** A non-i.i.d. batch: `classesPerBatch` classes × `perClass` images; the i.i.d. batch has as many. */
  classesPerBatch: number;
  perClass: number;
  testCount: number;
  seeds: number;
}

const NON_IID_FULL: NonIidBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  steps: 2000,
  classesPerBatch: 2,
  perClass: 30,
  testCount: 10000,
  seeds: 3,
};

export const NON_IID_QUICK: NonIidBudget = { ...NON_IID_FULL, steps: 400, testCount: 5000 };

const NORMS: ReadonlyArray<{ norm: NormKind; name: string }> = [
  { norm: 'none', name: withoutBnName },
  { norm: 'bn', name: withBnName },
  { norm: 'brn', name: withBrnName },
];

export const nonIidBatchesClaim: Claim = {
  name: 'non-iid-batches',
  title: 'BN fails on batches that are not i.i.d.; Batch Renorm recovers (Ioffe 2017)',
  description: 'batches of 2 classes × 30 vs i.i.d. batches of 60, BN vs Batch Renorm (rmax 3, dmax 5), accuracy on the normal test set, 3 seeds',
  articleSays:
    "The article's BN normalizes with each mini-batch's statistics, which assumes batches drawn i.i.d. from the data, and infers with population statistics. " +
    'Ioffe (2017, "Batch Renormalization", Section 5.2 and Figure 2) trains on non-i.i.d. batches (images of few classes per batch): BN\'s test accuracy falls far below the i.i.d. run because training and inference normalize differently, ' +
    'and Batch Renorm (r, d clipped to rmax 3, dmax 5) recovers most of it.',
  run: (context) => runNonIidBatches(context, context.quick ? NON_IID_QUICK : NON_IID_FULL),
};

/**
 * The training split reordered into consecutive blocks of `classes` × `perClass` examples, each
 * block `classes` distinct classes drawn at random among those with examples left: read in file
 * order, batches of classes·perClass are non-i.i.d. Views of nothing: a copy of the chosen rows.
 */
export function classBlockSplit(split: Split, classes: number, perClass: number, rng: Rng): Split {
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < split.count; i++) byClass[split.labels[i]!]!.push(i);
  for (const indices of byClass) rng.shuffle(indices);
  const order: number[] = [];
  for (;;) {
    const open = byClass.map((indices, c) => (indices.length >= perClass ? c : -1)).filter((c) => c >= 0);
    if (open.length < classes) break;
    rng.shuffle(open);
    for (const c of open.slice(0, classes)) order.push(...byClass[c]!.splice(0, perClass));
  }
  const { width } = split;
  const pixels = new Uint8Array(order.length * width);
  const labels = new Uint8Array(order.length);
  order.forEach((source, i) => {
    pixels.set(split.pixels.subarray(source * width, (source + 1) * width), i * width);
    labels[i] = split.labels[source]!;
  });
  return { pixels, labels, count: order.length, width };
}

export async function runNonIidBatches(context: ClaimContext, budget: NonIidBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data } = context;
  const test = headOf(data.test, budget.testCount);
  const batchSize = budget.classesPerBatch * budget.perClass;
  const seeds = Array.from({ length: budget.seeds }, (_, s) => context.seed + s);
  // accuracy[norm][iid 0 | non-iid 1][seed]
  const accuracy = NORMS.map(() => [[], []] as number[][]);
  let blockCount = 0;
  for (const seed of seeds) {
    const weights = initialWeightsFor(budget.network, seed);
    const blocks = classBlockSplit(data.train, budget.classesPerBatch, budget.perClass, new Rng(deriveSeed(seed, 'experiment')));
    blockCount = blocks.count / batchSize;
    for (const [k, { norm, name }] of NORMS.entries()) {
      for (const iid of [true, false]) {
        context.onProgress?.(`non-iid-batches: seed ${seed}, ${name}, ${iid ? 'i.i.d.' : 'non-i.i.d.'} batches, ${budget.steps} steps`);
        // i.i.d.: TensorFlow's shuffled batches; non-i.i.d.: the class blocks in order (no shuffle), each batch one block.
        const config = resolveTrainConfig({
          norm,
          steps: budget.steps,
          batchSize,
          learningRate: budget.learningRate,
          seed,
          shuffle: iid,
          stopOnDivergence: false,
          hiddenSizes: budget.network.hiddenSizes,
          activation: budget.network.activation,
          initStd: budget.network.initStd,
        });
        const net = new MLP(kernels, specFromConfig(config, 784, 10), weights);
        await runToEnd(new TrainingRun(net, iid ? data : { ...data, train: blocks }, config, {}, { validate: false }));
        accuracy[k]![iid ? 0 : 1]!.push(accuracyOn(net, test));
      }
    }
  }
  const stats = accuracy.map(([iid, nonIid]) => ({ iid: meanStd(iid!), nonIid: meanStd(nonIid!), gap: meanStd(iid!.map((a, s) => a - nonIid![s]!)) }));
  const [none, bn, brn] = stats as [(typeof stats)[0], (typeof stats)[0], (typeof stats)[0]];
  const zero: MeanStd = { mean: 0, std: 0, n: budget.seeds };
  const bnHurt = clearlyAbove(bn.gap, zero);
  const brnRecovers = clearlyAbove(brn.nonIid, bn.nonIid);
  const holds = bnHurt && brnRecovers;
  const closed = (bn.gap.mean - brn.gap.mean) / bn.gap.mean;
  const pts = (v: MeanStd): string => `${(v.mean * 100).toFixed(1)} ± ${(v.std * 100).toFixed(1)} points`;

  const lines = [
    `784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, std ${budget.network.initStd}, lr ${budget.learningRate}, ${budget.steps} steps of ${batchSize}: i.i.d. batches vs ${budget.classesPerBatch} classes × ${budget.perClass} per batch (${blockCount} such batches per epoch); test accuracy on ${test.count} images, ${budget.seeds} seeds`,
    ...NORMS.map(
      ({ name }, k) =>
        `${name.padEnd(11)} i.i.d. ${formatPercentMeanStd(stats[k]!.iid)}, non-i.i.d. ${formatPercentMeanStd(stats[k]!.nonIid)}, lost ${pts(stats[k]!.gap)}`,
    ),
  ];
  const verdictText = holds
    ? `holds: with batches of ${budget.classesPerBatch} classes BN's test accuracy falls from ${formatPercentMeanStd(bn.iid)} to ${formatPercentMeanStd(bn.nonIid)} (${pts(bn.gap)} lost), while Batch Renorm reaches ${formatPercentMeanStd(brn.nonIid)} on the same batches ` +
      `(i.i.d. ${formatPercentMeanStd(brn.iid)}): it closes ${(closed * 100).toFixed(0)}% of BN's gap${clearlyAbove(brn.gap, zero) ? ', not all of it' : ', to within the noise'}. Without a norm: ${formatPercentMeanStd(none.iid)} i.i.d., ${formatPercentMeanStd(none.nonIid)} non-i.i.d.`
    : `not shown: BN ${formatPercentMeanStd(bn.iid)} i.i.d. vs ${formatPercentMeanStd(bn.nonIid)} non-i.i.d.${bnHurt ? '' : ' (no loss beyond the noise)'}; Batch Renorm ${formatPercentMeanStd(brn.iid)} vs ${formatPercentMeanStd(brn.nonIid)}` +
      `${brnRecovers ? '' : ` (not above BN's non-i.i.d. accuracy beyond the noise ±${(noiseOf(brn.nonIid, bn.nonIid) * 100).toFixed(1)} points)`}; without a norm ${formatPercentMeanStd(none.iid)} vs ${formatPercentMeanStd(none.nonIid)}.`;
  return {
    name: nonIidBatchesClaim.name,
    title: nonIidBatchesClaim.title,
    articleSays: nonIidBatchesClaim.articleSays,
    method:
      `Networks 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) without a norm, with BN and with Batch Renorm (the paper's rmax 3, dmax 5, its schedule scaled to the run: warm-up ${((5 / 80) * 100).toFixed(0)}% of the steps, dmax reached at ${((25 / 80) * 100).toFixed(0)}%, rmax at 50%), ` +
      `from the same weights per seed, ${budget.steps} SGD steps of ${batchSize} at learning rate ${budget.learningRate}, on the one training loop. I.i.d.: TensorFlow's shuffled batches. ` +
      `Non-i.i.d.: the training split reordered (seeded) into blocks of ${budget.classesPerBatch} distinct random classes × ${budget.perClass} images, read in order, so every batch holds only ${budget.classesPerBatch} classes (the paper uses ImageNet batches of few classes; after one epoch the same blocks come again). ` +
      `Test accuracy on the first ${test.count} test images in inference mode (moving averages), seeds ${seeds.join(', ')}. ` +
      "The verdict needs BN's i.i.d. − non-i.i.d. gap to be a loss beyond the noise and Batch Renorm's non-i.i.d. accuracy to exceed BN's beyond the noise (twice the standard error of the difference over seeds)." +
      `${context.quick ? ' Quick budget: fewer steps and test images than the full run.' : ''}`,
    numbers: Object.fromEntries(
      NORMS.flatMap(({ norm }, k) => [
        [`${norm}Iid`, stats[k]!.iid.mean],
        [`${norm}NonIid`, stats[k]!.nonIid.mean],
        [`${norm}Gap`, stats[k]!.gap.mean],
        [`${norm}GapStd`, stats[k]!.gap.std],
      ]),
    ),
    tables: [
      {
        title: `Test accuracy, mean ± std over ${budget.seeds} seeds`,
        columns: ['norm', 'i.i.d. batches', `${budget.classesPerBatch} classes per batch`, 'lost'],
        rows: NORMS.map(({ name }, k) => [name, formatPercentMeanStd(stats[k]!.iid), formatPercentMeanStd(stats[k]!.nonIid), pts(stats[k]!.gap)]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'accuracy',
        caption: `Test accuracy after training on i.i.d. batches and on batches of ${budget.classesPerBatch} classes × ${budget.perClass}, per norm (mean ± std over ${budget.seeds} seeds).`,
        spec: barChartSpec({
          title: 'Non-i.i.d. batches: test accuracy',
          xTitle: 'norm',
          yTitle: 'test accuracy',
          yDomain: [0, 1],
          barWidth: 50,
          bars: NORMS.flatMap(({ name }, k) => [
            { category: name, group: 'i.i.d. batches', value: stats[k]!.iid.mean, std: stats[k]!.iid.std },
            { category: name, group: `${budget.classesPerBatch} classes per batch`, value: stats[k]!.nonIid.mean, std: stats[k]!.nonIid.std },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
