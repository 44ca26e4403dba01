/**
 * @file Claim `covariate-shift`: the BN paper's Figure 1(b, c). The 15th, 50th and 85th
 * percentiles of one sigmoid unit's input in the last hidden layer, over training, without and
 * with BN (same initial weights, same batches), and how far each percentile drifts.
 */
import type { MLP } from '../../nn/mlp.js';
import { panelGridSpec } from '../charts/panel-grid.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import {
  accuracyOn,
  elapsedSince,
  formatNumber,
  formatPercent,
  headOf,
  type NetworkChoice,
  networkPair,
  percentileOfSorted,
  probeHiddenLayers,
  sortedColumn,
  trainForClaim,
} from './experiment-kit.js';

export interface CovariateShiftBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  /** Validation images whose last-hidden-layer inputs are measured at every checkpoint. */
  probeCount: number;
  checkpointEvery: number;
  /** The unit of the last hidden layer that is plotted. */
  unit: number;
}

const COVARIATE_SHIFT_FULL: CovariateShiftBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'sigmoid', initStd: 0.05 },
  learningRate: 0.5,
  steps: 10000,
  batchSize: 60,
  probeCount: 1000,
  checkpointEvery: 100,
  unit: 0,
};

export const COVARIATE_SHIFT_QUICK: CovariateShiftBudget = { ...COVARIATE_SHIFT_FULL, steps: 1500, probeCount: 500, checkpointEvery: 30 };

export const PERCENTILES = [15, 50, 85] as const;
/** Drift is measured after this fraction of the run: the first steps move everything, with or without BN. */
export const BURN_IN_FRACTION = 0.1;

export const covariateShiftClaim: Claim = {
  name: 'covariate-shift',
  title: "Internal covariate shift: a sigmoid unit's input distribution over training",
  description: "the BN paper's Figure 1(b, c): percentiles of a last-layer sigmoid input drift less with BN",
  articleSays:
    "As the parameters of lower layers change, the distribution of every layer's input changes, so upper layers keep re-adapting; " +
    'BN keeps layer-input distributions stable.',
  run: (context) => runCovariateShift(context, context.quick ? COVARIATE_SHIFT_QUICK : COVARIATE_SHIFT_FULL),
};

/** Percentile tracks of one network: [percentile][checkpoint] for the plotted unit, and every unit's drift. */
interface Tracks {
  steps: number[];
  unitTracks: number[][];
  /** [unit][percentile][checkpoint] */
  allUnits: number[][][];
  finalAccuracy: number;
}

