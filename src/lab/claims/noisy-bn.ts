/**
 * @file Claim `noisy-bn`: Santurkar et al. (2018), Section 2.1 and Definition 2.1. Three networks
 * from the same weights on the same batches: without BN, with BN, and with "noisy BN" (after every
 * BN layer each unit is scaled and shifted by noise drawn afresh at every step, so the next
 * layer's input distribution moves on purpose). Measured over training, over seeds: validation
 * accuracy; how far each layer's input distribution drifts; and Santurkar et al.'s internal
 * covariate shift, the ℓ2 distance and cosine between a layer's weight gradient before and after
 * the layers below it take their SGD step.
 */

import type { Matrix } from '../../core/matrix.js';
import { Rng } from '../../core/rng.js';
import { ActivationNoise, type ActivationNoiseOptions } from '../../nn/activation-noise.js';
import { MLP } from '../../nn/mlp.js';
import { deriveSeed } from '../../train/seeds.js';
import { errorLineChartSpec } from '../charts/error-line-chart.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import { type BandSeries, bandChartSpec } from './band-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, headOf, initialWeightsFor, type NetworkChoice, specFor, trainForClaim } from './experiment-kit.js';
import { copyParameters, cosine, distance, flatGradient, loadBatch, withStatisticsKept } from './landscape-kit.js';
import { clearlyAbove, formatMeanStd, formatPercentMeanStd, type MeanStd, meanStd, noiseOf } from './seed-statistics.js';

export interface NoisyBnBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  checkpointEvery: number;
  validationCount: number;
  /** Training images (the first ones) of the fixed probe batch the shift is measured on. */
  probeCount: number;
  noise: ActivationNoiseOptions;
  seeds: number;
}

const NOISY_BN_FULL: NoisyBnBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  steps: 2000,
  batchSize: 60,
  checkpointEvery: 100,
  validationCount: 2000,
  probeCount: 200,
  noise: { shiftRange: 1, scaleLow: 0.5, scaleHigh: 1.5 },
  seeds: 3,
};

export const NOISY_BN_QUICK: NoisyBnBudget = { ...NOISY_BN_FULL, steps: 400, checkpointEvery: 40, validationCount: 1000 };

/** Drift is measured after this fraction of the run: the first steps move everything. */
const BURN_IN_FRACTION = 0.1;
const noisyBnName = 'with noisy BN';

export const noisyBnClaim: Claim = {
  name: 'noisy-bn',
  title: "BN still helps when its layers' inputs are made to shift more than without BN (Santurkar et al. 2018)",
  description: 'none, BN and noisy BN (noise after BN, new every step): accuracy, input drift and the gradient measure of covariate shift',
  articleSays:
    "The article explains BN by internal covariate shift: lower layers' updates keep moving each layer's input distribution, and BN helps by holding it steady. " +
    'Santurkar et al. (2018, Section 2, Figures 2 and 3) inject noise with a non-zero mean and non-unit variance, new at every step, after each BN layer: the distributions shift more than without BN, yet the network trains as well as with plain BN; ' +
    'and by their gradient measure of covariate shift BN does not even reduce it.',
  run: (context) => runNoisyBn(context, context.quick ? NOISY_BN_QUICK : NOISY_BN_FULL),
};

/** One checkpoint of one network. */
export interface ShiftPoint {
  step: number;
  accuracy: number;
  /** Per dense layer l ≥ 1: ‖G_l − G′_l‖ and cos(G_l, G′_l). */
  icsDistance: number[];
  icsCosine: number[];
  /** Per hidden layer, per unit: mean and std over the probe of the activation's input. */
  means: Float64Array[];
  stds: Float64Array[];
}

interface NetworkRun {
  name: string;
  points: ShiftPoint[];
}

const layerOf = (parameterName: string): number => Number(/\.(\d+)\./.exec(parameterName)![1]);

function columnMoments(matrix: Matrix): { mean: Float64Array; std: Float64Array } {
  const { rows, cols, data } = matrix;
  const mean = new Float64Array(cols),
    std = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j]!;
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) std[j] += (data[i * cols + j]! - mean[j]!) ** 2;
  for (let j = 0; j < cols; j++) std[j] = Math.sqrt(std[j]! / rows);
  return { mean, std };
}

