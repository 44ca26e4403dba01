/**
 * @file Claim `saturation`: with a saturating activation the pre-activations drift into the flat
 * tails of the sigmoid, where gradients vanish; BN keeps them in the responsive middle. Measured
 * as the fraction of sigmoid units in the saturated regime, per hidden layer over training,
 * without and with BN, at initial weight std 0.05 and 10.
 */
import { panelGridSpec } from '../charts/panel-grid.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, formatPercent, headOf, type NetworkChoice, networkPair, probeHiddenLayers, trainForClaim } from './experiment-kit.js';

export interface SaturationBudget {
  hiddenSizes: number[];
  initStds: number[];
  learningRate: number;
  steps: number;
  batchSize: number;
  probeCount: number;
  checkpointEvery: number;
}

const SATURATION_FULL: SaturationBudget = {
  hiddenSizes: [128, 128, 128],
  initStds: [0.05, 10],
  learningRate: 0.5,
  steps: 5000,
  batchSize: 60,
  probeCount: 1000,
  checkpointEvery: 100,
};

export const SATURATION_QUICK: SaturationBudget = { ...SATURATION_FULL, steps: 1000, probeCount: 500, checkpointEvery: 50 };

/** σ'(z) = σ(z)(1 − σ(z)) < 0.01 exactly when |z| > ln((1 + √0.96)/(1 − √0.96)) ≈ 4.59. */
export const SATURATED_DERIVATIVE = 0.01;
export const SATURATION_THRESHOLD = Math.log((1 + Math.sqrt(1 - 4 * SATURATED_DERIVATIVE)) / (1 - Math.sqrt(1 - 4 * SATURATED_DERIVATIVE)));
/** The std-10 case decides the verdict. */
const DECIDING_STD = 10;

export const saturationClaim: Claim = {
  name: 'saturation',
  title: 'Saturation: sigmoid units pushed into their flat tails',
  description: "fraction of saturated sigmoid units (σ'(z) < 0.01) per layer over training, without and with BN, std 0.05 and 10",
  articleSays:
    'With saturating activations (sigmoid, tanh) the pre-activations drift into the saturated regime and gradients vanish; ' +
    'BN makes saturating activations usable. With std 10 the network without BN fails while BN reaches 78-94%.',
  run: (context) => runSaturation(context, context.quick ? SATURATION_QUICK : SATURATION_FULL),
};

interface SaturationRun {
  initStd: number;
  label: string;
  steps: number[];
  /** [layer][checkpoint] fraction of (probe example, unit) pairs with |z| above the threshold. */
  fractions: number[][];
  finalAccuracy: number;
}

