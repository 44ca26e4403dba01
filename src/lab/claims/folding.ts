/**
 * @file Claim `folding`: at inference BN is a fixed affine map per unit, so it folds into the
 * dense layer before it for deployment: W′ = W·γ/σ per output unit, b′ = β − γ·μ/σ (σ =
 * √(var + eps), μ and var the network's inference statistics). The folded network (no norm, a
 * bias per hidden unit) gives the unfolded one's logits to float32 rounding, and its inference is
 * timed against the unfolded one's on the same examples in alternating rounds.
 */
import { Matrix } from '../../core/matrix.js';
import { type Split, splitExamples } from '../../data/mnist.js';
import { MLP } from '../../nn/mlp.js';
import { barChartSpec } from '../charts/bar-chart.js';
import { withBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { accuracyOn, elapsedSince, formatNumber, formatPercent, headOf, type NetworkChoice, networkPair, specFor, trainForClaim } from './experiment-kit.js';
import { median } from './seed-statistics.js';

export interface FoldingBudget {
  network: NetworkChoice;
  learningRate: number;
  steps: number;
  batchSize: number;
  /** Test images whose logits are compared and whose inference is timed in batches of `evalBatchSize`. */
  testCount: number;
  evalBatchSize: number;
  /** Test images timed one at a time (a deployed model's usual call). */
  singleCount: number;
  /** Timing rounds; each round times the unfolded network, then the folded one (alternating which goes first). */
  rounds: number;
}

const FOLDING_FULL: FoldingBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  learningRate: 0.1,
  steps: 2000,
  batchSize: 60,
  testCount: 10000,
  evalBatchSize: 1000,
  singleCount: 2000,
  rounds: 15,
};

export const FOLDING_QUICK: FoldingBudget = { ...FOLDING_FULL, steps: 500, testCount: 5000, singleCount: 1000, rounds: 7 };

/** Float32 rounding, as a bound: the largest logit difference relative to the largest logit. */
export const FOLDING_RELATIVE_BOUND = 1e-4;

export const foldingClaim: Claim = {
  name: 'folding',
  title: 'BN folds into the dense layer before it for inference',
  description: "W′ = W·γ/σ, b′ = β − γ·μ/σ: the folded network's logits against the BN network's, and both inference times",
  articleSays:
    'At inference BN uses fixed population statistics, so it is a linear transform per unit, y = γ/√(Var[x]+ε)·x + (β − γ·E[x]/√(Var[x]+ε)) (the BN paper, Algorithm 2); ' +
    'deployment folds it into the preceding layer (W′ = W·γ/σ, b′ = β − γ·μ/σ), which must not change the outputs and saves work.',
  run: (context) => runFolding(context, context.quick ? FOLDING_QUICK : FOLDING_FULL),
};

/**
 * The network without norm whose every hidden layer is the BN layer folded into its dense layer,
 * in float64 then rounded once to float32: W′[i, j] = W[i, j]·s_j, b′_j = β_j + s_j·(b_j − μ_j)
 * with s_j = γ_j/√(var_j + eps) (b_j = 0 when the dense layer has no bias, as under BN).
 */
function foldBatchNorm(net: MLP, choice: NetworkChoice, maxBatchSize: number): MLP {
  const statistics = net.inferenceStatistics;
  if (!statistics) throw new RangeError('folding needs a network with BN');
  const biases: Float32Array[] = [];
  const weights = net.dense.map((dense, l) => {
    const norm = net.norms[l];
    const w = new Float32Array(dense.weights.data);
    const bias = new Float32Array(dense.outputs);
    if (dense.bias) bias.set(dense.bias.data);
    if (norm) {
      const { mean, variance } = norm.populationStatistics(statistics);
      const eps = norm.settings.eps;
      const scale = new Float64Array(dense.outputs);
      for (let j = 0; j < dense.outputs; j++) {
        scale[j] = (norm.gamma ? norm.gamma.data[j]! : 1) / Math.sqrt(variance[j]! + eps);
        bias[j] = (norm.beta ? norm.beta.data[j]! : 0) + scale[j]! * (bias[j]! - mean[j]!);
      }
      const source = dense.weights.data;
      for (let i = 0; i < dense.inputs; i++) {
        for (let j = 0; j < dense.outputs; j++) w[i * dense.outputs + j] = source[i * dense.outputs + j]! * scale[j]!;
      }
    }
    biases.push(bias);
    return new Matrix(dense.inputs, dense.outputs, w);
  });
  const folded = new MLP(net.kernels, specFor(choice, false, true), weights, { maxBatchSize });
  folded.dense.forEach((dense, l) => {
    dense.bias!.data.set(biases[l]!);
  });
  folded.sparseInput = net.sparseInput; // the same first-layer kernel (MNIST pixels are mostly zeros)
  return folded;
}