/**
 * Santurkar et al.'s Definition 2.1 on one batch: G_l = ∇_{W_l} L at the current weights; G′_l the
 * same gradient after the layers below l (dense and BN layers 0…l−1) take the SGD step of this
 * batch's gradient, and, in the noisy network, the noise below l is drawn anew as the next step
 * would draw it. Weights, noise and BN estimates are put back after.
 */
export function measureShift(
  net: MLP,
  noises: readonly ActivationNoise[],
  x: Matrix,
  labels: number[],
  learningRate: number,
): Omit<ShiftPoint, 'step' | 'accuracy'> {
  return withStatisticsKept(net, () => {
    const parameters = net.parameters();
    const saved = copyParameters(net);
    const sample = (noise: ActivationNoise) => ({ scale: noise.scale.slice(), shift: noise.shift.slice() });
    const setSample = (noise: ActivationNoise, s: { scale: Float32Array; shift: Float32Array }) => {
      noise.scale.set(s.scale);
      noise.shift.set(s.shift);
    };
    for (const noise of noises) noise.resampling = false;
    const current = noises.map(sample);
    try {
      net.computeGradients(x, labels);
      const hidden = net.hiddenBuffers(x.rows).map((buffers) => columnMoments(buffers.preActivation));
      const gradient = flatGradient(net);
      const before = net.dense.map((dense) => dense.weightGrad.data.slice());
      const next = noises.map((noise) => {
        noise.resample();
        return sample(noise);
      });
      const icsDistance: number[] = [],
        icsCosine: number[] = [];
      for (let l = 1; l < net.dense.length; l++) {
        let offset = 0;
        parameters.forEach(({ name, value }, i) => {
          const data = value.data,
            base = saved[i]!;
          if (layerOf(name) < l) for (let k = 0; k < data.length; k++) data[k] = base[k]! - learningRate * gradient[offset + k]!;
          else data.set(base);
          offset += data.length;
        });
        noises.forEach((noise, k) => {
          setSample(noise, k < l ? next[k]! : current[k]!);
        });
        net.computeGradients(x, labels);
        const after = net.dense[l]!.weightGrad.data;
        icsDistance.push(distance(before[l]!, after));
        icsCosine.push(cosine(before[l]!, after));
      }
      return { icsDistance, icsCosine, means: hidden.map((m) => m.mean), stds: hidden.map((m) => m.std) };
    } finally {
      parameters.forEach(({ value }, i) => {
        value.data.set(saved[i]!);
      });
      noises.forEach((noise, k) => {
        setSample(noise, current[k]!);
        noise.resampling = true;
      });
    }
  });
}

/** Mean over hidden layers, units and consecutive checkpoints (after the burn-in) of |Δ mean| + |Δ std| of the activation's input. */
function distributionDrift(points: readonly ShiftPoint[], burnInStep: number): number {
  let sum = 0,
    count = 0;
  for (let t = 1; t < points.length; t++) {
    if (points[t - 1]!.step < burnInStep) continue;
    const a = points[t - 1]!,
      b = points[t]!;
    a.means.forEach((means, l) => {
      for (let j = 0; j < means.length; j++) {
        sum += Math.abs(b.means[l]![j]! - means[j]!) + Math.abs(b.stds[l]![j]! - a.stds[l]![j]!);
        count++;
      }
    });
  }
  return count ? sum / count : NaN;
}

