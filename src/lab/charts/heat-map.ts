/**
 * @file A heat map: one coloured cell per (row, column), its value written in it, e.g. accuracy
 * per learning rate × batch size; optionally one map per value of a third variable, as panels
 * on one shared colour scale.
 */

import { chartConfig, vegaLiteSchemaUrl } from './chart-config.js';
import { assertUniqueNames } from './plottable-points.js';
import type { VegaLiteSpec } from './types.js';

export interface HeatCell {
  row: string;
  column: string;
  /** NaN or infinite: the cell is left uncoloured and reads "—". */
  value: number;
  /** The text written in the cell; the value to three significant digits by default. */
  text?: string;
  /** The panel it belongs to, when the map is split into panels. */
  panel?: string;
}

export interface HeatMapOptions {
  title: string;
  rowTitle: string;
  columnTitle: string;
  /** The colour legend's title: what the value is. */
  valueTitle: string;
  cells: HeatCell[];
  /** The panels' header title (the variable they split by). */
  panelTitle?: string;
  /** Panels per row. */
  panelColumns?: number;
  /** Size of one cell in pixels. */
  cellWidth?: number;
  cellHeight?: number;
}

function firstSeen(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * A Vega-Lite spec for a heat map. Rows, columns and panels keep their first-seen order; the
 * colour scale runs from the smallest to the largest finite value (so that close accuracies
 * still look different), and the text is white on the darker half. A (panel, row, column) given
 * twice is an error, since one of the two values would be hidden.
 */
export function heatMapSpec(options: HeatMapOptions): VegaLiteSpec {
  const { cells } = options;
  if (cells.length === 0) throw new RangeError('A heat map needs at least one cell.');
  const panelled = cells.some((cell) => cell.panel !== undefined);
  if (panelled && cells.some((cell) => cell.panel === undefined)) throw new RangeError('Give every cell of a heat map with panels its panel.');
  assertUniqueNames(
    cells.map((cell) => JSON.stringify([cell.panel ?? '', cell.row, cell.column])),
    'Heat map cell',
  );

  const finite = cells.map((cell) => cell.value).filter((value) => Number.isFinite(value));
  const low = finite.length > 0 ? Math.min(...finite) : 0;
  const high = finite.length > 0 ? Math.max(...finite) : 1;
  // A single value would make an empty domain; widen it so the scale still has a colour for it.
  const domain = low < high ? [low, high] : [low - 0.5, high + 0.5];
  const middle = (domain[0]! + domain[1]!) / 2;
  const rows = cells.map((cell) => ({
    row: cell.row,
    column: cell.column,
    value: Number.isFinite(cell.value) ? cell.value : null,
    text: Number.isFinite(cell.value) ? (cell.text ?? Number(cell.value.toPrecision(3)).toString()) : '—',
    ...(cell.panel === undefined ? {} : { panel: cell.panel }),
  }));
  const rowOrder = firstSeen(cells.map((cell) => cell.row));
  const columnOrder = firstSeen(cells.map((cell) => cell.column));

  const unit = {
    width: { step: options.cellWidth ?? 64 },
    height: { step: options.cellHeight ?? 30 },
    encoding: {
      // Columns read like a table's header on a single map; under panels the header is the panel's.
      x: {
        field: 'column',
        type: 'ordinal' as const,
        title: options.columnTitle,
        sort: columnOrder,
        scale: { domain: columnOrder },
        axis: { labelAngle: 0, orient: panelled ? ('bottom' as const) : ('top' as const) },
      },
      y: { field: 'row', type: 'ordinal' as const, title: options.rowTitle, sort: rowOrder, scale: { domain: rowOrder } },
    },
    layer: [
      {
        // A cell without a value keeps its place but no colour.
        transform: [{ filter: 'isValid(datum.value)' }],
        mark: { type: 'rect' as const },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative' as const,
            title: options.valueTitle,
            scale: { scheme: 'blues', domain, nice: false },
            legend: { titleLimit: 400 },
          },
        },
      },
      {
        mark: { type: 'text' as const, fontSize: 11 },
        encoding: {
          text: { field: 'text', type: 'nominal' as const },
          color: { condition: { test: `isValid(datum.value) && datum.value > ${middle}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  };
  const title = { text: options.title };
  if (!panelled) {
    return { $schema: vegaLiteSchemaUrl, title, description: options.title, data: { values: rows }, ...unit, config: chartConfig };
  }
  const panelOrder = firstSeen(cells.map((cell) => cell.panel!));
  return {
    $schema: vegaLiteSchemaUrl,
    title,
    description: options.title,
    data: { values: rows },
    facet: { field: 'panel', type: 'ordinal', title: options.panelTitle ?? null, sort: panelOrder, header: { labelFontWeight: 'bold' } },
    columns: options.panelColumns ?? Math.min(3, panelOrder.length),
    spec: unit,
    config: chartConfig,
  } as VegaLiteSpec;
}
