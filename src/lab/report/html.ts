/**
 * @file The report as one self-contained HTML page: the same tables as the Markdown (as HTML
 * tables, the last-half validation mean beside the final one) and every chart inlined as SVG,
 * with its styles inline, so it opens from disk with no network and no other file. Pure: the
 * caller renders the SVGs and passes them in.
 */
import { ARTICLE_CITATION, ARTICLE_STEPS } from '../article.js';
import { describeSettings } from '../grid.js';
import { normSeriesName } from '../run-summary.js';
import { configChartName, OVERVIEW_CHART_NAME, panelTitle } from './charts.js';
import {
  activationName,
  configurationLabel,
  formatAccuracy,
  formatDuration,
  formatRate,
  formatStats,
  normSettingsClause,
  seedsLabel,
  wallTimeSentence,
} from './format.js';
import { escapeHtml, scopeSvgIds } from './inline-html.js';
import { ARTICLE_VERDICT_BASIS, LAST_HALF_EXPLANATION } from './last-half-note.js';
import { type GridReport, type NetworkSummary, reportCells } from './summary.js';
import { VERDICT_RULE, type Verdict, verdictExplanation, verdictLabel } from './verdict.js';

/** SVG documents by chart name (`overview`, `model-1`, …). */
export type ChartSvgs = ReadonlyMap<string, string>;

function verdictClass(verdict: Verdict): string {
  return verdict.kind;
}