/** Every logit of `net` on `split` in inference mode, `batchSize` rows at a time. */
function logitsOf(net: MLP, split: Split, batchSize: number): Float32Array {
  const out = new Float32Array(split.count * 10);
  const examples = splitExamples(split);
  for (let start = 0; start < split.count; start += batchSize) {
    const rows = Math.min(batchSize, split.count - start);
    const x = net.inputFor(rows);
    examples.copyRows(start, rows, x, net.kernels);
    out.set(net.forward(x, 'infer').data.subarray(0, rows * 10), start * 10);
  }
  return out;
}

/** Milliseconds of inference over `split` in batches of `batchSize` (the input copy included, as a deployment pays it). */
function timeInference(net: MLP, split: Split, batchSize: number): number {
  const examples = splitExamples(split);
  const started = performance.now();
  for (let start = 0; start < split.count; start += batchSize) {
    const rows = Math.min(batchSize, split.count - start);
    const x = net.inputFor(rows);
    examples.copyRows(start, rows, x, net.kernels);
    net.forward(x, 'infer');
  }
  return performance.now() - started;
}

interface InferenceTiming {
  batchSize: number;
  examples: number;
  unfoldedMs: number;
  foldedMs: number;
  /** Median unfolded time over median folded time: > 1 means folding is faster. */
  speedup: number;
  /** The smallest and largest per-round ratio. */
  lowestRatio: number;
  highestRatio: number;
}

function timeBoth(unfolded: MLP, folded: MLP, split: Split, batchSize: number, rounds: number): InferenceTiming {
  timeInference(unfolded, split, batchSize); // warm-up: compile, caches
  timeInference(folded, split, batchSize);
  const a: number[] = [],
    b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      a.push(timeInference(unfolded, split, batchSize));
      b.push(timeInference(folded, split, batchSize));
    } else {
      b.push(timeInference(folded, split, batchSize));
      a.push(timeInference(unfolded, split, batchSize));
    }
  }
  const ratios = a.map((t, i) => t / b[i]!);
  return {
    batchSize,
    examples: split.count,
    unfoldedMs: median(a),
    foldedMs: median(b),
    speedup: median(a) / median(b),
    lowestRatio: Math.min(...ratios),
    highestRatio: Math.max(...ratios),
  };
}

