/**
 * @file A sweep's report as one self-contained HTML page: the Markdown's facts and ranking table
 * (as an HTML table, the ranked metric's column marked) and every chart inlined as SVG, so it
 * opens from disk with no network and no other file. Pure: the caller renders the SVGs and
 * passes them in by chart name.
 */
import { escapeHtml, scopeSvgIds } from '../report/inline-html.js';
import { sweepCharts } from './sweep-charts.js';
import type { SweepReport } from './sweep-summary.js';
import { metricSentence, missingCurvesSentence, rankingHeading, rankingTable, sweepFacts, sweepTitle } from './sweep-text.js';

/** SVG documents by chart name (`heat-map`, `curves`, …: the names sweepChartSpecs gives). */
export type SweepChartSvgs = ReadonlyMap<string, string>;

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; }
td.label { text-align: left; }
th.ranked, td.ranked { background: #eef3fa; font-weight: bold; }
.chart { margin: 1em 0; overflow-x: auto; }
.rule { background: #f8f8f8; border-left: 3px solid #999; padding: 0.5em 1em; }
`;

function rankingHtml(report: SweepReport): string {
  const table = rankingTable(report);
  const labelColumns = new Set(report.axes.map((_, index) => index + 1));
  const classOf = (column: number): string => (column === table.rankedColumn ? ' class="ranked"' : labelColumns.has(column) ? ' class="label"' : '');
  const head = `<tr>${table.header.map((title, column) => `<th${column === table.rankedColumn ? ' class="ranked"' : ''}>${escapeHtml(title)}</th>`).join('')}</tr>`;
  const body = table.rows.map((row) => `<tr>${row.map((cell, column) => `<td${classOf(column)}>${escapeHtml(cell)}</td>`).join('')}</tr>`);
  return ['<table><thead>', head, '</thead><tbody>', ...body, '</tbody></table>'].join('\n');
}

export function buildSweepHtml(report: SweepReport, svgs: SweepChartSvgs): string {
  const title = sweepTitle(report);
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
  );
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  parts.push('<ul>', ...sweepFacts(report).map((fact) => `<li>${escapeHtml(fact)}</li>`), '</ul>');
  for (const note of report.mixedNotes) parts.push(`<p class="note"><strong>Note:</strong> ${escapeHtml(note)}.</p>`);

  parts.push(`<h2>${escapeHtml(rankingHeading(report))}</h2>`);
  parts.push(`<p class="rule">${escapeHtml(metricSentence(report))}</p>`);
  parts.push(report.groups.length === 0 ? '<p>No run has finished yet.</p>' : rankingHtml(report));

  const charts = sweepCharts(report);
  if (charts.length > 0) {
    parts.push('<h2>Charts</h2>');
    for (const chart of charts) {
      const svg = svgs.get(chart.name);
      if (svg) parts.push(`<h3>${escapeHtml(chart.title)}</h3>`, `<div class="chart">${scopeSvgIds(svg, chart.name)}</div>`);
    }
    const missing = missingCurvesSentence(report);
    if (missing) parts.push(`<p>${escapeHtml(missing)}</p>`);
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}
