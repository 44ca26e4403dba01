/**
 * @file Claim `bias-redundancy`: under BN the hidden layers' bias is redundant, BN(xW + b) =
 * BN(xW), because the batch mean absorbs b. Measured by building the BN network with and
 * without the bias from the same weights (random biases), running one training-mode forward
 * and backward on a real MNIST batch, and comparing the outputs and the bias gradient.
 */
import { Rng } from '../../core/rng.js';
import { splitExamples } from '../../data/mnist.js';
import { MLP } from '../../nn/mlp.js';
import { deriveSeed } from '../../train/seeds.js';
import { lineChartSpec } from '../charts/line-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { elapsedSince, formatNumber, headOf, initialWeightsFor, type NetworkChoice, specFor } from './experiment-kit.js';

export interface BiasRedundancyBudget {
  network: NetworkChoice;
  batchSize: number;
  /** Std of the random hidden biases: large next to the linear outputs, so that cancelling them is a real test. */
  biasStd: number;
}

export const BIAS_REDUNDANCY_BUDGET: BiasRedundancyBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  batchSize: 60,
  biasStd: 1,
};

/** Float32 sums of O(1) numbers over a batch: anything below this is rounding, not a difference. */
const OUTPUT_TOLERANCE = 1e-4;
/** The bias gradient counts as zero when it is this small next to the layer's weight gradient. */
const RELATIVE_GRADIENT_TOLERANCE = 1e-4;

export const biasRedundancyClaim: Claim = {
  name: 'bias-redundancy',
  title: 'The linear bias is redundant under BN',
  description: 'BN(xW + b) = BN(xW): same outputs with and without the hidden bias, and ∂L/∂b ≈ 0',
  articleSays: 'The bias b of the linear layer is redundant under BN: BN(Wu + b) = BN(Wu), so it is dropped.',
  run: (context) => runBiasRedundancy(context, BIAS_REDUNDANCY_BUDGET),
};

