/**
 * @file Claim `smoothness`: Santurkar et al. (2018), Figure 4. At regular steps of training, the
 * networks without and with BN (same initial weights, same batches) are moved along their
 * gradient over a range of step sizes; the range of the loss values (the loss landscape), the ℓ2
 * change of the gradient ("gradient predictiveness") and the largest ‖Δgradient‖ / ‖Δweights‖
 * ("effective β-smoothness") are recorded, over several seeds.
 */

import { Rng } from '../../core/rng.js';
import type { MLP } from '../../nn/mlp.js';
import { deriveSeed } from '../../train/seeds.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import { type BandSeries, bandChartSpec } from './band-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { elapsedSince, formatNumber, type NetworkChoice, networkPair, trainForClaim } from './experiment-kit.js';
import { copyParameters, distance, loadBatch, lossAndGradient, moveAlong, restoreParameters, withStatisticsKept } from './landscape-kit.js';
import { clearlyAbove, formatMeanStd, type MeanStd, meanStd, noiseOf } from './seed-statistics.js';

export interface SmoothnessBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  checkpointEvery: number;
  /** Step sizes (absolute) moved along the gradient at each checkpoint. */
  stepSizes: number[];
  seeds: number;
}

const SMOOTHNESS_FULL: SmoothnessBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  steps: 2000,
  batchSize: 60,
  checkpointEvery: 100,
  stepSizes: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4],
  seeds: 3,
};

export const SMOOTHNESS_QUICK: SmoothnessBudget = { ...SMOOTHNESS_FULL, steps: 600, checkpointEvery: 50 };

export const smoothnessClaim: Claim = {
  name: 'smoothness',
  title: 'BN makes the loss landscape smoother (Santurkar et al. 2018)',
  description: "Santurkar et al.'s Figure 4: loss range, gradient change and effective β-smoothness along the gradient, without and with BN",
  articleSays:
    'The article (after the BN paper) says BN works by reducing internal covariate shift. Santurkar et al. (2018, "How Does Batch Normalization Help Optimization?", Figure 4) measure instead that BN makes the loss landscape smoother: ' +
    'along the gradient the loss varies less, the gradient changes less ("gradient predictiveness") and the effective β-smoothness (max ‖Δ∇L‖/‖Δw‖) is lower (VGG on CIFAR-10).',
  run: (context) => runSmoothness(context, context.quick ? SMOOTHNESS_QUICK : SMOOTHNESS_FULL),
};

/** What one checkpoint of one network measured, over the step sizes. */
export interface LandscapePoint {
  step: number;
  loss: number;
  /** ‖∇L(w)‖ over every parameter. */
  gradientNorm: number;
  lossLow: number;
  lossHigh: number;
  gradientChangeLow: number;
  gradientChangeHigh: number;
  /** max over step sizes of ‖∇L(w − η∇L) − ∇L(w)‖ / ‖η∇L(w)‖ */
  beta: number;
  /** ‖Δ∇L‖ / ‖Δw‖ at the smallest and at the largest step size. */
  ratioAtSmallest: number;
  ratioAtLargest: number;
}

/** The three measures of one run, each averaged over its checkpoints. */
interface LandscapeSummary {
  lossRange: number;
  gradientChange: number;
  beta: number;
  /** Mean ‖∇L‖: not a measure of smoothness, but the size of the steps taken along it (‖Δw‖ = η‖∇L‖). */
  gradientNorm: number;
  ratioAtSmallest: number;
  ratioAtLargest: number;
}

/**
 * The landscape of `net` at its current weights on one batch: move every parameter along −∇L by
 * each step size, record loss and gradient there, and put weights and BN estimates back.
 */
export function probeLandscape(net: MLP, x: ReturnType<MLP['inputFor']>, labels: number[], stepSizes: readonly number[], step: number): LandscapePoint {
  return withStatisticsKept(net, () => {
    const saved = copyParameters(net);
    const { loss, gradient } = lossAndGradient(net, x, labels);
    const gradientNorm = Math.sqrt(gradient.reduce((sum, g) => sum + g * g, 0));
    const point: LandscapePoint = {
      step,
      loss,
      gradientNorm,
      lossLow: Infinity,
      lossHigh: -Infinity,
      gradientChangeLow: Infinity,
      gradientChangeHigh: -Infinity,
      beta: 0,
      ratioAtSmallest: NaN,
      ratioAtLargest: NaN,
    };
    for (const eta of stepSizes) {
      moveAlong(net, saved, gradient, eta);
      const moved = lossAndGradient(net, x, labels);
      const change = distance(moved.gradient, gradient);
      point.lossLow = Math.min(point.lossLow, moved.loss);
      point.lossHigh = Math.max(point.lossHigh, moved.loss);
      point.gradientChangeLow = Math.min(point.gradientChangeLow, change);
      point.gradientChangeHigh = Math.max(point.gradientChangeHigh, change);
      const ratio = change / (eta * gradientNorm);
      point.beta = Math.max(point.beta, ratio);
      if (eta === stepSizes[0]) point.ratioAtSmallest = ratio;
      if (eta === stepSizes.at(-1)) point.ratioAtLargest = ratio;
    }
    restoreParameters(net, saved);
    return point;
  });
}

