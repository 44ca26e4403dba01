/**
 * @file Grouped bars: one value per (category, group), categories along x and one bar per group
 * side by side, e.g. accuracy per batch size, without and with BN; optionally each with a ± std
 * error bar (a mean over seeds).
 */

import { chartConfig, vegaLiteSchemaUrl } from './chart-config.js';
import { validateDomain } from './line-chart.js';
import { colorScaleFor } from './series-colors.js';
import type { VegaLiteSpec } from './types.js';

export interface Bar {
  category: string;
  group: string;
  value: number;
  /** A spread drawn as an error bar from value − std to value + std (a standard deviation over seeds). */
  std?: number;
}

interface BarRow {
  category: string;
  group: string;
  value: number;
  /** The top of its error bar, where its label goes (the value itself without one). */
  top: number;
  low?: number;
}

export interface BarChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  bars: Bar[];
  yDomain?: [number, number];
  /** False leaves the legend out (one group that the title names); shown by default. */
  legend?: boolean;
  /** Width of one bar in pixels (a category's slot is its bars plus padding), and plot height. */
  barWidth?: number;
  height?: number;
}

/**
 * A Vega-Lite spec for grouped bars with the value printed above each bar. Categories and groups
 * keep their first-seen order. A NaN or infinite value is not drawn and the subtitle says which;
 * a repeated (category, group) pair is an error, since one of the two values would be hidden.
 */
export function barChartSpec(options: BarChartOptions): VegaLiteSpec {
  validateDomain(options.yDomain, 'linear');
  const categories: string[] = [];
  const groups: string[] = [];
  const seenPairs = new Set<string>();
  const rows: BarRow[] = [];
  const droppedLabels: string[] = [];
  for (const bar of options.bars) {
    const pairKey = JSON.stringify([bar.category, bar.group]);
    if (seenPairs.has(pairKey)) {
      throw new RangeError(`Bar "${bar.category}" / "${bar.group}" is given twice: give each category and group one value.`);
    }
    seenPairs.add(pairKey);
    if (!categories.includes(bar.category)) categories.push(bar.category);
    if (!groups.includes(bar.group)) groups.push(bar.group);
    const std = bar.std !== undefined && Number.isFinite(bar.std) && bar.std > 0 ? bar.std : 0;
    if (Number.isFinite(bar.value))
      rows.push({ category: bar.category, group: bar.group, value: bar.value, top: bar.value + std, ...(std > 0 ? { low: bar.value - std } : {}) });
    else droppedLabels.push(`${bar.category} / ${bar.group}`);
  }
  const note =
    droppedLabels.length === 0
      ? undefined
      : `not drawn: ${droppedLabels.length} NaN or infinite ${droppedLabels.length === 1 ? 'value' : 'values'} (${droppedLabels.slice(0, 3).join(', ')}${droppedLabels.length > 3 ? `, ${droppedLabels.length - 3} more` : ''})`;

  // clamp: a value above a fixed domain is drawn to the frame, and its printed value still tells the truth.
  const yScale = options.yDomain === undefined ? {} : { domain: [...options.yDomain], nice: false, clamp: true };
  const errorBars = rows.some((row) => row.low !== undefined)
    ? [
        {
          transform: [{ filter: 'isValid(datum.low)' }],
          mark: { type: 'rule' as const, color: '#333', clip: true },
          encoding: { y: { field: 'low', type: 'quantitative' as const, title: options.yTitle, scale: yScale }, y2: { field: 'top' } },
        },
      ]
    : [];
  return {
    $schema: vegaLiteSchemaUrl,
    title: note === undefined ? { text: options.title } : { text: options.title, subtitle: note },
    description: note === undefined ? options.title : `${options.title} (${note})`,
    usermeta: { droppedPoints: droppedLabels.length },
    width: { step: options.barWidth ?? 30, for: 'offset' },
    height: options.height ?? 300,
    data: { values: rows },
    encoding: {
      // Every category gets its slot, even one whose values were all dropped.
      x: { field: 'category', type: 'nominal', title: options.xTitle, sort: categories, scale: { domain: categories }, axis: { labelAngle: 0 } },
      xOffset: { field: 'group', type: 'nominal', sort: groups, scale: { domain: groups } },
      y: { field: 'value', type: 'quantitative', title: options.yTitle, scale: yScale },
    },
    layer: [
      {
        mark: { type: 'bar', clip: true },
        encoding: { color: { field: 'group', type: 'nominal', scale: colorScaleFor(groups), legend: options.legend === false ? null : { title: null } } },
      },
      ...errorBars,
      {
        // Not clipped: a label over a bar that reaches the top of the frame sits just above it (or above its error bar).
        mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 9, color: '#333' },
        encoding: {
          y: { field: 'top', type: 'quantitative', title: options.yTitle, scale: yScale },
          text: { field: 'value', type: 'quantitative', format: '.3~g' },
        },
      },
    ],
    config: chartConfig,
  };
}
