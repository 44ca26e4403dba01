/**
 * @file Turns series into the rows a chart draws, leaving out what cannot be drawn: NaN or
 * infinite values (a diverged run's loss) and, on a log axis, values at or below zero. It counts
 * what it left out so the chart can say so instead of hiding it.
 */

import type { AxisScale, Series } from './types.js';

/** One row of a line chart's data table. */
export interface LineRow {
  series: string;
  x: number;
  y: number;
}

/** How many points of one series were left out, and why. */
export interface DroppedPoints {
  series: string;
  nonFinite: number;
  nonPositiveOnLog: number;
}

export interface PlottableRows {
  rows: LineRow[];
  /** Only the series that lost at least one point, in input order. */
  dropped: DroppedPoints[];
}

/** Rows for every drawable point, and the count of undrawable ones per series. */
export function plottableRows(series: readonly Series[], xScale: AxisScale, yScale: AxisScale): PlottableRows {
  const rows: LineRow[] = [];
  const dropped: DroppedPoints[] = [];
  for (const { name, points } of series) {
    let nonFinite = 0;
    let nonPositiveOnLog = 0;
    for (const { x, y } of points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        nonFinite++;
      } else if ((xScale === 'log' && x <= 0) || (yScale === 'log' && y <= 0)) {
        nonPositiveOnLog++;
      } else {
        rows.push({ series: name, x, y });
      }
    }
    if (nonFinite + nonPositiveOnLog > 0) dropped.push({ series: name, nonFinite, nonPositiveOnLog });
  }
  return { rows, dropped };
}

/** Series names must be unique in one chart: two curves with one name would be drawn as one. */
export function assertUniqueNames(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new RangeError(`${what} names must be unique in one chart, but "${name}" appears twice: rename one of them.`);
    seen.add(name);
  }
}

/** How many entries a note lists by name before it summarizes the rest. */
const namedEntriesInNote = 3;

/**
 * One line for the chart's subtitle saying what was not drawn, e.g.
 * "not drawn: 12 NaN or infinite points (without BN 12)"; undefined when nothing was dropped.
 * `label` names an entry, e.g. "3: std 0.5, lr 0.01, relu / without BN" in a grid.
 */
export function droppedPointsNote(dropped: ReadonlyArray<DroppedPoints & { label?: string }>): string | undefined {
  const parts: string[] = [];
  const describe = (count: number, what: string, pick: (entry: DroppedPoints) => number): void => {
    if (count === 0) return;
    const entries = dropped.filter((entry) => pick(entry) > 0);
    const named = entries.slice(0, namedEntriesInNote).map((entry) => `${entry.label ?? entry.series} ${pick(entry)}`);
    if (entries.length > namedEntriesInNote) named.push(`${entries.length - namedEntriesInNote} more`);
    parts.push(`${count} ${what} (${named.join(', ')})`);
  };
  const nonFinite = dropped.reduce((sum, entry) => sum + entry.nonFinite, 0);
  const nonPositive = dropped.reduce((sum, entry) => sum + entry.nonPositiveOnLog, 0);
  describe(nonFinite, nonFinite === 1 ? 'NaN or infinite point' : 'NaN or infinite points', (entry) => entry.nonFinite);
  describe(nonPositive, nonPositive === 1 ? 'point at or below 0 on a log axis' : 'points at or below 0 on a log axis', (entry) => entry.nonPositiveOnLog);
  return parts.length === 0 ? undefined : `not drawn: ${parts.join('; ')}`;
}

/** The total number of points left out, for the spec's usermeta. */
export function droppedPointCount(dropped: readonly DroppedPoints[]): number {
  return dropped.reduce((sum, entry) => sum + entry.nonFinite + entry.nonPositiveOnLog, 0);
}