const meanOf = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export async function runNoisyBn(context: ClaimContext, budget: NoisyBnBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data } = context;
  const validation = headOf(data.validation, budget.validationCount);
  const probe = headOf(data.train, budget.probeCount);
  const names = [withoutBnName, withBnName, noisyBnName];
  const seeds: NetworkRun[][] = [];
  for (let s = 0; s < budget.seeds; s++) {
    const seed = context.seed + s;
    const weights = initialWeightsFor(budget.network, seed);
    const runs: NetworkRun[] = [];
    for (const name of names) {
      const noises: ActivationNoise[] = [];
      const noiseRng = new Rng(deriveSeed(seed, 'experiment'));
      const net = new MLP(
        kernels,
        specFor(budget.network, name !== withoutBnName),
        weights,
        name === noisyBnName
          ? {
              afterNorm: (_l, width) => {
                const noise = new ActivationNoise(width, noiseRng, budget.noise);
                noises.push(noise);
                return noise;
              },
            }
          : {},
      );
      context.onProgress?.(`noisy-bn: seed ${seed}, ${name}, ${budget.steps} steps`);
      const points: ShiftPoint[] = [];
      await trainForClaim(net, data, {
        steps: budget.steps,
        batchSize: budget.batchSize,
        learningRate: budget.learningRate,
        seed,
        checkpointEvery: budget.checkpointEvery,
        onCheckpoint: (step) => {
          const accuracy = accuracyOn(net, validation);
          const { x, labels } = loadBatch(net, probe, 0, probe.count);
          points.push({ step, accuracy, ...measureShift(net, noises, x, labels, budget.learningRate) });
        },
      });
      runs.push({ name, points });
    }
    seeds.push(runs);
  }

  const burnIn = BURN_IN_FRACTION * budget.steps;
  const perNetwork = names.map((name, k) => {
    const runs = seeds.map((runs) => runs[k]!);
    const counted = (run: NetworkRun) => run.points.filter((p) => p.step >= burnIn && p.step > 0);
    return {
      name,
      finalAccuracy: meanStd(runs.map((run) => run.points.at(-1)!.accuracy)),
      // The mean over the second half's checkpoints: less noisy than one final evaluation.
      accuracy: meanStd(runs.map((run) => meanOf(run.points.filter((p) => p.step >= budget.steps / 2).map((p) => p.accuracy)))),
      drift: meanStd(runs.map((run) => distributionDrift(run.points, burnIn))),
      icsDistance: meanStd(runs.map((run) => meanOf(counted(run).map((p) => meanOf(p.icsDistance))))),
      icsCosine: meanStd(runs.map((run) => meanOf(counted(run).map((p) => meanOf(p.icsCosine))))),
    };
  });
  const [none, bn, noisy] = perNetwork as [(typeof perNetwork)[0], (typeof perNetwork)[0], (typeof perNetwork)[0]];
  const trainsAsWell = !clearlyAbove(bn.accuracy, noisy.accuracy);
  // The article's mechanism predicts that more input shift than no BN at all means no benefit over no BN.
  const driftsMoreThanNone = clearlyAbove(noisy.drift, none.drift);
  const beatsNone = clearlyAbove(noisy.accuracy, none.accuracy);
  const holds = driftsMoreThanNone && beatsNone;
  const bnReducesIcs = clearlyAbove(none.icsDistance, bn.icsDistance) && clearlyAbove(bn.icsCosine, none.icsCosine);
  const times = (a: MeanStd, b: MeanStd): string => `${(a.mean / b.mean).toFixed(1)}×`;
  const gainKept = (noisy.accuracy.mean - none.accuracy.mean) / (bn.accuracy.mean - none.accuracy.mean);
  const againstBn = clearlyAbove(noisy.accuracy, bn.accuracy)
    ? "above BN's beyond the noise"
    : trainsAsWell
      ? `within the noise of BN's (difference ${formatPercentPoints(noisy.accuracy.mean - bn.accuracy.mean)}, noise ±${formatPercentPoints(noiseOf(noisy.accuracy, bn.accuracy))}), as Santurkar et al. found`
      : `below BN's beyond the noise (${formatPercentPoints(noisy.accuracy.mean - bn.accuracy.mean)}, noise ±${formatPercentPoints(noiseOf(noisy.accuracy, bn.accuracy))}): it keeps ${(gainKept * 100).toFixed(0)}% of BN's gain over no BN, so Santurkar et al.'s "as well as BN" is not reproduced in full here`;
  const icsSentence =
    `Santurkar et al.'s gradient measure of covariate shift (mean over dense layers 2-${net4(budget)} and checkpoints): ℓ2 ${perNetwork.map((n) => `${n.name} ${formatMeanStd(n.icsDistance)}`).join(', ')}; cosine ${perNetwork.map((n) => `${n.name} ${formatMeanStd(n.icsCosine)}`).join(', ')}` +
    ` (here BN ${bnReducesIcs ? "does reduce it against no BN beyond the noise, unlike Santurkar et al.'s Figure 3" : "does not reduce it against no BN beyond the noise on both ℓ2 and cosine, as in Santurkar et al.'s Figure 3"}; noisy BN has the largest)`;

  const lines = [
    `784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, std ${budget.network.initStd}, lr ${budget.learningRate}, ${budget.steps} steps of ${budget.batchSize}, ${budget.seeds} seeds; noise after every BN layer: y′ = s·y + m per unit, s ~ U(${budget.noise.scaleLow}, ${budget.noise.scaleHigh}), m ~ U(−${budget.noise.shiftRange}, ${budget.noise.shiftRange}), new every step`,
    ...perNetwork.map(
      (n) =>
        `${n.name.padEnd(15)} validation: second half ${formatPercentMeanStd(n.accuracy)}, final ${formatPercentMeanStd(n.finalAccuracy)}; input drift ${formatMeanStd(n.drift)}; ICS ℓ2 ${formatMeanStd(n.icsDistance)}, cosine ${formatMeanStd(n.icsCosine)}`,
    ),
  ];
  const facts =
    `noisy BN's layer inputs drift ${times(noisy.drift, none.drift)} as much as without BN and ${times(noisy.drift, bn.drift)} as much as with BN (${formatMeanStd(noisy.drift)} vs ${formatMeanStd(none.drift)} and ${formatMeanStd(bn.drift)}); ` +
    `its validation accuracy (mean over the second half of training) is ${formatPercentMeanStd(noisy.accuracy)} against ${formatPercentMeanStd(none.accuracy)} without BN and ${formatPercentMeanStd(bn.accuracy)} with BN, ${againstBn}. ${icsSentence}.`;
  const verdictText = holds
    ? `holds: ${facts} So the article's explanation is contradicted here: with far more input shift than a network without BN, noisy BN still trains better than it; steadier layer inputs are not what BN's benefit rests on.`
    : `not shown: ${facts} ${driftsMoreThanNone ? '' : 'Noisy BN does not drift more than no BN beyond the noise. '}${beatsNone ? '' : "Noisy BN does not beat no BN beyond the noise, so this run does not separate BN's benefit from steady inputs."}`;

  const first = seeds[0]!;
  const steps = first[0]!.points.map((p) => p.step);
  const overSeeds = (k: number, pick: (p: ShiftPoint) => number) =>
    steps.map((step, i) => {
      const values = seeds.map((runs) => pick(runs[k]!.points[i]!));
      return { x: step, values };
    });
  const accuracySeries = names.map((name, k) => ({
    name,
    points: overSeeds(k, (p) => p.accuracy).map(({ x, values }) => ({ x, ...(({ mean, std }) => ({ mean, std }))(meanStd(values)) })),
  }));
  const band = (k: number, pick: (p: ShiftPoint) => number): BandSeries => ({
    name: names[k]!,
    points: overSeeds(k, pick)
      .filter(({ x }) => x > 0)
      .map(({ x, values }) => ({ x, low: Math.min(...values), mid: meanOf(values), high: Math.max(...values) })),
  });
  return {
    name: noisyBnClaim.name,
    title: noisyBnClaim.title,
    articleSays: noisyBnClaim.articleSays,
    method:
      `Three networks 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) from the same weights on the same batches: without BN, with BN, and with BN followed by noise, ${budget.steps} SGD steps of ${budget.batchSize} at learning rate ${budget.learningRate}, seeds ${context.seed}-${context.seed + budget.seeds - 1}. ` +
      `The noise (our choice; Santurkar et al. describe "i.i.d. noise sampled from a non-zero mean and non-unit variance distribution" that changes at every step, their exact constants were not at hand): at every training step, per unit j of every BN layer's output, s_j ~ U(${budget.noise.scaleLow}, ${budget.noise.scaleHigh}) and m_j ~ U(−${budget.noise.shiftRange}, ${budget.noise.shiftRange}), y′ = s_j·y + m_j for every example: a unit's input distribution gets a new mean (±${budget.noise.shiftRange} std) and scale every step. At inference the noise is its mean, the identity. ` +
      `Every ${budget.checkpointEvery} steps: accuracy on the first ${validation.count} validation images (inference mode); on a fixed probe batch of the first ${probe.count} training images, each hidden layer's activation input (after BN and noise) per unit, mean and std, ` +
      `and Santurkar et al.'s covariate shift (Definition 2.1): for dense layers 2-${net4(budget)}, G = ∇_W L and G′ the same after the layers below take this batch's SGD step (the noise below drawn anew, as the next step draws it), ℓ2 ‖G − G′‖ and cos(G, G′). ` +
      `Accuracy = the mean of the validation accuracies of the second half of training (less noisy than the last one alone, which is also given). Input drift = mean over layers, units and consecutive checkpoints after the first ${BURN_IN_FRACTION * 100}% of steps of |Δ mean| + |Δ std|. ` +
      "The article's mechanism predicts that a network whose layer inputs shift more than without BN gains nothing over no BN; the verdict (\"BN's benefit does not rest on steady inputs\") needs noisy BN's drift above no BN's and its accuracy above no BN's, each beyond the noise (twice the standard error of the difference over seeds). " +
      "Whether noisy BN also matches BN (Santurkar et al.'s stronger finding) is stated with the numbers." +
      `${context.quick ? ' Quick budget: fewer steps and validation images than the full run.' : ''}`,
    numbers: Object.fromEntries(
      perNetwork.flatMap((n) => {
        const key = n.name === withoutBnName ? 'none' : n.name === withBnName ? 'bn' : 'noisyBn';
        return [
          [`${key}Accuracy`, n.accuracy.mean],
          [`${key}AccuracyStd`, n.accuracy.std],
          [`${key}FinalAccuracy`, n.finalAccuracy.mean],
          [`${key}Drift`, n.drift.mean],
          [`${key}DriftStd`, n.drift.std],
          [`${key}IcsDistance`, n.icsDistance.mean],
          [`${key}IcsDistanceStd`, n.icsDistance.std],
          [`${key}IcsCosine`, n.icsCosine.mean],
          [`${key}IcsCosineStd`, n.icsCosine.std],
        ];
      }),
    ),
    tables: [
      {
        title: `Mean ± std over ${budget.seeds} seeds`,
        columns: ['network', 'validation accuracy, second half', 'final validation accuracy', 'input drift |Δμ| + |Δσ|', 'ICS: ‖G − G′‖', 'ICS: cos(G, G′)'],
        rows: perNetwork.map((n) => [
          n.name,
          formatPercentMeanStd(n.accuracy),
          formatPercentMeanStd(n.finalAccuracy),
          formatMeanStd(n.drift),
          formatMeanStd(n.icsDistance),
          formatMeanStd(n.icsCosine),
        ]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'accuracy',
        caption: `Validation accuracy over training without BN, with BN and with noisy BN (mean ± std over ${budget.seeds} seeds).`,
        spec: errorLineChartSpec({
          title: 'Accuracy over training: none, BN, noisy BN',
          xTitle: 'training step',
          yTitle: 'validation accuracy',
          panels: [{ title: 'accuracy', series: accuracySeries }],
        }),
      },
      {
        name: 'shift',
        caption: `Per checkpoint: the drift of the probe's layer inputs since the previous checkpoint, and Santurkar et al.'s covariate shift (ℓ2 and cosine between a layer's gradient before and after the layers below update), mean over layers; band: range over ${budget.seeds} seeds.`,
        spec: bandChartSpec({
          title: 'Covariate shift: distribution drift and the gradient measure',
          xTitle: 'training step',
          panels: [
            { title: 'layer-input drift since last checkpoint', yTitle: 'mean |Δμ| + |Δσ|', series: names.map((_, k) => driftBand(seeds, k, names[k]!)) },
            { title: 'ICS: ‖G − G′‖ (ℓ2)', yTitle: '‖G − G′‖', series: names.map((_, k) => band(k, (p) => meanOf(p.icsDistance))) },
            { title: 'ICS: cos(G, G′)', yTitle: 'cosine', series: names.map((_, k) => band(k, (p) => meanOf(p.icsCosine))) },
          ],
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}

/** The number of the last dense layer, counting from 1 (the output layer). */
function net4(budget: NoisyBnBudget): number {
  return budget.network.hiddenSizes.length + 1;
}

function formatPercentPoints(fraction: number): string {
  return `${(fraction * 100).toFixed(2)} points`;
}

/** The drift between consecutive checkpoints, band over seeds. */
function driftBand(seeds: NetworkRun[][], k: number, name: string): BandSeries {
  const points = seeds[0]![k]!.points;
  return {
    name,
    points: points.slice(1).map((p, i) => {
      const values = seeds.map((runs) => distributionDrift(runs[k]!.points.slice(i, i + 2), -Infinity));
      return { x: p.step, low: Math.min(...values), mid: meanOf(values), high: Math.max(...values) };
    }),
  };
}
