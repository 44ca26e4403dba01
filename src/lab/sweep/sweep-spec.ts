/**
 * @file A sweep as data: fixed settings, axes (lists of values for any training setting) and a
 * number of seeds. `parseSweepSpec` checks a parsed JSON or YAML document and names the offending
 * key (`axes.batchSize[2]`) in every error; docs/sweeps.md documents the schema. Pure.
 *
 *   name: norms-by-batch          # optional; names the report
 *   seeds: 2                      # seeds 1..2 (or a list: [1, 5, 9])
 *   fixed: { steps: 2000, learningRate: 0.5 }
 *   axes:
 *     norm: [none, bn, ln, rms]   # a setting's values (the axis is named by the setting)
 *     batchSize: [8, 32, 128]
 *     config:                     # or named values, each a group of settings
 *       - { label: c1, initStd: 0.05, learningRate: 0.01, activation: relu }
 */
import type { ActivationKind } from '../../core/kernels.js';
import {
  ACTIVATIONS,
  ESTIMATORS,
  type Estimator,
  NORM_PLACEMENTS,
  type NormKind,
  type NormPlacement,
  WEIGHT_NORM_INITS,
  type WeightNormOptions,
} from '../../nn/spec.js';
import type { TrainConfig } from '../../train/config.js';

/**
 * The normalizations a sweep can name (a network's `norm`): none, BatchNorm, Batch Renormalization
 * (limits and warm-up: `renormRmax`, `renormDmax`, `renormWarmup`), Ghost BN (virtual batch:
 * `ghostBatch`), Layer Norm, Group Norm (groups: `normGroups`), RMSNorm, Weight Norm
 * (`wnInit`, `wnMeanOnly`); any norm's place (`normPlacement`) and learnable γ/β (`normAffine`).
 */
export const SWEEP_NORMS = ['none', 'bn', 'brn', 'ghost', 'ln', 'gn', 'rms', 'wn'] as const satisfies readonly NormKind[];
export type SweepNorm = (typeof SWEEP_NORMS)[number];

/** The settings a sweep may fix or put on an axis: TrainConfig's training settings, and `norm`. */
export interface SweepSettings {
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  validateEvery?: number;
  shuffle?: boolean;
  initStd?: number;
  activation?: ActivationKind;
  hiddenSizes?: number[];
  norm?: SweepNorm;
  normGroups?: number;
  renormRmax?: number;
  renormDmax?: number;
  renormWarmup?: number;
  ghostBatch?: number;
  normPlacement?: NormPlacement;
  normAffine?: boolean;
  wnInit?: WeightNormOptions['init'];
  wnMeanOnly?: boolean;
  bnEps?: number;
  bnMomentum?: number;
  bnEstimator?: Estimator;
  bnAverageBatches?: number;
  evalBatchSize?: number;
}
export type SweepSettingName = keyof SweepSettings;

type Kind = 'number' | 'boolean' | 'numbers' | { oneOf: readonly string[] };

/** Each setting's JSON type and, for its label in a run id, a short prefix ('' = the value alone). */
const SETTINGS: Record<SweepSettingName, { kind: Kind; short: string }> = {
  steps: { kind: 'number', short: 'steps' },
  batchSize: { kind: 'number', short: 'b' },
  learningRate: { kind: 'number', short: 'lr' },
  validateEvery: { kind: 'number', short: 'v' },
  shuffle: { kind: 'boolean', short: 'shuffle' },
  initStd: { kind: 'number', short: 'std' },
  activation: { kind: { oneOf: ACTIVATIONS }, short: '' },
  hiddenSizes: { kind: 'numbers', short: 'h' },
  norm: { kind: { oneOf: SWEEP_NORMS }, short: '' },
  normGroups: { kind: 'number', short: 'g' },
  renormRmax: { kind: 'number', short: 'rmax' },
  renormDmax: { kind: 'number', short: 'dmax' },
  renormWarmup: { kind: 'number', short: 'rw' },
  ghostBatch: { kind: 'number', short: 'gb' },
  normPlacement: { kind: { oneOf: NORM_PLACEMENTS }, short: '' },
  normAffine: { kind: 'boolean', short: 'affine' },
  wnInit: { kind: { oneOf: WEIGHT_NORM_INITS }, short: 'init' },
  wnMeanOnly: { kind: 'boolean', short: 'meanonly' },
  bnEps: { kind: 'number', short: 'eps' },
  bnMomentum: { kind: 'number', short: 'mom' },
  bnEstimator: { kind: { oneOf: ESTIMATORS }, short: '' },
  bnAverageBatches: { kind: 'number', short: 'avg' },
  evalBatchSize: { kind: 'number', short: 'eb' },
};
export const SWEEP_SETTING_NAMES = Object.keys(SETTINGS) as SweepSettingName[];

function isSweepSetting(name: string): name is SweepSettingName {
  return Object.hasOwn(SETTINGS, name);
}

