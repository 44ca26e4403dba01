/**
 * @file The article's experiment as data: its eight configurations (initial weight std × learning
 * rate × activation) and the figures it reports for each, without and with BN, transcribed from
 * its results table (reference/article-table.csv, from "Batch Normalization原理与实战", 2018).
 * Pure: no Node, no I/O. test/lab/article.test.ts checks every number here against the CSV.
 */
import type { ActivationKind } from '../core/kernels.js';

const ARTICLE_TITLE = 'Batch Normalization原理与实战';
export const ARTICLE_CITATION = `the article "${ARTICLE_TITLE}" (Batch Normalization: theory and practice), 2018`;

/** The article's training length and batch size for the table (the BN paper's "50000 steps, 60 examples per mini-batch"). */
export const ARTICLE_STEPS = 50_000;
export const ARTICLE_BATCH_SIZE = 60;
/** The article's short run of model 1, to show convergence speed. */
const ARTICLE_SHORT_STEPS = 3_000;

/** A configuration number as the article numbers its models: 1..8. */
export type ConfigurationId = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface ArticleConfiguration {
  id: ConfigurationId;
  initStd: number;
  learningRate: number;
  activation: Extract<ActivationKind, 'relu' | 'sigmoid'>;
}

/** Final accuracies of one network (fractions in [0, 1]). */
export interface ArticleAccuracies {
  validation: number;
  test: number;
}

export interface ArticleFigures {
  configId: ConfigurationId;
  steps: number;
  batchSize: number;
  withoutBn: ArticleAccuracies;
  withBn: ArticleAccuracies;
  /** tqdm iterations per second on the author's machine (TensorFlow 1.6); null where the article shows none. */
  withoutBnStepsPerSecond: number | null;
  withBnStepsPerSecond: number | null;
}

/** The grid in the article's order: std 0.05 before 10, lr 0.01 before 2, ReLU before sigmoid. */
export const ARTICLE_CONFIGURATIONS: readonly ArticleConfiguration[] = Object.freeze([
  { id: 1, initStd: 0.05, learningRate: 0.01, activation: 'relu' },
  { id: 2, initStd: 0.05, learningRate: 0.01, activation: 'sigmoid' },
  { id: 3, initStd: 0.05, learningRate: 2, activation: 'relu' },
  { id: 4, initStd: 0.05, learningRate: 2, activation: 'sigmoid' },
  { id: 5, initStd: 10, learningRate: 0.01, activation: 'relu' },
  { id: 6, initStd: 10, learningRate: 0.01, activation: 'sigmoid' },
  { id: 7, initStd: 10, learningRate: 2, activation: 'relu' },
  { id: 8, initStd: 10, learningRate: 2, activation: 'sigmoid' },
] as const);

function figures(
  configId: ConfigurationId,
  steps: number,
  withoutBn: [number, number],
  withBn: [number, number],
  speeds: [number, number] | null,
): ArticleFigures {
  return {
    configId,
    steps,
    batchSize: ARTICLE_BATCH_SIZE,
    withoutBn: { validation: withoutBn[0], test: withoutBn[1] },
    withBn: { validation: withBn[0], test: withBn[1] },
    withoutBnStepsPerSecond: speeds?.[0] ?? null,
    withBnStepsPerSecond: speeds?.[1] ?? null,
  };
}

/** The article's table after 50,000 steps: [validation, test] without BN, then with BN. */
export const ARTICLE_RESULTS: readonly ArticleFigures[] = Object.freeze([
  figures(1, ARTICLE_STEPS, [0.9774, 0.9746], [0.98, 0.9801], null),
  figures(2, ARTICLE_STEPS, [0.8616, 0.857], [0.9746, 0.97], [480.48, 335.98]),
  figures(3, ARTICLE_STEPS, [0.1126, 0.0982], [0.9846, 0.9805], [481.45, 323.11]),
  figures(4, ARTICLE_STEPS, [0.9812, 0.9784], [0.983, 0.9802], [574.69, 325.62]),
  figures(5, ARTICLE_STEPS, [0.0958, 0.098], [0.7802, 0.7728], null),
  figures(6, ARTICLE_STEPS, [0.292, 0.2897], [0.857, 0.8496], [489.51, 314.49]),
  figures(7, ARTICLE_STEPS, [0.0958, 0.098], [0.11, 0.0974], [507.39, 327.77]),
  figures(8, ARTICLE_STEPS, [0.0868, 0.098], [0.9388, 0.9354], [494.57, 328.44]),
]);

/** The article's 3,000-step run of model 1 (its table's row "1-short"). */
export const ARTICLE_SHORT_RUN: ArticleFigures = Object.freeze(figures(1, ARTICLE_SHORT_STEPS, [0.8934, 0.8906], [0.9652, 0.9597], [429.97, 265.27]));

export const CONFIGURATION_IDS: readonly ConfigurationId[] = ARTICLE_CONFIGURATIONS.map((config) => config.id);

export function isConfigurationId(value: number): value is ConfigurationId {
  return (CONFIGURATION_IDS as readonly number[]).includes(value);
}

export function articleConfiguration(id: ConfigurationId): ArticleConfiguration {
  return ARTICLE_CONFIGURATIONS[id - 1]!;
}

/**
 * The article's figures to set beside a bnlab run of `steps` steps: the table for 50,000 steps,
 * the short run for model 1 at 3,000 steps, and null otherwise (nothing the article measured).
 */
export function articleFiguresFor(id: ConfigurationId, steps: number): ArticleFigures | null {
  if (steps === ARTICLE_STEPS) return ARTICLE_RESULTS[id - 1]!;
  if (steps === ARTICLE_SHORT_RUN.steps && id === ARTICLE_SHORT_RUN.configId) return ARTICLE_SHORT_RUN;
  return null;
}

/** "std 0.05, lr 2, ReLU": how the report names a configuration. */
export function describeConfiguration(config: ArticleConfiguration): string {
  const activation = config.activation === 'relu' ? 'ReLU' : 'sigmoid';
  return `std ${config.initStd}, lr ${config.learningRate}, ${activation}`;
}
