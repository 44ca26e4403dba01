/**
 * @file The settings a runs dir is pinned to: its sweep's fixed settings. A record of other fixed
 * settings is never mixed in, and asking for other ones on an existing runs dir is refused. Axes
 * and seeds are not pinned: a sweep may grow values and seeds in the same runs dir. Pure.
 */
import type { TrainConfig } from '../../train/config.js';
import { SWEEP_SETTING_NAMES, type SweepSettingName, type SweepSettings, trainOverrides } from './sweep-spec.js';

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether two pinnings are the same settings with the same values. */
export function samePins(a: SweepSettings, b: SweepSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<SweepSettingName>;
  return [...keys].every((key) => sameValue(a[key], b[key]));
}

/** Whether every pinned setting of `pins` has that value in `config`. */
export function configHasPins(config: TrainConfig, pins: SweepSettings): boolean {
  return Object.entries(trainOverrides(pins)).every(([key, value]) => sameValue(config[key as keyof TrainConfig], value));
}

/** The settings whose values all `configs` share (what a runs dir that lost its manifest can be pinned to). */
export function sharedPins(configs: readonly TrainConfig[]): SweepSettings {
  const pins: Record<string, unknown> = {};
  for (const name of SWEEP_SETTING_NAMES) {
    const settingOf = (config: TrainConfig): unknown => config[name as keyof TrainConfig];
    const first = settingOf(configs[0]!);
    if (configs.every((config) => sameValue(settingOf(config), first))) pins[name] = first;
  }
  return pins as SweepSettings;
}

/** `steps 3000, batchSize 60, validateEvery 500` (or `no fixed settings`). */
export function describePins(pins: SweepSettings): string {
  const parts = Object.entries(pins).map(([key, value]) => `${key} ${Array.isArray(value) ? value.join(',') : String(value)}`);
  return parts.length === 0 ? 'no fixed settings' : parts.join(', ');
}
