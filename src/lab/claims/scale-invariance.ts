/**
 * @file Claim `scale-invariance`: BN(aWu) = BN(Wu); the gradient wrt the input u does not change
 * with the scale a of W, the gradient wrt the weights aW shrinks by 1/a. Measured on a real MNIST
 * batch by scaling the first layer's weights of the BN network by a; then the consequence the
 * article draws: a learning rate of 2 trains the ReLU network with BN and breaks it without.
 */
import { Matrix } from '../../core/matrix.js';
import { splitExamples } from '../../data/mnist.js';
import { MLP } from '../../nn/mlp.js';
import { lineChartSpec } from '../charts/line-chart.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import {
  accuracyOn,
  elapsedSince,
  formatNumber,
  formatPercent,
  headOf,
  initialWeightsFor,
  type NetworkChoice,
  networkPair,
  specFor,
  trainForClaim,
} from './experiment-kit.js';

export interface ScaleInvarianceBudget {
  network: NetworkChoice;
  scales: number[];
  batchSize: number;
  /** ε for the exact statement (BN(aWu) = BN(Wu) only as ε/σ² → 0); the default ε is reported beside it. */
  exactEps: number;
  defaultEps: number;
  /** The learning-rate run: steps per network, validation images per checkpoint, checkpoints. */
  largeLearningRate: number;
  trainingSteps: number;
  validationCount: number;
  checkpointEvery: number;
}

const SCALE_INVARIANCE_FULL: ScaleInvarianceBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  scales: [0.1, 1, 10, 100, 1000],
  batchSize: 60,
  exactEps: 1e-8,
  defaultEps: 1e-3,
  largeLearningRate: 2,
  trainingSteps: 3000,
  validationCount: 5000,
  checkpointEvery: 250,
};

export const SCALE_INVARIANCE_QUICK: ScaleInvarianceBudget = { ...SCALE_INVARIANCE_FULL, trainingSteps: 500, validationCount: 1000, checkpointEvery: 50 };

/** Ratios within this of their expected value count as "1" and "1/a" (float32 through a 4-layer network). */
const RATIO_TOLERANCE = 1e-3;
/** A run below this validation accuracy has failed (chance is 10%). */
const FAILED_BELOW = 0.2;

export const scaleInvarianceClaim: Claim = {
  name: 'scale-invariance',
  title: 'BN makes a layer insensitive to the scale of its weights',
  description: 'BN(aWu) = BN(Wu), ∂/∂u unchanged, ∂/∂(aW) × 1/a; hence learning rate 2 trains with BN',
  articleSays:
    'For a scalar a, BN(aWu) = BN(Wu); ∂BN(aWu)/∂u = ∂BN(Wu)/∂u; ∂BN(aWu)/∂(aW) = (1/a)·∂BN(Wu)/∂W, so larger weights get smaller gradients ' +
    'and large learning rates stop diverging. With lr 2 and ReLU the network without BN fails (about 10%) while BN reaches 98%.',
  run: (context) => runScaleInvariance(context, context.quick ? SCALE_INVARIANCE_QUICK : SCALE_INVARIANCE_FULL),
};

interface ScaleMeasurement {
  scale: number;
  bnOutputDifference: number;
  inputGradientRatio: number;
  weightGradientRatio: number;
  /** max |a·∂L/∂(aW) − ∂L/∂W| / max |∂L/∂W|: the 1/a law element by element. */
  weightGradientDeviation: number;
  /** The same measurements with the default ε. */
  defaultEpsOutputDifference: number;
  defaultEpsInputGradientRatio: number;
}

