/**
 * @file The article grid's settings (steps, batch size, validation interval) and their defaults.
 * The grid itself is a sweep shipped as sweeps/article.yaml (see src/lab/sweep/). Pure.
 */
import { ARTICLE_BATCH_SIZE, ARTICLE_STEPS } from './article.js';

/** What the article's report compares runs by: their length, batch size and validation interval. */
export interface GridSettings {
  steps: number;
  batchSize: number;
  validateEvery: number;
}

export const GRID_DEFAULTS: Readonly<GridSettings> = Object.freeze({ steps: ARTICLE_STEPS, batchSize: ARTICLE_BATCH_SIZE, validateEvery: 500 });

/** `--quick`: a first look at the grid in a few minutes (the article's short-run length). */
export const QUICK_STEPS = 3_000;

export function describeSettings(settings: GridSettings): string {
  return `${settings.steps} steps, batch ${settings.batchSize}, validation every ${settings.validateEvery} steps`;
}