export async function runSaturation(context: ClaimContext, budget: SaturationBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const probe = headOf(data.validation, budget.probeCount);
  const layers = budget.hiddenSizes.length;
  const runs: SaturationRun[] = [];
  for (const initStd of budget.initStds) {
    const network: NetworkChoice = { hiddenSizes: budget.hiddenSizes, activation: 'sigmoid', initStd };
    const { withoutBn, withBn } = networkPair(kernels, network, seed);
    for (const [label, net] of [
      [withoutBnName, withoutBn],
      [withBnName, withBn],
    ] as const) {
      context.onProgress?.(`saturation: std ${initStd}, ${label}, ${budget.steps} steps`);
      const run: SaturationRun = { initStd, label, steps: [], fractions: budget.hiddenSizes.map(() => []), finalAccuracy: NaN };
      await trainForClaim(net, data, {
        steps: budget.steps,
        batchSize: budget.batchSize,
        learningRate: budget.learningRate,
        seed,
        checkpointEvery: budget.checkpointEvery,
        onCheckpoint: (step) => {
          run.steps.push(step);
          probeHiddenLayers(net, probe).forEach((buffers, l) => {
            run.fractions[l]!.push(saturatedFraction(buffers.preActivation.data));
          });
        },
      });
      run.finalAccuracy = accuracyOn(net, probe);
      runs.push(run);
    }
  }

  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  /** Mean over layers and checkpoints: how saturated the network was over the whole run. */
  const overRun = (run: SaturationRun): number => mean(run.fractions.map(mean));
  const final = (run: SaturationRun): number => mean(run.fractions.map((track) => track.at(-1)!));
  const find = (initStd: number, label: string): SaturationRun => runs.find((run) => run.initStd === initStd && run.label === label)!;
  const decidingStd = budget.initStds.includes(DECIDING_STD) ? DECIDING_STD : budget.initStds.at(-1)!;
  const decidingWithout = find(decidingStd, withoutBnName),
    decidingWith = find(decidingStd, withBnName);
  const holds = overRun(decidingWith) < overRun(decidingWithout);

  const lines = [
    `saturated: |z| > ${SATURATION_THRESHOLD.toFixed(2)} ⇔ σ'(z) < ${SATURATED_DERIVATIVE}; sigmoid 784-${budget.hiddenSizes.join('-')}-10, lr ${budget.learningRate}, ${budget.steps} steps; probe ${probe.count} validation images`,
    ...runs.map(
      (run) =>
        `std ${String(run.initStd).padEnd(4)} ${run.label.padEnd(10)} saturated per layer at the end: ${run.fractions.map((track) => formatPercent(track.at(-1)!)).join(' / ')}, ` +
        `mean over the run ${formatPercent(overRun(run))}; probe accuracy ${formatPercent(run.finalAccuracy)}`,
    ),
  ];
  return {
    name: saturationClaim.name,
    title: saturationClaim.title,
    articleSays: saturationClaim.articleSays,
    method:
      `For each initial weight std in {${budget.initStds.join(', ')}}: two sigmoid networks 784-${budget.hiddenSizes.join('-')}-10 from the same weights and batches, ${budget.steps} SGD steps ` +
      `(batch ${budget.batchSize}, learning rate ${budget.learningRate}). Every ${budget.checkpointEvery} steps the first ${probe.count} validation images go through each network in inference mode ` +
      '(BN normalizing the probe by its own statistics) and we count, per hidden layer, the fraction of (image, unit) pairs whose sigmoid input z has ' +
      `|z| > ${SATURATION_THRESHOLD.toFixed(3)}, i.e. σ'(z) < ${SATURATED_DERIVATIVE}. The verdict compares the std-${decidingStd} networks' saturated fraction averaged over layers and checkpoints.` +
      `${context.quick ? ' Quick budget: fewer steps and a smaller probe than the full run.' : ''}`,
    numbers: Object.fromEntries(
      runs.flatMap((run) => {
        const key = `std${run.initStd}${run.label === withBnName ? 'WithBn' : 'WithoutBn'}`;
        const atStart = mean(run.fractions.map((track) => track[0]!));
        return [
          [`${key}SaturatedAtStart`, atStart],
          [`${key}SaturatedOverRun`, overRun(run)],
          [`${key}SaturatedFinal`, final(run)],
          [`${key}ProbeAccuracy`, run.finalAccuracy],
        ];
      }),
    ),
    tables: [
      {
        title: `Saturated fraction (|z| > ${SATURATION_THRESHOLD.toFixed(2)}) per hidden layer at the end, and averaged over the run`,
        columns: ['init std', 'network', ...budget.hiddenSizes.map((_, l) => `layer ${l + 1}, end`), 'mean over run', 'probe accuracy'],
        rows: runs.map((run) => [
          run.initStd,
          run.label,
          ...run.fractions.map((track) => formatPercent(track.at(-1)!)),
          formatPercent(overRun(run)),
          formatPercent(run.finalAccuracy),
        ]),
      },
    ],
    verdict: {
      holds,
      text: holds
        ? `holds: at std ${decidingStd}, ${formatPercent(overRun(decidingWithout))} of sigmoid inputs are saturated over the run without BN and ${formatPercent(overRun(decidingWith))} with BN ` +
          `(probe accuracy ${formatPercent(decidingWithout.finalAccuracy)} vs ${formatPercent(decidingWith.finalAccuracy)}).`
        : `does not hold at this budget: at std ${decidingStd} the saturated fraction is ${formatPercent(overRun(decidingWithout))} without BN and ${formatPercent(overRun(decidingWith))} with BN.`,
    },
    figures: [
      {
        name: 'saturated-fraction',
        caption: `Fraction of sigmoid inputs with |z| > ${SATURATION_THRESHOLD.toFixed(2)} per hidden layer over training; one row of panels per initial weight std.`,
        spec: panelGridSpec({
          title: `Saturated sigmoid units (σ'(z) < ${SATURATED_DERIVATIVE}) over training`,
          xTitle: 'training step',
          yTitle: 'saturated fraction',
          columns: layers,
          yDomain: [0, 1],
          panels: budget.initStds.flatMap((initStd) =>
            budget.hiddenSizes.map((_, l) => ({
              title: `std ${initStd}, layer ${l + 1}`,
              series: [withoutBnName, withBnName].map((label) => {
                const run = find(initStd, label);
                return { name: label, points: run.steps.map((step, i) => ({ x: step, y: run.fractions[l]![i]! })) };
              }),
            })),
          ),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}

/** The fraction of entries z with |z| above the saturation threshold. */
export function saturatedFraction(values: ArrayLike<number>): number {
  let saturated = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) > SATURATION_THRESHOLD) saturated++;
  return values.length ? saturated / values.length : NaN;
}
