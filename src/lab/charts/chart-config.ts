/**
 * @file The look shared by every chart: the font, sizes and background, as a Vega-Lite config.
 */

import type { Config } from 'vega-lite';

/**
 * The font family written into the SVG. DejaVu Sans comes first because the PNG rasterizer
 * (resvg) draws only fonts it was given, and render-chart.ts gives it DejaVu; a browser without
 * DejaVu falls through to Verdana or its own sans-serif.
 */
export const chartFontFamily = 'DejaVu Sans, Verdana, sans-serif';

/** The schema URL stamped on every spec (Vega-Lite 6, the installed major version). */
export const vegaLiteSchemaUrl = 'https://vega.github.io/schema/vega-lite/v6.json';

export const chartConfig: Config = {
  font: chartFontFamily,
  // An opaque background so the PNG is readable in viewers that show transparency as black.
  background: 'white',
  padding: 8,
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'middle' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e4e4e4' },
  legend: { labelFontSize: 12, titleFontSize: 12 },
  header: { labelFontSize: 12 },
  view: { stroke: '#cccccc' },
  line: { strokeWidth: 2 },
};
