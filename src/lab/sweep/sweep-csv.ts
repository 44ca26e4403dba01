/**
 * @file A sweep's runs as CSV, one row per run in the report's order (combination, then seed):
 * its id and seed, its label and number on each axis, its final and last-half validation
 * accuracy, test accuracy, speed, divergence step, backend and data hash. Quoted as the
 * article's report CSV is. Pure.
 */
import { csvField } from '../report/csv.js';
import type { SweepReport } from './sweep-summary.js';

/** The header: fixed columns around two per axis, `<axis>_label` and `<axis>_value` (empty when the value is not a number). */
export function sweepCsvHeader(report: SweepReport): string[] {
  return [
    'id',
    'seed',
    ...report.axes.flatMap((axis) => [`${axis.name}_label`, `${axis.name}_value`]),
    'final_val_acc',
    'last_half_val_acc',
    'test_acc',
    'steps_per_s',
    'diverged_at_step',
    'backend',
    'data_hash',
  ];
}

function number(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '';
}

export function buildSweepCsv(report: SweepReport): string {
  const rows = report.runs.map((run) => [
    run.id,
    String(run.seed),
    ...run.axes.flatMap((value) => [value.label, value.numeric === null ? '' : String(value.numeric)]),
    number(run.validation.accuracy, 4),
    // A mean of several validations: more digits than one validation (a multiple of 1/5000) needs.
    number(run.lastHalfValidation, 6),
    number(run.test.accuracy, 4),
    number(run.stepsPerSecond, 1),
    run.divergedAtStep === null ? '' : String(run.divergedAtStep),
    run.backend,
    run.dataHash ?? '',
  ]);
  return `${[sweepCsvHeader(report), ...rows].map((fields) => fields.map(csvField).join(',')).join('\n')}\n`;
}
