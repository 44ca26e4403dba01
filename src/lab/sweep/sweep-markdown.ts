/**
 * @file A sweep's report as Markdown: what ran (settings, axes, runs, seeds), the combinations
 * ranked by the chosen metric with mean ± std over seeds of both validation figures, the test
 * accuracy, the speed and the diverged runs, then the charts. Pure.
 */
import { sweepCharts } from './sweep-charts.js';
import type { SweepReport } from './sweep-summary.js';
import { metricSentence, missingCurvesSentence, rankingHeading, rankingTable, sweepFacts, sweepTitle } from './sweep-text.js';

/** A table cell: a '|' in a label would end the cell. */
function cellText(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function buildSweepMarkdown(report: SweepReport): string {
  const lines: string[] = [`# ${sweepTitle(report)}`, ''];
  lines.push(...sweepFacts(report).map((fact) => `- ${fact}`), '');
  for (const note of report.mixedNotes) lines.push(`**Note:** ${note}.`, '');

  lines.push(`## ${rankingHeading(report)}`, '');
  lines.push(metricSentence(report), '');
  if (report.groups.length === 0) {
    lines.push('No run has finished yet.', '');
  } else {
    const table = rankingTable(report);
    lines.push(`| ${table.header.map(cellText).join(' | ')} |`, `|${table.header.map(() => '---').join('|')}|`);
    for (const row of table.rows) {
      lines.push(`| ${row.map((cell, column) => (column === table.rankedColumn ? `**${cellText(cell)}**` : cellText(cell))).join(' | ')} |`);
    }
    lines.push('', 'The CSV has one row per run.', '');
  }

  const charts = sweepCharts(report);
  if (charts.length > 0) {
    lines.push('## Charts', '');
    for (const chart of charts) {
      lines.push(`${chart.title}: [${chart.name}.svg](${chart.name}.svg), [${chart.name}.png](${chart.name}.png)`, '');
      lines.push(`![${chart.title}](${chart.name}.png)`, '');
    }
    const missing = missingCurvesSentence(report);
    if (missing) lines.push(missing, '');
  }
  return lines.join('\n');
}