/** Bounds on what a spec may ask for, checked before anything runs. */
const SWEEP_LIMITS = { axes: 8, valuesPerAxis: 1000, seeds: 1000, runs: 100_000, maxSeed: 1_000_000 } as const;

interface AxisValue {
  /** Its part of a run id: safe in a file name. */
  label: string;
  settings: SweepSettings;
  /** The value to plot it at, when it sets one number (a learning rate, a batch size); null otherwise. */
  numeric: number | null;
}

interface SweepAxis {
  name: string;
  values: AxisValue[];
}

export interface SweepSpec {
  name: string;
  fixed: SweepSettings;
  axes: SweepAxis[];
  seeds: number[];
}

/** A spec that cannot be used; the message starts with the offending key. */
export class SweepSpecError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(key === '' ? message : `${key}: ${message}`);
    this.name = 'SweepSpecError';
  }
}

const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** One setting's value, type-checked (ranges are checked with the whole config by resolveTrainConfig). */
function settingValue(name: SweepSettingName, value: unknown, key: string): SweepSettings[SweepSettingName] {
  const { kind } = SETTINGS[name];
  if (kind === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new SweepSpecError(key, `must be a number, got ${describe(value)}`);
    return value;
  }
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw new SweepSpecError(key, `must be true or false, got ${describe(value)}`);
    return value;
  }
  if (kind === 'numbers') {
    if (!Array.isArray(value) || value.length === 0 || value.some((n) => typeof n !== 'number')) {
      throw new SweepSpecError(key, `must be a list of layer widths such as [128, 128, 128], got ${describe(value)}`);
    }
    return value as number[];
  }
  if (typeof value !== 'string' || !kind.oneOf.includes(value)) {
    throw new SweepSpecError(key, `must be one of ${kind.oneOf.join(', ')}, got ${describe(value)}`);
  }
  return value as SweepSettings[SweepSettingName];
}

function unknownSetting(name: string, key: string): SweepSpecError {
  return new SweepSpecError(key, `"${name}" is not a setting a sweep can set; the settings are ${SWEEP_SETTING_NAMES.join(', ')}`);
}

function settingsObject(value: unknown, key: string, allowLabel: boolean): { settings: SweepSettings; label: string | null } {
  if (!isObject(value)) throw new SweepSpecError(key, `must be an object of settings, got ${describe(value)}`);
  const settings: Record<string, unknown> = {};
  let label: string | null = null;
  for (const [name, setting] of Object.entries(value)) {
    if (allowLabel && name === 'label') {
      if (typeof setting !== 'string' || !LABEL_PATTERN.test(setting)) {
        throw new SweepSpecError(`${key}.label`, `must be 1-40 letters, digits, '.', '_', '+' or '-' (it names the runs' files), got ${describe(setting)}`);
      }
      label = setting;
      continue;
    }
    if (!isSweepSetting(name)) throw unknownSetting(name, `${key}.${name}`);
    settings[name] = settingValue(name, setting, `${key}.${name}`);
  }
  return { settings: settings as SweepSettings, label };
}

/** A value's label in run ids: `lr0.5`, `b32`, `h100x100`, `relu`, `bn`. */
function settingLabel(name: SweepSettingName, value: NonNullable<SweepSettings[SweepSettingName]>): string {
  const { short } = SETTINGS[name];
  if (typeof value === 'boolean') return value ? short : `no${short}`;
  const text = Array.isArray(value) ? value.join('x') : String(value);
  return `${short}${text}`;
}

function axisOf(name: string, value: unknown): SweepAxis {
  const key = `axes.${name}`;
  if (!NAME_PATTERN.test(name)) throw new SweepSpecError(key, 'an axis name is 1-64 letters, digits, ".", "_" or "-"');
  if (!Array.isArray(value) || value.length === 0) throw new SweepSpecError(key, `must be a non-empty list of values, got ${describe(value)}`);
  if (value.length > SWEEP_LIMITS.valuesPerAxis)
    throw new SweepSpecError(key, `has ${value.length} values; an axis may have at most ${SWEEP_LIMITS.valuesPerAxis}`);
  const values = value.map((item: unknown, index): AxisValue => {
    const itemKey = `${key}[${index}]`;
    if (isObject(item)) {
      const { settings, label } = settingsObject(item, itemKey, true);
      const names = Object.keys(settings) as SweepSettingName[];
      if (names.length === 0) throw new SweepSpecError(itemKey, 'sets no setting');
      const only = names.length === 1 ? settings[names[0]!] : undefined;
      const derived = names.map((setting) => settingLabel(setting, settings[setting]!)).join('-');
      const chosen = label ?? derived;
      if (!LABEL_PATTERN.test(chosen))
        throw new SweepSpecError(itemKey, `its label "${chosen}" is not usable in a file name: give it a "label" of letters, digits, '.', '_', '+' or '-'`);
      return { label: chosen, settings, numeric: typeof only === 'number' ? only : null };
    }
    if (!isSweepSetting(name)) {
      throw new SweepSpecError(
        itemKey,
        `axis "${name}" is not a setting, so its values must be objects of settings (with a "label"); the settings are ${SWEEP_SETTING_NAMES.join(', ')}`,
      );
    }
    const setting = settingValue(name, item, itemKey)!;
    const label = settingLabel(name, setting);
    if (!LABEL_PATTERN.test(label))
      throw new SweepSpecError(
        itemKey,
        `the value ${describe(item)} makes the label "${label}", not usable in a file name: write it as an object with a "label"`,
      );
    return { label, settings: { [name]: setting } as SweepSettings, numeric: typeof setting === 'number' ? setting : null };
  });
  const seen = new Map<string, number>();
  values.forEach((axisValue, index) => {
    const first = seen.get(axisValue.label);
    if (first !== undefined)
      throw new SweepSpecError(`${key}[${index}]`, `has the label "${axisValue.label}" of ${key}[${first}]: two values of an axis need different labels`);
    seen.set(axisValue.label, index);
  });
  return { name, values };
}

