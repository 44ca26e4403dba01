/**
 * @file The chart spec builders: pure functions from series to Vega-Lite specs, for the CLI
 * (rendered to SVG/PNG by src/node/render-chart.ts) and for a web page (vega-embed) alike.
 */

export { type Bar, type BarChartOptions, barChartSpec } from './bar-chart.js';
export { chartFontFamily } from './chart-config.js';
export { type ErrorLineChartOptions, type ErrorPanel, type ErrorPoint, type ErrorSeries, errorLineChartSpec } from './error-line-chart.js';
export { type HeatCell, type HeatMapOptions, heatMapSpec } from './heat-map.js';
export { type LineChartOptions, lineChartSpec } from './line-chart.js';
export { type ChartPanel, type PanelGridOptions, panelGridSpec } from './panel-grid.js';
export { colorScaleFor, fixedSeriesColor, withBnName, withGnName, withLnName, withoutBnName, withRmsName } from './series-colors.js';
export type { AxisScale, Point, Series, VegaLiteSpec } from './types.js';