function cell(network: NetworkSummary | null, split: 'validation' | 'test', article: number | null): string {
  if (!network) return `<td class="missing">not run<br><span class="article">article ${formatAccuracy(article)}</span></td>`;
  const verdict = network.verdicts[split];
  const lastHalf = split === 'validation' ? `<br><span class="last-half">last half ${escapeHtml(formatStats(network.lastHalf))}</span>` : '';
  return (
    `<td class="${verdictClass(verdict)}"><strong>${escapeHtml(formatStats(network[split]))}</strong>` +
    `<br><span class="article">article ${formatAccuracy(article)}</span><br><span class="verdict">${escapeHtml(verdictLabel(verdict))}</span>${lastHalf}</td>`
  );
}

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; }
td.agrees { background: #eef8ee; }
td.differs { background: #fdeeee; }
td.not-compared, td.missing { background: #f6f6f6; }
.article, .last-half { color: #666; font-size: 0.9em; }
.verdict { font-size: 0.9em; }
.chart { margin: 1em 0; overflow-x: auto; }
.rule { background: #f8f8f8; border-left: 3px solid #999; padding: 0.5em 1em; }
`;

export function buildHtmlReport(report: GridReport, charts: ChartSvgs): string {
  const { settings } = report;
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    "<title>bnlab: the article's grid, reproduced</title>",
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
  );
  parts.push("<h1>bnlab: the article's grid, reproduced</h1>");
  parts.push(`<p>Beside the figures of ${escapeHtml(ARTICLE_CITATION)}.</p>`);
  parts.push('<ul>');
  parts.push(
    `<li>Settings: ${escapeHtml(describeSettings(settings) + normSettingsClause(report))}; ${escapeHtml(seedsLabel(report))} per network; both networks of a pair start from the same initial weights.</li>`,
  );
  parts.push(
    `<li>Runs: ${report.runs.length} finished; kernel backend ${escapeHtml(report.backends.join(', ') || '—')}; bnlab ${escapeHtml(report.bnlabVersions.join(', ') || '—')}; data: ${escapeHtml(report.dataSources.join(', ') || '—')}.</li>`,
  );
  parts.push(`<li>${escapeHtml(wallTimeSentence(report))}</li>`);
  parts.push('</ul>');
  for (const note of report.mixedNotes) parts.push(`<p class="note"><strong>Note:</strong> ${escapeHtml(note)}.</p>`);

  parts.push('<h2>Final accuracy</h2>');
  parts.push(`<p class="rule">Verdict rule: ${escapeHtml(VERDICT_RULE)}</p>`);
  parts.push(`<p>${escapeHtml(`${ARTICLE_VERDICT_BASIS} ${LAST_HALF_EXPLANATION}`)}</p>`);
  if (report.configs.some((summary) => summary.article === null)) {
    parts.push(`<p>The article's figures are for ${ARTICLE_STEPS} steps; bnlab ran ${settings.steps}, so those cells are shown, not compared.</p>`);
  }
  parts.push(
    '<table><thead><tr><th rowspan="2">Model</th><th rowspan="2">init std</th><th rowspan="2">lr</th><th rowspan="2">activation</th><th colspan="2">without BN</th><th colspan="2">with BN</th></tr>',
  );
  parts.push('<tr><th>validation</th><th>test</th><th>validation</th><th>test</th></tr></thead><tbody>');
  for (const summary of report.configs) {
    const { config, articleShown: article } = summary;
    parts.push(
      `<tr><td>${config.id}</td><td>${config.initStd}</td><td>${config.learningRate}</td><td>${activationName(summary)}</td>` +
        cell(summary.withoutBn, 'validation', article?.withoutBn.validation ?? null) +
        cell(summary.withoutBn, 'test', article?.withoutBn.test ?? null) +
        cell(summary.withBn, 'validation', article?.withBn.validation ?? null) +
        cell(summary.withBn, 'test', article?.withBn.test ?? null) +
        '</tr>',
    );
  }
  parts.push('</tbody></table>');
  parts.push(...otherNormsTable(report));

  const cells = reportCells(report);
  const differing = cells.filter((c) => c.verdict.kind === 'differs');
  parts.push('<h2>Verdicts</h2>');
  parts.push(`<p>${cells.filter((c) => c.verdict.kind === 'agrees').length} of ${cells.length} cells agree, ${differing.length} differ.</p>`);
  if (differing.length > 0) {
    parts.push('<ul>');
    for (const c of differing) {
      const summary = report.configs.find((s) => s.config.id === c.configId)!;
      parts.push(
        `<li>${escapeHtml(`${configurationLabel(summary)}, ${c.batchNorm ? 'with' : 'without'} BN, ${c.split}: bnlab ${formatStats(c.network[c.split])}, article ${formatAccuracy(c.article)}: ${verdictExplanation(c.verdict)}.`)}</li>`,
      );
    }
    parts.push('</ul>');
  }

  parts.push('<h2>Charts</h2>');
  const overview = charts.get(OVERVIEW_CHART_NAME);
  if (overview) parts.push(`<div class="chart">${scopeSvgIds(overview, OVERVIEW_CHART_NAME)}</div>`);
  for (const summary of report.configs) {
    const name = configChartName(summary);
    const svg = charts.get(name);
    if (svg) parts.push(`<h3>${escapeHtml(panelTitle(summary))}</h3>`, `<div class="chart">${scopeSvgIds(svg, name)}</div>`);
  }

  parts.push('<h2>Throughput</h2>');
  parts.push(
    "<p>Training steps per second (validation excluded), mean over seeds; the article's figures are tqdm it/s of TensorFlow 1.6 on the author's machine.</p>",
  );
  const others = report.otherNorms.map((norm) => `<th>bnlab ${escapeHtml(normSeriesName(norm))}</th>`).join('');
  parts.push(
    `<table><thead><tr><th>Model</th><th>bnlab without BN</th><th>bnlab with BN</th>${others}<th>article without BN</th><th>article with BN</th></tr></thead><tbody>`,
  );
  for (const summary of report.configs) {
    parts.push(
      `<tr><td>${summary.config.id}</td><td>${formatRate(summary.withoutBn?.stepsPerSecond.mean ?? null)}</td><td>${formatRate(summary.withBn?.stepsPerSecond.mean ?? null)}</td>` +
        summary.others.map((network) => `<td>${formatRate(network?.stepsPerSecond.mean ?? null)}</td>`).join('') +
        `<td>${formatRate(summary.articleShown.withoutBnStepsPerSecond)}</td><td>${formatRate(summary.articleShown.withBnStepsPerSecond)}</td></tr>`,
    );
  }
  parts.push('</tbody></table>');
  parts.push(`<p>${escapeHtml(wallTimeSentence(report))}</p>`);
  parts.push('<table><thead><tr><th>Run</th><th>backend</th><th>steps/s</th><th>duration</th><th>diverged at step</th></tr></thead><tbody>');
  for (const run of report.runs) {
    parts.push(
      `<tr><td>${escapeHtml(run.id)}</td><td>${escapeHtml(run.backend)}</td><td>${formatRate(run.stepsPerSecond)}</td><td>${formatDuration(run.durationMs)}</td><td>${run.divergedAtStep ?? '—'}</td></tr>`,
    );
  }
  parts.push('</tbody></table>');
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

/** The networks with the other norms (`reproduce --norms`), beside the article's two: no article figures, so no verdicts. */
function otherNormsTable(report: GridReport): string[] {
  if (report.otherNorms.length === 0) return [];
  const names = report.otherNorms.map((norm) => escapeHtml(normSeriesName(norm)));
  const parts = ['<h2>Beside them: the other norms</h2>'];
  parts.push(
    '<p>The same configurations, initial weights and batches, with the norms the article did not train: final accuracy (mean ± std over seeds) and the last-half validation mean. The article has no figures for them.</p>',
  );
  parts.push(`<table><thead><tr><th rowspan="2">Model</th>${names.map((name) => `<th colspan="2">${name}</th>`).join('')}</tr>`);
  parts.push(`<tr>${'<th>validation</th><th>test</th>'.repeat(names.length)}</tr></thead><tbody>`);
  for (const summary of report.configs) {
    const cells = summary.others.map((network) =>
      network
        ? `<td><strong>${escapeHtml(formatStats(network.validation))}</strong><br><span class="last-half">last half ${escapeHtml(formatStats(network.lastHalf))}</span></td><td><strong>${escapeHtml(formatStats(network.test))}</strong></td>`
        : '<td class="missing">not run</td><td class="missing">not run</td>',
    );
    parts.push(`<tr><td>${summary.config.id}</td>${cells.join('')}</tr>`);
  }
  parts.push('</tbody></table>');
  return parts;
}