function seedsOf(value: unknown): number[] {
  const seedOk = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= SWEEP_LIMITS.maxSeed;
  if (value === undefined) return [1];
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > SWEEP_LIMITS.seeds)
      throw new SweepSpecError('seeds', `must be a whole number from 1 to ${SWEEP_LIMITS.seeds} (seeds 1..n) or a list of seeds, got ${describe(value)}`);
    return Array.from({ length: value }, (_, i) => i + 1);
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > SWEEP_LIMITS.seeds)
    throw new SweepSpecError('seeds', `must be a number of seeds or a list of 1 to ${SWEEP_LIMITS.seeds} seeds, got ${describe(value)}`);
  value.forEach((seed: unknown, index) => {
    if (!seedOk(seed)) throw new SweepSpecError(`seeds[${index}]`, `must be a whole number from 0 to ${SWEEP_LIMITS.maxSeed}, got ${describe(seed)}`);
  });
  const seeds = value as number[];
  if (new Set(seeds).size !== seeds.length) throw new SweepSpecError('seeds', 'lists a seed twice');
  return seeds;
}

/** Checks a parsed JSON or YAML document; throws SweepSpecError naming the offending key. */
export function parseSweepSpec(document: unknown): SweepSpec {
  if (!isObject(document)) throw new SweepSpecError('', `a sweep spec is an object with "axes" (and "fixed", "seeds", "name"), got ${describe(document)}`);
  for (const key of Object.keys(document)) {
    if (!['name', 'fixed', 'axes', 'seeds'].includes(key)) throw new SweepSpecError(key, 'is not a key of a sweep spec; the keys are name, fixed, axes, seeds');
  }
  const name = document.name ?? 'sweep';
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw new SweepSpecError('name', `must be 1-64 letters, digits, ".", "_" or "-", got ${describe(name)}`);
  const fixed = document.fixed === undefined ? {} : settingsObject(document.fixed, 'fixed', false).settings;
  if (!isObject(document.axes))
    throw new SweepSpecError('axes', `must be an object of axes such as { "learningRate": [0.01, 0.1] }, got ${describe(document.axes)}`);
  const axes = Object.entries(document.axes).map(([axisName, values]) => axisOf(axisName, values));
  if (axes.length === 0) throw new SweepSpecError('axes', 'has no axis: give at least one');
  if (axes.length > SWEEP_LIMITS.axes) throw new SweepSpecError('axes', `has ${axes.length} axes; a sweep may have at most ${SWEEP_LIMITS.axes}`);
  // A setting set in two places would be silently overruled in one of them.
  const setBy = new Map<string, string>(Object.keys(fixed).map((setting) => [setting, 'fixed']));
  for (const axis of axes) {
    const names = new Set(axis.values.flatMap((value) => Object.keys(value.settings)));
    for (const setting of names) {
      const other = setBy.get(setting);
      if (other !== undefined)
        throw new SweepSpecError(
          `axes.${axis.name}`,
          `sets "${setting}", which ${other === 'fixed' ? 'fixed' : `axes.${other}`} sets too: set each setting in one place`,
        );
      setBy.set(setting, axis.name);
    }
  }
  const seeds = seedsOf(document.seeds);
  const runs = axes.reduce((product, axis) => product * axis.values.length, seeds.length);
  if (runs > SWEEP_LIMITS.runs)
    throw new SweepSpecError(
      'axes',
      `make ${runs.toLocaleString('en-US')} runs with the seeds; a sweep may have at most ${SWEEP_LIMITS.runs.toLocaleString('en-US')}`,
    );
  return { name, fixed, axes, seeds };
}

/** The TrainConfig overrides of a group of sweep settings (`norm` also sets batchNorm, which records read). */
export function trainOverrides(settings: SweepSettings): Partial<TrainConfig> {
  const { norm, ...rest } = settings;
  return norm === undefined ? rest : { ...rest, norm, batchNorm: norm === 'bn' };
}
