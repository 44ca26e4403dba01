/**
 * @file A sweep's runs: the product of its axes' values × its seeds, each with a stable id made
 * of its values' labels and its seed (`c3-bn-s1`, `norm-bn-b32-s2`… see runIdOf) and its
 * validated TrainConfig. Runs of one seed share their initial weights and batch order wherever
 * their networks have the same shape. Pure.
 */
import { ConfigError, flagName, NORM_SETTINGS, resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import { type SweepSettingName, type SweepSettings, type SweepSpec, SweepSpecError, trainOverrides } from './sweep-spec.js';

/** One axis's value in a run: the axis, the value's label, and its number when it sets one. */
export interface RunAxisValue {
  axis: string;
  label: string;
  numeric: number | null;
}

export interface SweepRun {
  id: string;
  seed: number;
  /** The run's value on each axis, in the spec's axis order. */
  axes: RunAxisValue[];
  config: TrainConfig;
}

/** The id of a run: its axis labels and its seed, joined by '-'. */
export function runIdOf(axes: readonly Pick<RunAxisValue, 'label'>[], seed: number): string {
  return [...axes.map((value) => value.label), `s${seed}`].join('-');
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*-s\d+$/;

/** Whether `id` has the shape of a run id (a file in a runs dir that is not one is named, not read). */
export function isRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id) && id.length <= 400;
}

const FLAG_TO_SETTING: ReadonlyMap<string, SweepSettingName> = new Map([
  ...(
    [
      'steps',
      'batchSize',
      'learningRate',
      'validateEvery',
      'shuffle',
      'initStd',
      'activation',
      'hiddenSizes',
      'norm',
      ...NORM_SETTINGS,
      'bnEps',
      'bnMomentum',
      'bnEstimator',
      'bnAverageBatches',
      'evalBatchSize',
    ] as const
  ).map((setting): [string, SweepSettingName] => [flagName(setting), setting]),
  [flagName('batchNorm'), 'norm'],
]);

/** The config of one combination, or a SweepSpecError at the key that set the faulty setting. */
function configOf(spec: SweepSpec, values: readonly { axis: number; value: number }[], seed: number): TrainConfig {
  const sources: Array<{ key: string; settings: SweepSettings }> = [
    { key: 'fixed', settings: spec.fixed },
    ...values.map(({ axis, value }) => ({ key: `axes.${spec.axes[axis]!.name}[${value}]`, settings: spec.axes[axis]!.values[value]!.settings })),
  ];
  const overrides: Partial<TrainConfig> = {};
  for (const source of sources) Object.assign(overrides, trainOverrides(source.settings));
  try {
    // A sweep trains every run to the end: a diverged run is a result.
    return resolveTrainConfig({ ...overrides, seed, stopOnDivergence: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const setting = FLAG_TO_SETTING.get(error.setting) ?? null;
    const where = setting === null ? undefined : [...sources].reverse().find((source) => setting in source.settings);
    const message = setting === null ? error.message : error.message.replace(error.setting, setting);
    const combination =
      values.length > 1
        ? ` (in the run ${runIdOf(
            values.map(({ axis, value }) => spec.axes[axis]!.values[value]!),
            seed,
          )})`
        : '';
    throw new SweepSpecError(where?.key ?? setting ?? '', `${message}${where ? '' : ' (the default value)'}${combination}`);
  }
}

/**
 * Every run of the sweep: seed by seed (so a first look at every combination comes first), then
 * the axes' product with the last axis varying fastest. Throws SweepSpecError for a combination
 * that is not a valid config.
 */
export function sweepRuns(spec: SweepSpec): SweepRun[] {
  const runs: SweepRun[] = [];
  const counts = spec.axes.map((axis) => axis.values.length);
  const total = counts.reduce((a, b) => a * b, 1);
  for (const seed of spec.seeds) {
    for (let index = 0; index < total; index++) {
      let rest = index;
      const chosen = counts.map(() => 0);
      for (let axis = counts.length - 1; axis >= 0; axis--) {
        chosen[axis] = rest % counts[axis]!;
        rest = Math.floor(rest / counts[axis]!);
      }
      const values = chosen.map((value, axis) => ({ axis, value }));
      const axes = values.map(({ axis, value }): RunAxisValue => {
        const axisValue = spec.axes[axis]!.values[value]!;
        return { axis: spec.axes[axis]!.name, label: axisValue.label, numeric: axisValue.numeric };
      });
      runs.push({ id: runIdOf(axes, seed), seed, axes, config: configOf(spec, values, seed) });
    }
  }
  return runs;
}