export async function runBiasRedundancy(context: Pick<ClaimContext, 'kernels' | 'data' | 'seed'>, budget: BiasRedundancyBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const weights = initialWeightsFor(budget.network, seed);
  const withBias = new MLP(kernels, specFor(budget.network, true, true), weights);
  const withoutBias = new MLP(kernels, specFor(budget.network, true, false), weights);
  const rng = new Rng(deriveSeed(seed, 'experiment'));
  const hiddenCount = budget.network.hiddenSizes.length;
  for (let l = 0; l < hiddenCount; l++) rng.fillNormal(withBias.dense[l]!.bias!.data as Float32Array, budget.biasStd);

  const batch = headOf(data.train, budget.batchSize);
  const run = (net: MLP) => {
    const x = net.inputFor(batch.count); // [m, 784]
    splitExamples(batch).copyRows(0, batch.count, x, kernels);
    return net.computeGradients(x, batch.labels); // logits [m, 10]
  };
  const a = run(withBias);
  const b = run(withoutBias);

  const maxAbs = (values: ArrayLike<number>): number => {
    let max = 0;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
    return max;
  };
  const maxDifference = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
    let max = 0;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
    return max;
  };
  const logitDifference = maxDifference(a.logits.data, b.logits.data);
  const layers = Array.from({ length: hiddenCount }, (_, l) => ({
    layer: l + 1,
    bnOutputDifference: maxDifference(
      withBias.hiddenBuffers(batch.count)[l]!.preActivation.data,
      withoutBias.hiddenBuffers(batch.count)[l]!.preActivation.data,
    ),
    biasGradient: maxAbs(withBias.dense[l]!.biasGrad!.data),
    weightGradient: maxAbs(withBias.dense[l]!.weightGrad.data),
    weightGradientDifference: maxDifference(withBias.dense[l]!.weightGrad.data, withoutBias.dense[l]!.weightGrad.data),
  }));
  const worstRelativeBiasGradient = Math.max(...layers.map((layer) => layer.biasGradient / layer.weightGradient));
  const holds = logitDifference < OUTPUT_TOLERANCE && worstRelativeBiasGradient < RELATIVE_GRADIENT_TOLERANCE;

  const lines = [
    `hidden biases drawn from N(0, ${budget.biasStd}²); one training-mode forward/backward on ${batch.count} training images`,
    `max |logits with b − logits without b| = ${formatNumber(logitDifference, 8)}; losses ${a.loss.toFixed(6)} vs ${b.loss.toFixed(6)}`,
    ...layers.map(
      (layer) =>
        `layer ${layer.layer}: max |BN(xW+b) − BN(xW)| = ${formatNumber(layer.bnOutputDifference, 8)}, max |∂L/∂b| = ${formatNumber(layer.biasGradient, 8)} ` +
        `vs max |∂L/∂W| = ${formatNumber(layer.weightGradient, 6)}`,
    ),
  ];
  return {
    name: biasRedundancyClaim.name,
    title: biasRedundancyClaim.title,
    articleSays: biasRedundancyClaim.articleSays,
    method:
      `The BN network 784-${budget.network.hiddenSizes.join('-')}-10 (${budget.network.activation}, weights N(0, ${budget.network.initStd}²)) built twice from the same weights: ` +
      `with a hidden bias (random, N(0, ${budget.biasStd}²)) and without; one training-mode forward and backward on the first ${batch.count} training images, float32 on the ${kernels.name} backend. ` +
      `The outputs agree when they differ by less than ${OUTPUT_TOLERANCE}; the bias gradient counts as zero below ${RELATIVE_GRADIENT_TOLERANCE} × the weight gradient.`,
    numbers: {
      maxLogitDifference: logitDifference,
      lossWithBias: a.loss,
      lossWithoutBias: b.loss,
      maxBiasGradient: Math.max(...layers.map((layer) => layer.biasGradient)),
      maxRelativeBiasGradient: worstRelativeBiasGradient,
      maxWeightGradientDifference: Math.max(...layers.map((layer) => layer.weightGradientDifference)),
    },
    tables: [
      {
        title: 'Per hidden layer',
        columns: ['layer', 'max |BN(xW+b) − BN(xW)|', 'max |∂L/∂b|', 'max |∂L/∂W|', 'max |∂L/∂W with b − without b|'],
        rows: layers.map((layer) => [
          layer.layer,
          formatNumber(layer.bnOutputDifference, 8),
          formatNumber(layer.biasGradient, 8),
          formatNumber(layer.weightGradient, 6),
          formatNumber(layer.weightGradientDifference, 8),
        ]),
      },
    ],
    verdict: {
      holds,
      text: holds
        ? `holds: with and without the bias the network computes the same function (max logit difference ${formatNumber(logitDifference, 8)}) and ∂L/∂b is ${formatNumber(worstRelativeBiasGradient, 8)} of ∂L/∂W at most: float32 rounding.`
        : `does not hold: max logit difference ${formatNumber(logitDifference, 8)} (limit ${OUTPUT_TOLERANCE}), ∂L/∂b up to ${formatNumber(worstRelativeBiasGradient, 8)} × ∂L/∂W (limit ${RELATIVE_GRADIENT_TOLERANCE}).`,
    },
    figures: [
      {
        name: 'gradients',
        caption:
          'Per hidden layer, on a log scale: the weight gradient, the bias gradient (zero up to rounding) and the largest change the bias makes to the BN output, |BN(xW+b) − BN(xW)|.',
        spec: lineChartSpec({
          title: 'Under BN the bias changes nothing and gets no gradient',
          xTitle: 'hidden layer',
          yTitle: 'max absolute value (log scale)',
          yScale: 'log',
          series: [
            { name: 'max |∂L/∂W|', points: layers.map((layer) => ({ x: layer.layer, y: layer.weightGradient })) },
            { name: 'max |∂L/∂b|', points: layers.map((layer) => ({ x: layer.layer, y: layer.biasGradient })) },
            { name: 'max BN output change', points: layers.map((layer) => ({ x: layer.layer, y: layer.bnOutputDifference })) },
          ],
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
