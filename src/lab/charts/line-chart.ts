/**
 * @file A line chart of several named series on shared axes, e.g. validation accuracy over
 * training steps without and with BN, as in the article's figures.
 */

import { chartConfig, vegaLiteSchemaUrl } from './chart-config.js';
import { assertUniqueNames, droppedPointCount, droppedPointsNote, type LineRow, plottableRows } from './plottable-points.js';
import { colorScaleFor } from './series-colors.js';
import type { AxisScale, Series, VegaLiteSpec } from './types.js';

export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  /** Fixes the y axis, e.g. [0, 1] for accuracy; lines that leave it are clipped at the frame. */
  yDomain?: [number, number];
  xScale?: AxisScale;
  yScale?: AxisScale;
  /** Plot area in pixels, without axes, title and legend. */
  width?: number;
  height?: number;
}

/** Series at most this long also get a dot per point: a short curve is a few measurements, and a reader should see where they are. */
const maxPointsForMarkers = 30;

/** What a line layer needs to know; shared with panel-grid.ts, where each panel is one. */
export interface LineLayerOptions {
  rows: LineRow[];
  seriesNames: readonly string[];
  /** null hides the axis title (inner panels of a grid). */
  xTitle: string | null;
  yTitle: string | null;
  xScale: AxisScale;
  yScale: AxisScale;
  yDomain: [number, number] | undefined;
  showMarkers: boolean;
}

/** The mark and encoding of a multi-series line plot (without data, size or title). */
export function lineLayer(options: LineLayerOptions) {
  const { xScale, yScale, yDomain } = options;
  return {
    // clip: with a fixed yDomain a diverging curve is cut at the frame, not drawn over the title.
    mark: { type: 'line' as const, clip: true, point: options.showMarkers },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative' as const,
        title: options.xTitle,
        scale: xScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: false },
      },
      y: {
        field: 'y',
        type: 'quantitative' as const,
        title: options.yTitle,
        scale: {
          type: yScale,
          ...(yDomain === undefined ? {} : { domain: [...yDomain], nice: false }),
          // A log scale has no zero; on a linear one we let Vega-Lite include it (its default).
        },
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        scale: colorScaleFor(options.seriesNames),
        legend: { title: null },
      },
    },
  };
}

/** Whether series this long should carry point markers. */
export function wantsMarkers(rows: readonly LineRow[], seriesCount: number): boolean {
  return seriesCount > 0 && rows.length / seriesCount <= maxPointsForMarkers;
}

/** A Vega-Lite spec for one line chart with a legend. Throws if two series share a name. */
export function lineChartSpec(options: LineChartOptions): VegaLiteSpec {
  const xScale = options.xScale ?? 'linear';
  const yScale = options.yScale ?? 'linear';
  const seriesNames = options.series.map((series) => series.name);
  assertUniqueNames(seriesNames, 'Series');
  validateDomain(options.yDomain, yScale);

  const { rows, dropped } = plottableRows(options.series, xScale, yScale);
  const note = droppedPointsNote(dropped);
  return {
    $schema: vegaLiteSchemaUrl,
    title: note === undefined ? { text: options.title } : { text: options.title, subtitle: note },
    description: note === undefined ? options.title : `${options.title} (${note})`,
    usermeta: { droppedPoints: droppedPointCount(dropped) },
    width: options.width ?? 480,
    height: options.height ?? 300,
    data: { values: rows },
    ...lineLayer({
      rows,
      seriesNames,
      xTitle: options.xTitle,
      yTitle: options.yTitle,
      xScale,
      yScale,
      yDomain: options.yDomain,
      showMarkers: wantsMarkers(rows, seriesNames.length),
    }),
    config: chartConfig,
  };
}

/** A y domain must be two finite numbers, low before high, and positive on a log axis. */
export function validateDomain(domain: [number, number] | undefined, scale: AxisScale): void {
  if (domain === undefined) return;
  const [low, high] = domain;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new RangeError(`yDomain must be two finite numbers with low < high, got [${low}, ${high}].`);
  }
  if (scale === 'log' && low <= 0) throw new RangeError(`yDomain on a log axis must start above 0, got [${low}, ${high}].`);
}