export async function runFolding(context: ClaimContext, budget: FoldingBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const { withBn: net } = networkPair(kernels, budget.network, seed);
  context.onProgress?.(`folding: training the BN network, ${budget.steps} steps`);
  await trainForClaim(net, data, { steps: budget.steps, batchSize: budget.batchSize, learningRate: budget.learningRate, seed });
  const folded = foldBatchNorm(net, budget.network, net.maxBatchSize);

  const test = headOf(data.test, budget.testCount);
  const reference = logitsOf(net, test, budget.evalBatchSize);
  const foldedLogits = logitsOf(folded, test, budget.evalBatchSize);
  let maxAbs = 0,
    maxLogit = 0,
    maxElementRelative = 0,
    disagreements = 0;
  for (let i = 0; i < reference.length; i++) {
    const difference = Math.abs(reference[i]! - foldedLogits[i]!);
    maxAbs = Math.max(maxAbs, difference);
    maxLogit = Math.max(maxLogit, Math.abs(reference[i]!));
    // Per element, relative to the logit where it is not tiny (|z| ≥ 1).
    if (Math.abs(reference[i]!) >= 1) maxElementRelative = Math.max(maxElementRelative, difference / Math.abs(reference[i]!));
  }
  for (let row = 0; row < test.count; row++) {
    let best = 0,
      bestFolded = 0;
    for (let k = 1; k < 10; k++) {
      if (reference[row * 10 + k]! > reference[row * 10 + best]!) best = k;
      if (foldedLogits[row * 10 + k]! > foldedLogits[row * 10 + bestFolded]!) bestFolded = k;
    }
    if (best !== bestFolded) disagreements++;
  }
  const relative = maxAbs / maxLogit;
  const accuracy = accuracyOn(net, test),
    foldedAccuracy = accuracyOn(folded, test);

  context.onProgress?.(`folding: timing inference, ${budget.rounds} alternating rounds`);
  const single = headOf(data.test, budget.singleCount);
  const timings = [timeBoth(net, folded, test, budget.evalBatchSize, budget.rounds), timeBoth(net, folded, single, 1, budget.rounds)];
  const equal = relative < FOLDING_RELATIVE_BOUND;
  const speedText = (t: InferenceTiming): string => {
    const inside = t.lowestRatio <= 1 && t.highestRatio >= 1;
    return `${t.speedup.toFixed(3)}× in batches of ${t.batchSize} (rounds ${t.lowestRatio.toFixed(2)}-${t.highestRatio.toFixed(2)}${inside ? ', so 1× is inside the round-to-round noise' : ''})`;
  };

  const lines = [
    `BN network 784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, ${budget.steps} steps at lr ${budget.learningRate}, folded with its ${net.inferenceStatistics!.estimator} statistics into a network without norm (a bias per hidden unit)`,
    `logits on ${test.count} test images: max |Δ| ${formatNumber(maxAbs, 8)}, max |Δ| / max |logit| ${formatNumber(relative, 8)} (max |logit| ${formatNumber(maxLogit, 3)}), per element (|logit| ≥ 1) at most ${formatNumber(maxElementRelative, 8)}; ${disagreements} predictions differ`,
    `test accuracy: unfolded ${formatPercent(accuracy, 2)}, folded ${formatPercent(foldedAccuracy, 2)}`,
    ...timings.map(
      (t) =>
        `inference of ${t.examples} images in batches of ${t.batchSize}: unfolded ${t.unfoldedMs.toFixed(1)} ms, folded ${t.foldedMs.toFixed(1)} ms (medians of ${budget.rounds} alternating rounds), folded faster by ${speedText(t)}`,
    ),
  ];
  return {
    name: foldingClaim.name,
    title: foldingClaim.title,
    articleSays: foldingClaim.articleSays,
    method:
      `One BN network 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, N(0, ${budget.network.initStd}²)) trained ${budget.steps} SGD steps of ${budget.batchSize} at learning rate ${budget.learningRate}. ` +
      'Each BN layer is folded into its dense layer in float64 and rounded once to float32 (W′ = W·γ/σ per output unit, b′ = β − γ·μ/σ, σ = √(var + eps), μ and var the moving averages the network infers with); ' +
      `the folded network is an ordinary network without norm. Logits of both in inference mode on the first ${test.count} test images; the verdict needs max |Δ| / max |logit| < ${FOLDING_RELATIVE_BOUND} (float32 rounding through four layers). ` +
      `Speed: both networks' inference over the same images (batches of ${budget.evalBatchSize}, and the first ${single.count} one at a time), ${budget.rounds} rounds alternating which network goes first, after a warm-up; the ratio of the medians. ` +
      "bnlab's BN already applies population statistics as one scale-and-shift pass per layer at inference, so folding saves that pass's multiply (a bias add remains) and the fold of the statistics into that scale and shift, which BN redoes at every call (a few hundred square roots and two small arrays per layer): " +
      'a cost that vanishes in batches of 1,000 and dominates one image at a time. ' +
      "Timings are measurements on a shared machine, not part of the verdict's pass/fail." +
      `${context.quick ? ' Quick budget: fewer training steps, images and rounds than the full run.' : ''}`,
    numbers: {
      maxAbsLogitDifference: maxAbs,
      maxRelativeLogitDifference: relative,
      maxElementRelativeDifference: maxElementRelative,
      predictionDisagreements: disagreements,
      accuracy,
      foldedAccuracy,
      ...Object.fromEntries(
        timings.flatMap((t) => [
          [`unfoldedMs@b${t.batchSize}`, t.unfoldedMs],
          [`foldedMs@b${t.batchSize}`, t.foldedMs],
          [`speedup@b${t.batchSize}`, t.speedup],
        ]),
      ),
    },
    tables: [
      {
        title: 'Inference time, unfolded vs folded (medians of alternating rounds)',
        columns: ['batch size', 'images', 'unfolded (ms)', 'folded (ms)', 'speed-up', 'per-round ratios'],
        rows: timings.map((t) => [
          t.batchSize,
          t.examples,
          t.unfoldedMs.toFixed(2),
          t.foldedMs.toFixed(2),
          `${t.speedup.toFixed(3)}×`,
          `${t.lowestRatio.toFixed(3)}-${t.highestRatio.toFixed(3)}`,
        ]),
      },
    ],
    verdict: {
      holds: equal,
      text: equal
        ? `holds: the folded network's logits equal the BN network's to float32 rounding (max |Δ| ${formatNumber(maxAbs, 8)}, ${formatNumber(relative, 8)} of the largest logit; ${disagreements} of ${test.count} predictions differ); ` +
          `its inference is ${timings.map(speedText).join(' and ')}.`
        : `does not hold: the folded logits differ by up to ${formatNumber(maxAbs, 8)} (${formatNumber(relative, 8)} of the largest logit, bound ${FOLDING_RELATIVE_BOUND}); speed ${timings.map(speedText).join(', ')}.`,
    },
    figures: [
      {
        name: 'inference-time',
        caption:
          'Inference time of the BN network and of its folded twin on the same test images, in batches and one at a time (medians of alternating rounds).',
        spec: barChartSpec({
          title: 'Inference time: BN network vs BN folded into the dense layers',
          xTitle: 'inference',
          yTitle: 'milliseconds (median)',
          barWidth: 50,
          bars: timings.flatMap((t) => [
            { category: `${t.examples} images, batches of ${t.batchSize}`, group: withBnName, value: t.unfoldedMs },
            { category: `${t.examples} images, batches of ${t.batchSize}`, group: 'BN folded', value: t.foldedMs },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
