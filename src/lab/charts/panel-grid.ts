/**
 * @file Small multiples: a grid of line charts, each with its own title, on shared axes and one
 * shared legend, e.g. the article's eight configurations, each with its two curves.
 */

import { chartConfig, vegaLiteSchemaUrl } from './chart-config.js';
import { lineLayer, validateDomain, wantsMarkers } from './line-chart.js';
import { assertUniqueNames, type DroppedPoints, droppedPointCount, droppedPointsNote, plottableRows } from './plottable-points.js';
import type { Series, VegaLiteSpec } from './types.js';

export interface ChartPanel {
  title: string;
  series: Series[];
}

export interface PanelGridOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  panels: ChartPanel[];
  /** Panels per row; rows fill left to right, top to bottom. */
  columns: number;
  yDomain?: [number, number];
  /** Plot area of one panel in pixels. */
  panelWidth?: number;
  panelHeight?: number;
}

/**
 * A Vega-Lite spec for a grid of line panels. Scales are shared (Vega-Lite's default for
 * concatenation) so panels compare at a glance; a panel whose every point was dropped still
 * keeps its place, empty. The y title is drawn on the first column and the x title under the
 * bottom panel of each column, to keep the grid uncluttered.
 */
export function panelGridSpec(options: PanelGridOptions): VegaLiteSpec {
  const { panels, columns } = options;
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns must be a whole number of at least 1, got ${columns}.`);
  if (panels.length === 0) throw new RangeError('A panel grid needs at least one panel.');
  assertUniqueNames(
    panels.map((panel) => panel.title),
    'Panel',
  );
  validateDomain(options.yDomain, 'linear');

  // One legend for the grid: its entries are every series name in first-seen order.
  const seriesNames: string[] = [];
  for (const panel of panels) {
    assertUniqueNames(
      panel.series.map((series) => series.name),
      `Series in panel "${panel.title}": series`,
    );
    for (const series of panel.series) if (!seriesNames.includes(series.name)) seriesNames.push(series.name);
  }

  const panelRows = panels.map((panel) => plottableRows(panel.series, 'linear', 'linear'));
  const dropped: Array<DroppedPoints & { label: string }> = [];
  panelRows.forEach(({ dropped: panelDropped }, index) => {
    for (const entry of panelDropped) dropped.push({ ...entry, label: `${panels[index]?.title} / ${entry.series}` });
  });
  const note = droppedPointsNote(dropped);
  const allRows = panelRows.flatMap(({ rows }) => rows);
  const showMarkers = wantsMarkers(
    allRows,
    panels.reduce((sum, panel) => sum + panel.series.length, 0),
  );

  return {
    $schema: vegaLiteSchemaUrl,
    title: note === undefined ? { text: options.title } : { text: options.title, subtitle: note },
    description: note === undefined ? options.title : `${options.title} (${note})`,
    usermeta: { droppedPoints: droppedPointCount(dropped) },
    columns,
    concat: panels.map((panel, index) => ({
      title: { text: panel.title, fontSize: 12, fontWeight: 'bold' as const },
      width: options.panelWidth ?? 220,
      height: options.panelHeight ?? 150,
      data: { values: panelRows[index]?.rows ?? [] },
      ...lineLayer({
        rows: panelRows[index]?.rows ?? [],
        seriesNames,
        xTitle: index + columns >= panels.length ? options.xTitle : null,
        yTitle: index % columns === 0 ? options.yTitle : null,
        xScale: 'linear',
        yScale: 'linear',
        yDomain: options.yDomain,
        showMarkers,
      }),
    })),
    // Shared is the concat default for scales; said here because the grid relies on it.
    resolve: { scale: { x: 'shared', y: 'shared', color: 'shared' } },
    config: { ...chartConfig, legend: { ...chartConfig.legend, orient: 'top' } },
  };
}
