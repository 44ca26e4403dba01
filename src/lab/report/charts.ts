/**
 * @file The report's chart specs, like the article's figures: per configuration one chart with
 * both validation curves (mean over seeds), and one overview with all configurations as panels.
 * Series carry the shared without/with-BN names (and "with LN"… for the other norms of
 * `reproduce --norms`), so colours match every other bnlab chart. Pure.
 */

import { describeConfiguration } from '../article.js';
import { lineChartSpec } from '../charts/line-chart.js';
import { panelGridSpec } from '../charts/panel-grid.js';
import { withBnName, withoutBnName } from '../charts/series-colors.js';
import type { Series, VegaLiteSpec } from '../charts/types.js';
import { normSeriesName } from '../run-summary.js';
import type { ConfigSummary, GridReport, NetworkSummary } from './summary.js';

const WITHOUT_BN_SERIES = withoutBnName;
const WITH_BN_SERIES = withBnName;

function curveSeries(network: NetworkSummary | null, name: string): Series[] {
  if (!network) return [];
  return [{ name, points: network.meanCurve.map((point) => ({ x: point.step, y: point.validationAccuracy })) }];
}

function seriesOf(summary: ConfigSummary): Series[] {
  return [
    ...curveSeries(summary.withoutBn, WITHOUT_BN_SERIES),
    ...curveSeries(summary.withBn, WITH_BN_SERIES),
    ...summary.others.flatMap((network) => (network ? curveSeries(network, normSeriesName(network.norm)) : [])),
  ];
}

function seedNote(summary: ConfigSummary): string {
  const seeds = Math.max(...[summary.withoutBn, summary.withBn, ...summary.others].map((network) => network?.runs.length ?? 0));
  return seeds > 1 ? ` (mean of ${seeds} seeds)` : '';
}

export function panelTitle(summary: ConfigSummary): string {
  return `Model ${summary.config.id}: ${describeConfiguration(summary.config)}`;
}

/** Chart file base name for a configuration: `model-3`. */
export function configChartName(summary: ConfigSummary): string {
  return `model-${summary.config.id}`;
}

export const OVERVIEW_CHART_NAME = 'overview';

export function configChartSpec(summary: ConfigSummary): VegaLiteSpec {
  return lineChartSpec({
    title: `${panelTitle(summary)}${seedNote(summary)}`,
    xTitle: 'training step',
    yTitle: 'validation accuracy',
    series: seriesOf(summary),
    yDomain: [0, 1],
  });
}

/** All configurations' curves as a grid of panels, four to a row like the article's 2 × 4 layout. */
export function overviewChartSpec(report: GridReport): VegaLiteSpec {
  return panelGridSpec({
    title: `Validation accuracy without and with BN${report.otherNorms.length > 0 ? ` (and ${report.otherNorms.length} other norm${report.otherNorms.length === 1 ? '' : 's'})` : ''}, ${report.settings.steps} steps, batch ${report.settings.batchSize}`,
    xTitle: 'training step',
    yTitle: 'validation accuracy',
    panels: report.configs.map((summary) => ({ title: panelTitle(summary), series: seriesOf(summary) })),
    columns: Math.min(4, Math.max(1, report.configs.length)),
    yDomain: [0, 1],
  });
}
