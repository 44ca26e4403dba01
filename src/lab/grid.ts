/**
 * @file The reproduction grid as run specs: the chosen configurations × {without, with BN} ×
 * seeds 1..N, each with a stable id (`c3-nobn-s1`, `c3-bn-s1`) and its validated TrainConfig.
 * The two runs of a pair share the seed, so `initialWeightsFor` gives them the same initial
 * weights and the same batch order, as in the article. Pure.
 */
import { resolveTrainConfig, type TrainConfig } from '../train/config.js';
import {
  ARTICLE_BATCH_SIZE, ARTICLE_CONFIGURATIONS, ARTICLE_STEPS, articleConfiguration, CONFIGURATION_IDS,
  type ConfigurationId,
} from './article.js';

/** What makes two runs of the same id comparable; a runs dir holds runs of one GridSettings only. */
export interface GridSettings {
  steps: number;
  batchSize: number;
  validateEvery: number;
}

export const GRID_DEFAULTS: Readonly<GridSettings> = Object.freeze({ steps: ARTICLE_STEPS, batchSize: ARTICLE_BATCH_SIZE, validateEvery: 500 });

/** `--quick`: a first look at the grid in a few minutes (the article's short-run length). */
export const QUICK_STEPS = 3_000;

export interface GridSelection {
  configs: readonly ConfigurationId[];
  /** Seeds 1..seeds. */
  seeds: number;
}

export interface RunSpec {
  id: string;
  configId: ConfigurationId;
  batchNorm: boolean;
  seed: number;
  /** The full training config (config.batchNorm equals batchNorm). */
  config: TrainConfig;
}

/** `c3-bn-s1` (with BN) or `c3-nobn-s1` (without): configuration, network, seed. */
export function runId(configId: ConfigurationId, batchNorm: boolean, seed: number): string {
  return `c${configId}-${batchNorm ? 'bn' : 'nobn'}-s${seed}`;
}

const RUN_ID_PATTERN = /^c([1-8])-(bn|nobn)-s(\d+)$/;

/** The parts of a run id, or null when `id` is not one. */
export function parseRunId(id: string): { configId: ConfigurationId; batchNorm: boolean; seed: number } | null {
  const match = RUN_ID_PATTERN.exec(id);
  if (!match) return null;
  return { configId: Number(match[1]) as ConfigurationId, batchNorm: match[2] === 'bn', seed: Number(match[3]) };
}

/** The TrainConfig of one run: the configuration's std, lr and activation on the grid's settings. */
export function runConfig(configId: ConfigurationId, batchNorm: boolean, seed: number, settings: GridSettings): TrainConfig {
  const article = articleConfiguration(configId);
  return resolveTrainConfig({
    steps: settings.steps,
    batchSize: settings.batchSize,
    validateEvery: settings.validateEvery,
    learningRate: article.learningRate,
    initStd: article.initStd,
    activation: article.activation,
    seed,
    batchNorm,
    // The article trains every run to the end: a diverged run is a result (~10% accuracy).
    stopOnDivergence: false,
  });
}

/**
 * Every run of the grid, pair by pair (without BN, then with BN, for each config and seed), in
 * the article's configuration order.
 */
export function gridRuns(selection: GridSelection, settings: GridSettings): RunSpec[] {
  const runs: RunSpec[] = [];
  const configs = CONFIGURATION_IDS.filter((id) => selection.configs.includes(id));
  for (const configId of configs) {
    for (let seed = 1; seed <= selection.seeds; seed++) {
      for (const batchNorm of [false, true]) {
        runs.push({ id: runId(configId, batchNorm, seed), configId, batchNorm, seed, config: runConfig(configId, batchNorm, seed, settings) });
      }
    }
  }
  return runs;
}

/** The whole article grid: all eight configurations. */
export function articleGrid(seeds = 1, settings: GridSettings = GRID_DEFAULTS): RunSpec[] {
  return gridRuns({ configs: ARTICLE_CONFIGURATIONS.map((config) => config.id), seeds }, settings);
}

export function sameSettings(a: GridSettings, b: GridSettings): boolean {
  return a.steps === b.steps && a.batchSize === b.batchSize && a.validateEvery === b.validateEvery;
}

export function describeSettings(settings: GridSettings): string {
  return `${settings.steps} steps, batch ${settings.batchSize}, validation every ${settings.validateEvery} steps`;
}
