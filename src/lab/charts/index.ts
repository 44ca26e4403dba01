/**
 * @file The chart spec builders: pure functions from series to Vega-Lite specs, for the CLI
 * (rendered to SVG/PNG by src/node/render-chart.ts) and for a web page (vega-embed) alike.
 */

export type { AxisScale, Point, Series, VegaLiteSpec } from './types.js';
export { lineChartSpec, type LineChartOptions } from './line-chart.js';
export { panelGridSpec, type ChartPanel, type PanelGridOptions } from './panel-grid.js';
export { barChartSpec, type Bar, type BarChartOptions } from './bar-chart.js';
export { heatMapSpec, type HeatCell, type HeatMapOptions } from './heat-map.js';
export { errorLineChartSpec, type ErrorLineChartOptions, type ErrorPanel, type ErrorPoint, type ErrorSeries } from './error-line-chart.js';
export { colorScaleFor, fixedSeriesColor, withBnName, withGnName, withLnName, withoutBnName, withRmsName } from './series-colors.js';
export { chartFontFamily } from './chart-config.js';
