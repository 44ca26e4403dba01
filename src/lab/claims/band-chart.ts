/**
 * @file Bands over training, as in Santurkar et al.'s Figure 4: per series, a shaded band from
 * `low` to `high` at each x and a line through `mid`, optionally one panel per measure. Pure
 * Vega-Lite (the claims' own chart; lab/charts has lines, bars and error bars).
 */
import { chartConfig, vegaLiteSchemaUrl } from '../charts/chart-config.js';
import { colorScaleFor } from '../charts/series-colors.js';
import type { VegaLiteSpec } from '../charts/types.js';

interface BandPoint {
  x: number;
  low: number;
  mid: number;
  high: number;
}

export interface BandSeries {
  name: string;
  points: BandPoint[];
}

interface BandPanel {
  title: string;
  yTitle: string;
  series: BandSeries[];
  yScale?: 'linear' | 'log';
}

export interface BandChartOptions {
  title: string;
  xTitle: string;
  panels: BandPanel[];
  width?: number;
  height?: number;
}

/** One band panel per measure, side by side; non-finite points (and ≤ 0 on a log axis) are left out. */
export function bandChartSpec(options: BandChartOptions): VegaLiteSpec {
  if (options.panels.length === 0) throw new RangeError('a band chart needs at least one panel');
  const names: string[] = [];
  for (const panel of options.panels) for (const series of panel.series) if (!names.includes(series.name)) names.push(series.name);
  const color = { field: 'series', type: 'nominal' as const, scale: colorScaleFor(names), legend: { title: null } };
  const unit = (panel: BandPanel) => {
    const log = panel.yScale === 'log';
    const values = panel.series.flatMap((series) =>
      series.points
        .filter((p) => [p.x, p.low, p.mid, p.high].every(Number.isFinite) && (!log || p.low > 0))
        .map((p) => ({ series: series.name, x: p.x, low: p.low, mid: p.mid, high: p.high })),
    );
    const y = (field: string) => ({
      field,
      type: 'quantitative' as const,
      title: panel.yTitle,
      scale: { type: log ? ('log' as const) : ('linear' as const), zero: false },
    });
    return {
      title: { text: panel.title },
      width: options.width ?? 300,
      height: options.height ?? 220,
      data: { values },
      encoding: { x: { field: 'x', type: 'quantitative' as const, title: options.xTitle }, color },
      layer: [
        { mark: { type: 'area' as const, opacity: 0.3 }, encoding: { y: y('low'), y2: { field: 'high' } } },
        { mark: { type: 'line' as const, strokeWidth: 1.5 }, encoding: { y: y('mid') } },
      ],
    };
  };
  return {
    $schema: vegaLiteSchemaUrl,
    title: { text: options.title },
    description: options.title,
    hconcat: options.panels.map(unit),
    resolve: { scale: { y: 'independent' } },
    config: chartConfig,
  } as VegaLiteSpec;
}