export async function runCovariateShift(context: ClaimContext, budget: CovariateShiftBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const probe = headOf(data.validation, budget.probeCount);
  const lastLayer = budget.network.hiddenSizes.length - 1;
  const width = budget.network.hiddenSizes[lastLayer]!;
  const { withoutBn, withBn } = networkPair(kernels, budget.network, seed);

  const track = async (label: string, net: MLP): Promise<Tracks> => {
    context.onProgress?.(`covariate-shift: ${budget.steps} steps, ${label}`);
    const tracks: Tracks = {
      steps: [],
      unitTracks: PERCENTILES.map(() => []),
      allUnits: Array.from({ length: width }, () => PERCENTILES.map(() => [])),
      finalAccuracy: NaN,
    };
    await trainForClaim(net, data, {
      steps: budget.steps,
      batchSize: budget.batchSize,
      learningRate: budget.learningRate,
      seed,
      checkpointEvery: budget.checkpointEvery,
      onCheckpoint: (step) => {
        const inputs = probeHiddenLayers(net, probe)[lastLayer]!.preActivation; // [probe, width]: the sigmoid's input
        tracks.steps.push(step);
        for (let unit = 0; unit < width; unit++) {
          const sorted = sortedColumn(inputs, unit);
          PERCENTILES.forEach((p, k) => {
            tracks.allUnits[unit]![k]!.push(percentileOfSorted(sorted, p));
          });
        }
        tracks.unitTracks = tracks.allUnits[budget.unit]!;
      },
    });
    tracks.finalAccuracy = accuracyOn(net, probe);
    return tracks;
  };
  const without = await track(withoutBnName, withoutBn);
  const withBnTracks = await track(withBnName, withBn);

  // Drift = the range (max − min) of a percentile over the checkpoints after the burn-in.
  const firstCounted = without.steps.findIndex((step) => step >= BURN_IN_FRACTION * budget.steps);
  const range = (values: number[]): number => {
    const counted = values.slice(firstCounted);
    return Math.max(...counted) - Math.min(...counted);
  };
  const unitDrift = (tracks: Tracks) => PERCENTILES.map((_, k) => range(tracks.unitTracks[k]!));
  const driftWithout = unitDrift(without),
    driftWith = unitDrift(withBnTracks);
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const unitsWithLessDrift = Array.from(
    { length: width },
    (_, unit) => sum(withBnTracks.allUnits[unit]!.map(range)) < sum(without.allUnits[unit]!.map(range)),
  ).filter(Boolean).length;
  const medianOf = (values: number[]): number =>
    percentileOfSorted(
      [...values].sort((a, b) => a - b),
      50,
    );
  const medianDriftWithout = medianOf(Array.from({ length: width }, (_, unit) => sum(without.allUnits[unit]!.map(range)) / PERCENTILES.length));
  const medianDriftWith = medianOf(Array.from({ length: width }, (_, unit) => sum(withBnTracks.allUnits[unit]!.map(range)) / PERCENTILES.length));
  const unitHolds = sum(driftWith) < sum(driftWithout);
  const mostUnitsHold = unitsWithLessDrift > width / 2;
  const holds = unitHolds && mostUnitsHold;

  const describe = (drift: number[]): string => PERCENTILES.map((p, k) => `${p}th ${formatNumber(drift[k]!, 3)}`).join(', ');
  const lines = [
    `sigmoid network 784-${budget.network.hiddenSizes.join('-')}-10, std ${budget.network.initStd}, lr ${budget.learningRate}, ${budget.steps} steps of ${budget.batchSize}; probe: ${probe.count} validation images`,
    `unit ${budget.unit} of hidden layer ${lastLayer + 1}, drift (range after the first ${BURN_IN_FRACTION * 100}% of steps): without BN ${describe(driftWithout)}; with BN ${describe(driftWith)}`,
    `all ${width} units: median drift per percentile without BN ${formatNumber(medianDriftWithout, 3)}, with BN ${formatNumber(medianDriftWith, 3)}; ${unitsWithLessDrift} of ${width} units drift less with BN`,
    `probe accuracy at the end: without BN ${formatPercent(without.finalAccuracy)}, with BN ${formatPercent(withBnTracks.finalAccuracy)}`,
  ];
  const verdictText = holds
    ? `holds: with BN the unit's percentiles drift less (summed range ${formatNumber(sum(driftWith), 3)} vs ${formatNumber(sum(driftWithout), 3)} without BN), and so do ${unitsWithLessDrift} of ${width} units.`
    : `does not hold at this budget: the unit's summed drift is ${formatNumber(sum(driftWith), 3)} with BN vs ${formatNumber(sum(driftWithout), 3)} without, and ${unitsWithLessDrift} of ${width} units drift less with BN.`;
  const panel = (title: string, tracks: Tracks) => ({
    title,
    series: PERCENTILES.map((p, k) => ({ name: `${p}th percentile`, points: tracks.steps.map((step, i) => ({ x: step, y: tracks.unitTracks[k]![i]! })) })),
  });
  return {
    name: covariateShiftClaim.name,
    title: covariateShiftClaim.title,
    articleSays: covariateShiftClaim.articleSays,
    method:
      `Two sigmoid networks 784-${budget.network.hiddenSizes.join('-')}-10 from the same N(0, ${budget.network.initStd}²) weights and the same batches, trained ${budget.steps} SGD steps ` +
      `(batch ${budget.batchSize}, learning rate ${budget.learningRate}). Every ${budget.checkpointEvery} steps the first ${probe.count} validation images go through each network in inference mode, ` +
      "the BN layers normalizing the probe with its own statistics (so the moving averages' lag does not enter), and the percentiles of the sigmoid's input " +
      `(the BN output γ·x̂ + β with BN, x·W + b without) are taken over the probe, for unit ${budget.unit} of hidden layer ${lastLayer + 1} and for every unit. ` +
      `Drift = max − min of a percentile over the checkpoints after the first ${BURN_IN_FRACTION * 100}% of steps. The verdict needs the plotted unit and most units to drift less with BN.` +
      `${context.quick ? ' Quick budget: fewer steps and a smaller probe than the full run.' : ''}`,
    numbers: {
      ...Object.fromEntries(
        PERCENTILES.flatMap((p, k) => [
          [`driftWithoutBn@p${p}`, driftWithout[k]!],
          [`driftWithBn@p${p}`, driftWith[k]!],
        ]),
      ),
      medianDriftWithoutBn: medianDriftWithout,
      medianDriftWithBn: medianDriftWith,
      unitsWithLessDriftWithBn: unitsWithLessDrift,
      units: width,
      probeAccuracyWithoutBn: without.finalAccuracy,
      probeAccuracyWithBn: withBnTracks.finalAccuracy,
    },
    tables: [
      {
        title: `Drift of unit ${budget.unit}'s input percentiles (range after step ${without.steps[firstCounted]})`,
        columns: ['percentile', withoutBnName, withBnName],
        rows: PERCENTILES.map((p, k) => [`${p}th`, formatNumber(driftWithout[k]!, 4), formatNumber(driftWith[k]!, 4)]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'percentiles',
        caption: `The 15th, 50th and 85th percentiles of unit ${budget.unit}'s sigmoid input (hidden layer ${lastLayer + 1}) over training, on a fixed probe of ${probe.count} validation images.`,
        spec: panelGridSpec({
          title: `Input of a sigmoid unit in hidden layer ${lastLayer + 1} over training`,
          xTitle: 'training step',
          yTitle: 'sigmoid input',
          columns: 2,
          panels: [panel(withoutBnName, without), panel(withBnName, withBnTracks)],
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