function summarize(points: readonly LandscapePoint[]): LandscapeSummary {
  const mean = (f: (p: LandscapePoint) => number): number => points.reduce((sum, p) => sum + f(p), 0) / points.length;
  return {
    lossRange: mean((p) => p.lossHigh - p.lossLow),
    gradientChange: mean((p) => p.gradientChangeHigh),
    beta: mean((p) => p.beta),
    gradientNorm: mean((p) => p.gradientNorm),
    ratioAtSmallest: mean((p) => p.ratioAtSmallest),
    ratioAtLargest: mean((p) => p.ratioAtLargest),
  };
}

const MEASURES: Array<{ key: keyof LandscapeSummary; label: string }> = [
  { key: 'lossRange', label: 'loss range (max − min along the gradient)' },
  { key: 'gradientChange', label: 'gradient change, max ‖Δ∇L‖' },
  { key: 'beta', label: 'effective β-smoothness, max ‖Δ∇L‖/‖Δw‖' },
];

const EXTRA_MEASURES: Array<{ key: keyof LandscapeSummary }> = [{ key: 'gradientNorm' }, { key: 'ratioAtSmallest' }, { key: 'ratioAtLargest' }];

export async function runSmoothness(context: ClaimContext, budget: SmoothnessBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data } = context;
  const runs: Array<{ seed: number; without: LandscapePoint[]; with: LandscapePoint[] }> = [];
  for (let s = 0; s < budget.seeds; s++) {
    const seed = context.seed + s;
    const { withoutBn, withBn } = networkPair(kernels, budget.network, seed);
    const tracks: LandscapePoint[][] = [];
    for (const [label, net] of [
      [withoutBnName, withoutBn],
      [withBnName, withBn],
    ] as const) {
      context.onProgress?.(`smoothness: seed ${seed}, ${label}, ${budget.steps} steps`);
      // The probe batch of each checkpoint: the same for both networks of a seed.
      const rng = new Rng(deriveSeed(seed, 'experiment'));
      const points: LandscapePoint[] = [];
      await trainForClaim(net, data, {
        steps: budget.steps,
        batchSize: budget.batchSize,
        learningRate: budget.learningRate,
        seed,
        checkpointEvery: budget.checkpointEvery,
        onCheckpoint: (step) => {
          const start = rng.int(data.train.count - budget.batchSize);
          const { x, labels } = loadBatch(net, data.train, start, budget.batchSize);
          points.push(probeLandscape(net, x, labels, budget.stepSizes, step));
        },
      });
      tracks.push(points);
    }
    runs.push({ seed, without: tracks[0]!, with: tracks[1]! });
  }

  const summaries = { without: runs.map((run) => summarize(run.without)), with: runs.map((run) => summarize(run.with)) };
  const stats = Object.fromEntries(
    [...MEASURES, ...EXTRA_MEASURES].map(({ key }) => [
      key,
      {
        without: meanStd(summaries.without.map((s) => s[key])),
        with: meanStd(summaries.with.map((s) => s[key])),
      },
    ]),
  ) as Record<keyof LandscapeSummary, { without: MeanStd; with: MeanStd }>;
  const smoother = MEASURES.map(({ key }) => clearlyAbove(stats[key].without, stats[key].with));
  const holds = smoother.every(Boolean);
  const ratio = (key: keyof LandscapeSummary): string => `${(stats[key].without.mean / stats[key].with.mean).toFixed(1)}×`;
  const describe = ({ key, label }: (typeof MEASURES)[number], k: number): string =>
    `${label}: without BN ${formatMeanStd(stats[key].without)}, with BN ${formatMeanStd(stats[key].with)} (${ratio(key)}${smoother[k] ? '' : `; the difference ${formatNumber(stats[key].without.mean - stats[key].with.mean)} is ${clearlyAbove(stats[key].with, stats[key].without) ? 'higher with BN, beyond' : 'inside'} the noise ±${formatNumber(noiseOf(stats[key].without, stats[key].with))}`})`;

  const checkpoints = runs[0]!.without.length;
  const lines = [
    `784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, std ${budget.network.initStd}, lr ${budget.learningRate}, ${budget.steps} steps of ${budget.batchSize}, ${checkpoints} checkpoints, step sizes ${budget.stepSizes[0]}-${budget.stepSizes.at(-1)} along −∇L, ${budget.seeds} seeds; mean over checkpoints, then mean ± std over seeds:`,
    ...MEASURES.map(describe),
    `gradient norm ‖∇L‖ (the step along it is η‖∇L‖): without BN ${formatMeanStd(stats.gradientNorm.without)}, with BN ${formatMeanStd(stats.gradientNorm.with)}`,
    `‖Δ∇L‖/‖Δw‖ at η = ${budget.stepSizes[0]}: without BN ${formatMeanStd(stats.ratioAtSmallest.without)}, with BN ${formatMeanStd(stats.ratioAtSmallest.with)}; at η = ${budget.stepSizes.at(-1)}: without ${formatMeanStd(stats.ratioAtLargest.without)}, with ${formatMeanStd(stats.ratioAtLargest.with)}`,
  ];
  const betaNote = smoother[2]
    ? ''
    : ` Per unit of distance moved, ‖Δ∇L‖/‖Δw‖ at η = ${budget.stepSizes[0]} is ${formatMeanStd(stats.ratioAtSmallest.without)} without BN and ${formatMeanStd(stats.ratioAtSmallest.with)} with, ` +
      `at η = ${budget.stepSizes.at(-1)} ${formatMeanStd(stats.ratioAtLargest.without)} and ${formatMeanStd(stats.ratioAtLargest.with)}: with BN the gradient changes as fast or faster locally but stops changing over longer moves, ` +
      "so BN's gradient stays predictive over a long step, while its worst-case local curvature is not lower here.";
  const band = (
    name: string,
    points: LandscapePoint[],
    low: (p: LandscapePoint) => number,
    mid: (p: LandscapePoint) => number,
    high: (p: LandscapePoint) => number,
  ): BandSeries => ({ name, points: points.map((p) => ({ x: p.step, low: low(p), mid: mid(p), high: high(p) })) });
  const first = runs[0]!;
  // β-smoothness: the band is its spread over the seeds, the line its mean.
  const betaBand = (name: string, pick: (run: (typeof runs)[number]) => LandscapePoint[]): BandSeries => ({
    name,
    points: pick(first).map((p, i) => {
      const values = runs.map((run) => pick(run)[i]!.beta);
      return { x: p.step, low: Math.min(...values), mid: values.reduce((a, b) => a + b, 0) / values.length, high: Math.max(...values) };
    }),
  });
  return {
    name: smoothnessClaim.name,
    title: smoothnessClaim.title,
    articleSays: smoothnessClaim.articleSays,
    method:
      `Networks 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) without and with BN from the same weights on the same batches, ${budget.steps} SGD steps of ${budget.batchSize} at learning rate ${budget.learningRate}, seeds ${context.seed}-${context.seed + budget.seeds - 1}. ` +
      `Every ${budget.checkpointEvery} steps, on a batch of ${budget.batchSize} training images (the same for both networks), with ∇L the gradient of every parameter (weights, biases, γ, β) in training mode: ` +
      `every parameter is moved to w − η∇L for η ∈ {${budget.stepSizes.join(', ')}} (Santurkar et al.'s step sizes at their learning rate 0.1, which is ours: 0.5× to 4× a training step), and the loss and the gradient are measured there. ` +
      "Recorded per checkpoint: the range of those losses, the largest ‖∇L(w − η∇L) − ∇L(w)‖ (gradient predictiveness: small = predictive) and the largest ‖∇L(w − η∇L) − ∇L(w)‖ / ‖η∇L(w)‖ (effective β-smoothness); weights and BN's estimates are put back after. " +
      'Each measure is averaged over the checkpoints of a run, then mean ± std over seeds; BN is "smoother" on a measure when its mean is lower by more than twice the standard error of the difference. The verdict needs all three.' +
      `${context.quick ? ' Quick budget: fewer steps and checkpoints than the full run.' : ''}`,
    numbers: Object.fromEntries(
      [...MEASURES, ...EXTRA_MEASURES].flatMap(({ key }) => [
        [`${key}WithoutBn`, stats[key].without.mean],
        [`${key}WithoutBnStd`, stats[key].without.std],
        [`${key}WithBn`, stats[key].with.mean],
        [`${key}WithBnStd`, stats[key].with.std],
      ]),
    ),
    tables: [
      {
        title: `Landscape along the gradient, mean over checkpoints, mean ± std over ${budget.seeds} seeds`,
        columns: ['measure', withoutBnName, withBnName, 'without / with', 'BN smoother beyond the noise'],
        rows: [
          ...MEASURES.map(({ key, label }, k) => [
            label,
            formatMeanStd(stats[key].without),
            formatMeanStd(stats[key].with),
            ratio(key),
            smoother[k] ? 'yes' : 'no',
          ]),
          [
            'gradient norm ‖∇L‖ (not a smoothness measure)',
            formatMeanStd(stats.gradientNorm.without),
            formatMeanStd(stats.gradientNorm.with),
            ratio('gradientNorm'),
            '—',
          ],
          [
            `‖Δ∇L‖/‖Δw‖ at η = ${budget.stepSizes[0]}`,
            formatMeanStd(stats.ratioAtSmallest.without),
            formatMeanStd(stats.ratioAtSmallest.with),
            ratio('ratioAtSmallest'),
            '—',
          ],
          [
            `‖Δ∇L‖/‖Δw‖ at η = ${budget.stepSizes.at(-1)}`,
            formatMeanStd(stats.ratioAtLargest.without),
            formatMeanStd(stats.ratioAtLargest.with),
            ratio('ratioAtLargest'),
            '—',
          ],
        ],
      },
      {
        title: 'Per seed',
        columns: ['seed', ...MEASURES.flatMap(({ key }) => [`${key} without`, `${key} with`])],
        rows: runs.map((run, i) => [
          run.seed,
          ...MEASURES.flatMap(({ key }) => [formatNumber(summaries.without[i]![key]), formatNumber(summaries.with[i]![key])]),
        ]),
      },
    ],
    verdict: {
      holds,
      text: holds
        ? `holds: with BN the landscape along the gradient is smoother on all three measures (${MEASURES.map(({ key }) => `${key} ${ratio(key)} lower`).join(', ')}; ${budget.seeds} seeds, each beyond the noise), the direction of Santurkar et al.'s Figure 4.`
        : `not shown in full at this scale: ${MEASURES.map((m, k) => `${m.label} ${smoother[k] ? `${ratio(m.key)} lower with BN` : `not lower beyond the noise (${formatMeanStd(stats[m.key].without)} without, ${formatMeanStd(stats[m.key].with)} with${clearlyAbove(stats[m.key].with, stats[m.key].without) ? ': higher with BN, beyond the noise' : ''})`}`).join('; ')}.${betaNote}`,
    },
    figures: [
      {
        name: 'landscape',
        caption: `Seed ${first.seed}: along the gradient at each checkpoint, the range of the loss (band: min to max over the step sizes, line: the loss at the weights) and of the gradient change; and the effective β-smoothness (band: range over ${budget.seeds} seeds, line: mean).`,
        spec: bandChartSpec({
          title: 'The loss landscape along the gradient, without and with BN (Santurkar et al., Figure 4)',
          xTitle: 'training step',
          panels: [
            {
              title: 'loss landscape',
              yTitle: 'loss along −∇L',
              yScale: 'log',
              series: [
                band(
                  withoutBnName,
                  first.without,
                  (p) => p.lossLow,
                  (p) => p.loss,
                  (p) => p.lossHigh,
                ),
                band(
                  withBnName,
                  first.with,
                  (p) => p.lossLow,
                  (p) => p.loss,
                  (p) => p.lossHigh,
                ),
              ],
            },
            {
              title: 'gradient predictiveness',
              yTitle: '‖∇L(w − η∇L) − ∇L(w)‖',
              series: [
                band(
                  withoutBnName,
                  first.without,
                  (p) => p.gradientChangeLow,
                  (p) => (p.gradientChangeLow + p.gradientChangeHigh) / 2,
                  (p) => p.gradientChangeHigh,
                ),
                band(
                  withBnName,
                  first.with,
                  (p) => p.gradientChangeLow,
                  (p) => (p.gradientChangeLow + p.gradientChangeHigh) / 2,
                  (p) => p.gradientChangeHigh,
                ),
              ],
            },
            {
              title: 'effective β-smoothness',
              yTitle: 'max ‖Δ∇L‖ / ‖Δw‖',
              series: [betaBand(withoutBnName, (run) => run.without), betaBand(withBnName, (run) => run.with)],
            },
          ],
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
