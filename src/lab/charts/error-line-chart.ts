/**
 * @file Means with error bars, joined by lines: one line per series against a numeric setting,
 * e.g. accuracy (mean ± std over seeds) against the learning rate, one line per batch size;
 * optionally one panel per value of a third variable, on shared scales.
 */

import { chartConfig, vegaLiteSchemaUrl } from './chart-config.js';
import { assertUniqueNames, type DroppedPoints, droppedPointCount, droppedPointsNote } from './plottable-points.js';
import { colorScaleFor } from './series-colors.js';
import type { AxisScale, VegaLiteSpec } from './types.js';

/** One measurement: its mean and its spread (a standard deviation; 0 draws no bar). */
export interface ErrorPoint {
  x: number;
  mean: number;
  std: number;
}

export interface ErrorSeries {
  name: string;
  points: ErrorPoint[];
}

export interface ErrorPanel {
  title: string;
  series: ErrorSeries[];
}

export interface ErrorLineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** The legend's title (what the series are); the legend is left out with one series. */
  seriesTitle?: string;
  /** One panel draws one chart; several draw a grid of panels. */
  panels: ErrorPanel[];
  /** The panels' header title (the variable they split by). */
  panelTitle?: string;
  /** Panels per row. */
  columns?: number;
  xScale?: AxisScale;
  /** Ticks at exactly these x values (the values a sweep ran), instead of round numbers. */
  xTicks?: number[];
  /** Plot area of one panel in pixels. */
  width?: number;
  height?: number;
}

interface ErrorRow {
  panel: string;
  series: string;
  x: number;
  mean: number;
  low: number;
  high: number;
}

/** Rows for every drawable point; a NaN mean, or an x at or below 0 on a log axis, is counted instead. */
function errorRows(panels: readonly ErrorPanel[], xScale: AxisScale): { rows: ErrorRow[]; dropped: Array<DroppedPoints & { label: string }> } {
  const rows: ErrorRow[] = [];
  const dropped: Array<DroppedPoints & { label: string }> = [];
  for (const panel of panels) {
    for (const series of panel.series) {
      let nonFinite = 0;
      let nonPositiveOnLog = 0;
      for (const point of series.points) {
        if (!Number.isFinite(point.x) || !Number.isFinite(point.mean)) nonFinite++;
        else if (xScale === 'log' && point.x <= 0) nonPositiveOnLog++;
        else {
          const std = Number.isFinite(point.std) ? point.std : 0;
          rows.push({ panel: panel.title, series: series.name, x: point.x, mean: point.mean, low: point.mean - std, high: point.mean + std });
        }
      }
      const label = panels.length > 1 ? `${panel.title} / ${series.name}` : series.name;
      if (nonFinite + nonPositiveOnLog > 0) dropped.push({ series: series.name, label, nonFinite, nonPositiveOnLog });
    }
  }
  return { rows, dropped };
}

/**
 * A Vega-Lite spec for lines through means with a ± std bar at each. The y scale is fitted to
 * the bars (not forced to include 0), so close accuracies stay apart. Throws if two series of a
 * panel, or two panels, share a name.
 */
export function errorLineChartSpec(options: ErrorLineChartOptions): VegaLiteSpec {
  const { panels } = options;
  if (panels.length === 0) throw new RangeError('An error-bar chart needs at least one panel.');
  assertUniqueNames(
    panels.map((panel) => panel.title),
    'Panel',
  );
  const seriesNames: string[] = [];
  for (const panel of panels) {
    assertUniqueNames(
      panel.series.map((series) => series.name),
      `Series in panel "${panel.title}": series`,
    );
    for (const series of panel.series) if (!seriesNames.includes(series.name)) seriesNames.push(series.name);
  }
  const xScale = options.xScale ?? 'linear';
  const { rows, dropped } = errorRows(panels, xScale);
  const note = droppedPointsNote(dropped);

  const color = {
    field: 'series',
    type: 'nominal' as const,
    scale: colorScaleFor(seriesNames),
    legend: seriesNames.length > 1 ? { title: options.seriesTitle ?? null } : null,
  };
  const unit = {
    width: options.width ?? (panels.length > 1 ? 240 : 420),
    height: options.height ?? (panels.length > 1 ? 170 : 280),
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative' as const,
        title: options.xTitle,
        scale: xScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: false },
        ...(options.xTicks === undefined ? {} : { axis: { values: [...options.xTicks] } }),
      },
      color,
    },
    layer: [
      {
        mark: { type: 'rule' as const, strokeWidth: 1.5 },
        encoding: {
          y: { field: 'low', type: 'quantitative' as const, title: options.yTitle, scale: { zero: false } },
          y2: { field: 'high' },
        },
      },
      {
        mark: { type: 'line' as const, point: { size: 40 } },
        encoding: { y: { field: 'mean', type: 'quantitative' as const, title: options.yTitle, scale: { zero: false } } },
      },
    ],
  };
  const header = {
    $schema: vegaLiteSchemaUrl,
    title: note === undefined ? { text: options.title } : { text: options.title, subtitle: note },
    description: note === undefined ? options.title : `${options.title} (${note})`,
    usermeta: { droppedPoints: droppedPointCount(dropped) },
    data: { values: rows },
  };
  if (panels.length === 1) return { ...header, ...unit, config: chartConfig };
  return {
    ...header,
    facet: {
      field: 'panel',
      type: 'ordinal',
      title: options.panelTitle ?? null,
      sort: panels.map((panel) => panel.title),
      header: { labelFontWeight: 'bold' },
    },
    columns: options.columns ?? Math.min(3, panels.length),
    spec: unit,
    config: { ...chartConfig, legend: { ...chartConfig.legend, orient: 'top' } },
  } as VegaLiteSpec;
}
