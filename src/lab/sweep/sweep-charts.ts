/**
 * @file The charts a sweep's axes call for, as Vega-Lite specs. One axis: the metric (mean ± std
 * over seeds) against it, a line if its values are numbers, bars otherwise. Two axes: a heat map
 * (first axis × second, the mean written in each cell) and, when one of them is numeric, a line
 * per value of the other against it. Three: the same, one panel per value of the third. More
 * than three: the first three are drawn and the others are held at the values of the best
 * group (so every point is still one combination's mean over its seeds, as in the table), which
 * the titles say. And the mean validation curve of every group, in one chart, up to 12 groups.
 * Pure.
 */
import { barChartSpec } from '../charts/bar-chart.js';
import { type ErrorPanel, errorLineChartSpec } from '../charts/error-line-chart.js';
import { heatMapSpec } from '../charts/heat-map.js';
import { lineChartSpec } from '../charts/line-chart.js';
import type { AxisScale, VegaLiteSpec } from '../charts/types.js';
import { normSeriesName } from '../run-summary.js';
import { SWEEP_NORMS, type SweepNorm } from './sweep-spec.js';
import { metricStats, metricTitle, type SweepAxisSummary, type SweepGroup, type SweepReport } from './sweep-summary.js';

export interface SweepChart {
  /** A file base name: `metric`, `heat-map`, `metric-lines`, `curves`. */
  name: string;
  /** What it shows, for the report's text. */
  title: string;
  spec: VegaLiteSpec;
}

/** Axes drawn at once: x (or rows), lines (or columns), panels. */
const DRAWN_AXES = 3;
/** More curves than this in one chart cannot be told apart. */
export const MAX_CURVE_GROUPS = 12;
/** A numeric axis whose values span this factor or more is drawn on a log scale. */
const LOG_SPAN = 10;

/** A norm axis's values under the names (and colours) every other bnlab chart gives the two networks. */
function seriesName(axis: string, label: string): string {
  if (axis !== 'norm') return label;
  if (label === 'nobn') return normSeriesName('none'); // the article's grid labels its network without BN so
  return (SWEEP_NORMS as readonly string[]).includes(label) ? normSeriesName(label as SweepNorm) : label;
}