export async function runScaleInvariance(context: ClaimContext, budget: ScaleInvarianceBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const batch = headOf(data.train, budget.batchSize);
  const weights = initialWeightsFor(budget.network, seed);

  /** One forward/backward of the BN network whose first weight matrix is scaled by `scale`. */
  const measure = (scale: number, eps: number) => {
    const scaled = weights.map((w, i) => (i === 0 ? scaledCopy(w, scale) : w));
    const net = new MLP(kernels, specFor(budget.network, { eps }), scaled);
    const x = net.inputFor(batch.count); // [m, 784]
    splitExamples(batch).copyRows(0, batch.count, x, kernels);
    net.computeGradients(x, batch.labels);
    const first = net.hiddenBuffers(batch.count)[0]!;
    // The network needs no ∂L/∂u for its input layer; compute it here: ∂L/∂u = ∂L/∂(u·aW) · (aW)ᵀ.
    const inputGradient = kernels.matrix(batch.count, batch.width); // [m, 784]
    kernels.matmulTransposeB(first.dLinear, net.dense[0]!.weights, inputGradient);
    return {
      bnOutput: Float64Array.from(first.preActivation.data),
      inputGradient: Float64Array.from(inputGradient.data),
      weightGradient: Float64Array.from(net.dense[0]!.weightGrad.data),
    };
  };

  context.onProgress?.('scale-invariance: gradients at each scale');
  const base = measure(1, budget.exactEps);
  const baseDefault = measure(1, budget.defaultEps);
  const measurements: ScaleMeasurement[] = budget.scales.map((scale) => {
    const scaled = measure(scale, budget.exactEps);
    const scaledDefault = measure(scale, budget.defaultEps);
    let deviation = 0;
    for (let i = 0; i < base.weightGradient.length; i++) deviation = Math.max(deviation, Math.abs(scale * scaled.weightGradient[i]! - base.weightGradient[i]!));
    return {
      scale,
      bnOutputDifference: maxDifference(scaled.bnOutput, base.bnOutput),
      inputGradientRatio: norm(scaled.inputGradient) / norm(base.inputGradient),
      weightGradientRatio: norm(scaled.weightGradient) / norm(base.weightGradient),
      weightGradientDeviation: deviation / maxAbs(base.weightGradient),
      defaultEpsOutputDifference: maxDifference(scaledDefault.bnOutput, baseDefault.bnOutput),
      defaultEpsInputGradientRatio: norm(scaledDefault.inputGradient) / norm(baseDefault.inputGradient),
    };
  });
  const invariant = measurements.every(
    (m) =>
      Math.abs(m.inputGradientRatio - 1) <= RATIO_TOLERANCE && Math.abs(m.weightGradientRatio * m.scale - 1) <= RATIO_TOLERANCE && m.bnOutputDifference <= 1e-3,
  );

  // The consequence: learning rate 2, ReLU, without and with BN (default ε), same weights and batches.
  const validation = headOf(data.validation, budget.validationCount);
  const { withoutBn, withBn } = networkPair(kernels, budget.network, seed);
  const curves: Record<string, Array<{ x: number; y: number }>> = { [withoutBnName]: [], [withBnName]: [] };
  const finals: Record<string, { accuracy: number; divergedAtStep: number | null }> = {};
  for (const [label, net] of [
    [withoutBnName, withoutBn],
    [withBnName, withBn],
  ] as const) {
    context.onProgress?.(`scale-invariance: ${budget.trainingSteps} steps at learning rate ${budget.largeLearningRate}, ${label}`);
    const result = await trainForClaim(net, data, {
      steps: budget.trainingSteps,
      batchSize: budget.batchSize,
      learningRate: budget.largeLearningRate,
      seed,
      checkpointEvery: budget.checkpointEvery,
      onCheckpoint: (step) => curves[label]!.push({ x: step, y: accuracyOn(net, validation) }),
    });
    finals[label] = { accuracy: curves[label]!.at(-1)!.y, divergedAtStep: result.divergedAtStep };
  }
  const withoutAccuracy = finals[withoutBnName]!.accuracy,
    withAccuracy = finals[withBnName]!.accuracy;
  const consequence = withoutAccuracy < FAILED_BELOW && withAccuracy >= FAILED_BELOW + 0.5;
  const holds = invariant && consequence;

  const worstInput = Math.max(...measurements.map((m) => Math.abs(m.inputGradientRatio - 1)));
  const worstWeight = Math.max(...measurements.map((m) => Math.abs(m.weightGradientRatio * m.scale - 1)));
  const lines = [
    `first-layer weights W scaled by a; BN network 784-${budget.network.hiddenSizes.join('-')}-10 ${budget.network.activation}, ${batch.count} training images, ε = ${budget.exactEps}`,
    ...measurements.map(
      (m) =>
        `a = ${String(m.scale).padEnd(5)} max|BN(aWu) − BN(Wu)| = ${formatNumber(m.bnOutputDifference, 7)}, ‖∂L/∂u‖ ratio = ${m.inputGradientRatio.toFixed(6)}, ` +
        `‖∂L/∂(aW)‖ ratio = ${formatNumber(m.weightGradientRatio, 6)} (1/a = ${formatNumber(1 / m.scale, 6)}); with ε = ${budget.defaultEps}: output difference ${formatNumber(m.defaultEpsOutputDifference, 5)}`,
    ),
    `learning rate ${budget.largeLearningRate}, ${budget.trainingSteps} steps: validation accuracy without BN ${formatPercent(withoutAccuracy)}` +
      `${finals[withoutBnName]!.divergedAtStep !== null ? ` (loss NaN/∞ from step ${finals[withoutBnName]!.divergedAtStep})` : ''}, with BN ${formatPercent(withAccuracy)}`,
  ];
  const verdictText = [
    invariant
      ? `holds: the input-gradient ratio is 1 within ${formatNumber(worstInput, 2)} and the weight-gradient ratio is 1/a within ${formatNumber(worstWeight, 2)} (relative) for a from ${budget.scales[0]} to ${budget.scales.at(-1)}`
      : `the invariance does not hold within ${RATIO_TOLERANCE}: input-gradient ratio off 1 by up to ${formatNumber(worstInput, 3)}, weight-gradient ratio off 1/a by up to ${formatNumber(worstWeight, 3)}`,
    consequence
      ? `; at learning rate ${budget.largeLearningRate} the network without BN fails (${formatPercent(withoutAccuracy)}) while BN trains (${formatPercent(withAccuracy)}).`
      : `; but at learning rate ${budget.largeLearningRate} the measured accuracies (without BN ${formatPercent(withoutAccuracy)}, with BN ${formatPercent(withAccuracy)}) do not show the article's failure without BN and success with BN.`,
  ].join('');
  return {
    name: scaleInvarianceClaim.name,
    title: scaleInvarianceClaim.title,
    articleSays: scaleInvarianceClaim.articleSays,
    method:
      `The BN network 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, weights N(0, ${budget.network.initStd}²)) with its first weight matrix scaled by a ∈ {${budget.scales.join(', ')}}; ` +
      `one training-mode forward and backward on the first ${batch.count} training images. ∂L/∂u = ∂L/∂(u·aW)·(aW)ᵀ. Ratios are of Euclidean norms against a = 1. ` +
      `The statement is exact for ε → 0, so it is measured with ε = ${budget.exactEps}; with TensorFlow's ε = ${budget.defaultEps} small scales break it (ε is then not small next to a²σ²). ` +
      `Then ${budget.trainingSteps} SGD steps of batch ${budget.batchSize} at learning rate ${budget.largeLearningRate} for both networks from the same weights and batches; accuracy on the first ${validation.count} validation images` +
      `${context.quick ? ' (quick budget: the article ran 50,000 steps)' : ''}.`,
    numbers: {
      maxInputGradientRatioError: worstInput,
      maxWeightGradientRatioError: worstWeight,
      ...Object.fromEntries(
        measurements.flatMap((m) => [
          [`inputGradientRatio@${m.scale}`, m.inputGradientRatio],
          [`weightGradientRatio@${m.scale}`, m.weightGradientRatio],
        ]),
      ),
      largeLrAccuracyWithoutBn: withoutAccuracy,
      largeLrAccuracyWithBn: withAccuracy,
    },
    tables: [
      {
        title: `Scaling the first layer's weights by a (ε = ${budget.exactEps}; last two columns ε = ${budget.defaultEps})`,
        columns: [
          'a',
          'max |BN(aWu) − BN(Wu)|',
          '‖∂L/∂u‖ ratio',
          '‖∂L/∂(aW)‖ ratio',
          '1/a',
          'max |a·∂L/∂(aW) − ∂L/∂W| (rel.)',
          `output diff., ε ${budget.defaultEps}`,
          `‖∂L/∂u‖ ratio, ε ${budget.defaultEps}`,
        ],
        rows: measurements.map((m) => [
          m.scale,
          formatNumber(m.bnOutputDifference, 7),
          m.inputGradientRatio.toFixed(6),
          formatNumber(m.weightGradientRatio, 6),
          formatNumber(1 / m.scale, 6),
          formatNumber(m.weightGradientDeviation, 6),
          formatNumber(m.defaultEpsOutputDifference, 5),
          m.defaultEpsInputGradientRatio.toFixed(4),
        ]),
      },
      {
        title: `Learning rate ${budget.largeLearningRate}, ${budget.trainingSteps} steps`,
        columns: ['network', 'validation accuracy', 'loss became NaN/∞ at step'],
        rows: [withoutBnName, withBnName].map((label) => [label, formatPercent(finals[label]!.accuracy, 2), finals[label]!.divergedAtStep ?? '–']),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'gradient-ratios',
        caption:
          'Gradient norms at weight scale a relative to a = 1 (log-log): the input gradient stays at 1; the weight gradient is drawn over the expected 1/a line, which it covers where they agree.',
        spec: lineChartSpec({
          title: 'Scaling W by a: gradients relative to a = 1',
          xTitle: "scale a of the first layer's weights",
          yTitle: 'gradient norm ratio (log scale)',
          xScale: 'log',
          yScale: 'log',
          series: [
            // The expected 1/a first, so the measured line is drawn over it (where they agree it hides it).
            { name: '1/a (expected)', points: measurements.map((m) => ({ x: m.scale, y: 1 / m.scale })) },
            { name: '‖∂L/∂u‖ ratio', points: measurements.map((m) => ({ x: m.scale, y: m.inputGradientRatio })) },
            { name: '‖∂L/∂(aW)‖ ratio', points: measurements.map((m) => ({ x: m.scale, y: m.weightGradientRatio })) },
          ],
        }),
      },
      {
        name: 'large-learning-rate',
        caption: `Validation accuracy over training at learning rate ${budget.largeLearningRate} (ReLU, std ${budget.network.initStd}), without and with BN.`,
        spec: lineChartSpec({
          title: `Learning rate ${budget.largeLearningRate}: validation accuracy`,
          xTitle: 'training step',
          yTitle: 'validation accuracy',
          yDomain: [0, 1],
          series: [withoutBnName, withBnName].map((name) => ({ name, points: curves[name]! })),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}

function scaledCopy(matrix: Matrix, scale: number): Matrix {
  const copy = new Matrix(matrix.rows, matrix.cols, matrix.data.slice());
  for (let i = 0; i < copy.data.length; i++) copy.data[i] = copy.data[i]! * scale;
  return copy;
}

function norm(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

function maxDifference(a: Float64Array, b: Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