function capitalized(text: string): string {
  return `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

/** Log when every value is positive and the largest is at least LOG_SPAN times the smallest. */
function axisScaleOf(axis: SweepAxisSummary): AxisScale {
  const values = axis.values.map((value) => value.numeric).filter((value): value is number => value !== null);
  if (values.length < 2 || values.some((value) => value <= 0)) return 'linear';
  return Math.max(...values) / Math.min(...values) >= LOG_SPAN ? 'log' : 'linear';
}

/** The axes the charts draw, and the groups they draw: those at the best group's values on every other axis. */
interface ChartSlice {
  drawn: number[];
  groups: SweepGroup[];
  /** " (activation relu, eps0.001: the best group's values)", or '' with at most three axes. */
  heldNote: string;
}

function sliceOf(report: SweepReport): ChartSlice {
  const drawn = report.axes.slice(0, DRAWN_AXES).map((_, index) => index);
  const held = report.axes.map((_, index) => index).filter((index) => index >= DRAWN_AXES);
  const best = report.ranking[0];
  if (held.length === 0 || best === undefined) return { drawn, groups: report.groups, heldNote: '' };
  const groups = report.groups.filter((group) => held.every((axis) => group.axes[axis]!.label === best.axes[axis]!.label));
  const values = held.map((axis) => `${report.axes[axis]!.name} ${best.axes[axis]!.label}`).join(', ');
  return { drawn, groups, heldNote: ` (${values}: the best group's values)` };
}

function groupAt(groups: readonly SweepGroup[], values: ReadonlyMap<number, string>): SweepGroup | undefined {
  return groups.find((group) => [...values].every(([axis, label]) => group.axes[axis]!.label === label));
}

function seedNote(report: SweepReport): string {
  const most = Math.max(0, ...report.seedCounts);
  return most > 1 ? `mean ± std over ${report.seedCounts.join('-')} seeds` : 'one seed';
}

/** One axis of labels: bars with ± std. */
function barChart(report: SweepReport, axis: number, slice: ChartSlice): SweepChart {
  const name = report.axes[axis]!.name;
  const metric = metricTitle(report.metric);
  const title = `${capitalized(metric)} by ${name}${slice.heldNote}`;
  const spec = barChartSpec({
    title: `${title}, ${seedNote(report)}`,
    xTitle: name,
    yTitle: metric,
    bars: slice.groups.map((group) => {
      const stats = metricStats(group, report.metric);
      return { category: group.axes[axis]!.label, group: metric, value: stats.mean, std: stats.std };
    }),
    yDomain: [0, 1],
    legend: false,
    barWidth: 40,
  });
  return { name: 'metric', title, spec };
}

/** The metric against a numeric axis, one line per value of `lineAxis`, one panel per value of `panelAxis`. */
function lineChart(report: SweepReport, slice: ChartSlice, xAxis: number, lineAxis: number | null, panelAxis: number | null, name: string): SweepChart {
  const x = report.axes[xAxis]!;
  const metric = metricTitle(report.metric);
  const lineLabels = lineAxis === null ? [null] : report.axes[lineAxis]!.values.map((value) => value.label);
  const panelLabels = panelAxis === null ? [null] : report.axes[panelAxis]!.values.map((value) => value.label);
  const panels: ErrorPanel[] = panelLabels.map((panelLabel) => ({
    title: panelAxis === null || panelLabel === null ? metric : panelLabel,
    series: lineLabels.map((lineLabel) => ({
      name: lineAxis === null || lineLabel === null ? metric : seriesName(report.axes[lineAxis]!.name, lineLabel),
      points: x.values.flatMap((value) => {
        const at = new Map<number, string>([[xAxis, value.label]]);
        if (lineAxis !== null && lineLabel !== null) at.set(lineAxis, lineLabel);
        if (panelAxis !== null && panelLabel !== null) at.set(panelAxis, panelLabel);
        const group = groupAt(slice.groups, at);
        if (!group) return [];
        const stats = metricStats(group, report.metric);
        return [{ x: value.numeric!, mean: stats.mean, std: stats.std }];
      }),
    })),
  }));
  const per = [
    lineAxis === null ? '' : `, a line per ${report.axes[lineAxis]!.name}`,
    panelAxis === null ? '' : `, a panel per ${report.axes[panelAxis]!.name}`,
  ].join('');
  const title = `${capitalized(metric)} against ${x.name}${per}${slice.heldNote}`;
  const ticks = x.values.map((value) => value.numeric!);
  const spec = errorLineChartSpec({
    title: `${title}; ${seedNote(report)}`,
    xTitle: x.name,
    yTitle: metric,
    ...(lineAxis === null ? {} : { seriesTitle: report.axes[lineAxis]!.name }),
    ...(panelAxis === null ? {} : { panelTitle: report.axes[panelAxis]!.name }),
    panels,
    xScale: axisScaleOf(x),
    ...(ticks.length <= 12 ? { xTicks: ticks } : {}),
  });
  return { name, title, spec };
}

/** The first axis down, the second across, one map per value of the third. */
function heatMap(report: SweepReport, slice: ChartSlice): SweepChart {
  const [rowAxis, columnAxis, panelAxis] = slice.drawn as [number, number, number | undefined];
  const metric = metricTitle(report.metric);
  const panel = panelAxis === undefined ? '' : `, a panel per ${report.axes[panelAxis]!.name}`;
  const title = `${capitalized(metric)} by ${report.axes[rowAxis]!.name} and ${report.axes[columnAxis]!.name}${panel}${slice.heldNote}`;
  const spec = heatMapSpec({
    title: `${title}; ${report.seedCounts.some((count) => count > 1) ? 'mean over seeds' : 'one seed'}`,
    rowTitle: report.axes[rowAxis]!.name,
    columnTitle: report.axes[columnAxis]!.name,
    valueTitle: metric,
    ...(panelAxis === undefined ? {} : { panelTitle: report.axes[panelAxis]!.name }),
    cells: slice.groups.map((group) => {
      const mean = metricStats(group, report.metric).mean;
      return {
        row: group.axes[rowAxis]!.label,
        column: group.axes[columnAxis]!.label,
        value: mean,
        text: mean.toFixed(4),
        ...(panelAxis === undefined ? {} : { panel: group.axes[panelAxis]!.label }),
      };
    }),
  });
  return { name: 'heat-map', title, spec };
}

/**
 * Which drawn axis goes on x of the line chart: a numeric one of the first two (the one with
 * more values, the earlier on a tie), so the third stays the panels as in the heat map; the
 * third only when neither of the first two is numeric; null when none is.
 */
function lineXAxis(report: SweepReport, drawn: readonly number[]): number | null {
  return numericAxisWithMostValues(report, drawn.slice(0, 2)) ?? numericAxisWithMostValues(report, drawn.slice(2));
}

function numericAxisWithMostValues(report: SweepReport, drawn: readonly number[]): number | null {
  let chosen: number | null = null;
  for (const axis of drawn) {
    if (!report.axes[axis]!.numeric) continue;
    if (chosen === null || report.axes[axis]!.values.length > report.axes[chosen]!.values.length) chosen = axis;
  }
  return chosen;
}

/** Every group's mean validation curve, when there are few enough to tell apart. */
function curvesChart(report: SweepReport): SweepChart | null {
  if (report.groups.length === 0 || report.groups.length > MAX_CURVE_GROUPS) return null;
  const title = 'Validation accuracy during training, per combination';
  const spec = lineChartSpec({
    title: `${title}${report.seedCounts.some((count) => count > 1) ? ' (mean over seeds)' : ''}`,
    xTitle: 'training step',
    yTitle: 'validation accuracy',
    series: report.groups.map((group) => ({ name: group.key, points: group.meanCurve.map((point) => ({ x: point.step, y: point.validationAccuracy })) })),
    yDomain: [0, 1],
  });
  return { name: 'curves', title, spec };
}

/** The charts of a sweep report, in the order the report shows them. */
export function sweepCharts(report: SweepReport): SweepChart[] {
  const charts: SweepChart[] = [];
  const slice = sliceOf(report);
  if (slice.drawn.length === 1 && slice.groups.length > 0) {
    charts.push(report.axes[0]!.numeric ? lineChart(report, slice, 0, null, null, 'metric') : barChart(report, 0, slice));
  } else if (slice.drawn.length >= 2 && slice.groups.length > 0) {
    charts.push(heatMap(report, slice));
    const x = lineXAxis(report, slice.drawn);
    if (x !== null) {
      const [lines, panels] = slice.drawn.filter((axis) => axis !== x);
      charts.push(lineChart(report, slice, x, lines!, panels ?? null, 'metric-lines'));
    }
  }
  const curves = curvesChart(report);
  if (curves) charts.push(curves);
  return charts;
}

/** The charts as [file base name, spec] pairs, for the caller to render and write. */
export function sweepChartSpecs(report: SweepReport): Array<[string, VegaLiteSpec]> {
  return sweepCharts(report).map((chart) => [chart.name, chart.spec]);
}
