/**
 * @file The report as Markdown: bnlab's final accuracies beside the article's in the article's
 * layout (per configuration: without BN val/test, with BN val/test), the last-half validation
 * mean beside the final one, a verdict per cell (on the final values) by the rule it states, the
 * cells that differ and by how much, throughput, wall time, the charts. Pure.
 */
import { ARTICLE_CITATION, ARTICLE_STEPS } from '../article.js';
import { describeSettings } from '../grid.js';
import { normSeriesName } from '../run-summary.js';
import { configChartName, OVERVIEW_CHART_NAME } from './charts.js';
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
import { ARTICLE_VERDICT_BASIS, LAST_HALF_EXPLANATION } from './last-half-note.js';
import type { NetworkSummary } from './summary.js';
import { type GridReport, reportCells } from './summary.js';
import { VERDICT_RULE, verdictExplanation, verdictLabel } from './verdict.js';

function cell(network: NetworkSummary | null, split: 'validation' | 'test', article: number | null): string {
  if (!network) return `not run (article ${formatAccuracy(article)})`;
  const lastHalf = split === 'validation' ? `; last half ${formatStats(network.lastHalf)}` : '';
  return `**${formatStats(network[split])}** (${formatAccuracy(article)}) ${verdictLabel(network.verdicts[split])}${lastHalf}`;
}

function networkName(batchNorm: boolean): string {
  return batchNorm ? 'with BN' : 'without BN';
}

export function buildMarkdownReport(report: GridReport): string {
  const lines: string[] = [];
  const { settings } = report;
  lines.push("# bnlab: the article's grid, reproduced", '');
  lines.push(`Beside the figures of ${ARTICLE_CITATION} (reference/article-table.csv).`, '');
  lines.push(
    `- Settings: ${describeSettings(settings)}${normSettingsClause(report)}; ${seedsLabel(report)} per network; both networks of a pair start from the same initial weights.`,
    `- Runs: ${report.runs.length} finished; kernel backend ${report.backends.join(', ') || '—'}; bnlab ${report.bnlabVersions.join(', ') || '—'}; data: ${report.dataSources.join(', ') || '—'}.`,
    `- ${wallTimeSentence(report)}`,
    '',
  );
  for (const note of report.mixedNotes) lines.push(`**Note:** ${note}.`, '');

  lines.push('## Final accuracy', '');
  lines.push(
    "Each cell: **bnlab** (mean ± std over seeds when there are several), then (the article's figure), then the verdict; a validation cell ends with bnlab's last-half mean.",
    '',
  );
  lines.push(`${ARTICLE_VERDICT_BASIS} ${LAST_HALF_EXPLANATION}`, '');
  if (report.configs.some((summary) => summary.article === null)) {
    lines.push(`The article's figures in parentheses are for ${ARTICLE_STEPS} steps; bnlab ran ${settings.steps}, so those cells are shown, not compared.`, '');
  }
  lines.push(`Verdict rule: ${VERDICT_RULE}`, '');
  lines.push('| Model | init std | lr | activation | without BN: validation | without BN: test | with BN: validation | with BN: test |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const summary of report.configs) {
    const { config, articleShown: article } = summary;
    lines.push(
      `| ${config.id} | ${config.initStd} | ${config.learningRate} | ${activationName(summary)} | ` +
        `${cell(summary.withoutBn, 'validation', article?.withoutBn.validation ?? null)} | ${cell(summary.withoutBn, 'test', article?.withoutBn.test ?? null)} | ` +
        `${cell(summary.withBn, 'validation', article?.withBn.validation ?? null)} | ${cell(summary.withBn, 'test', article?.withBn.test ?? null)} |`,
    );
  }
  lines.push('');
  lines.push(...otherNormsTable(report));

  const cells = reportCells(report);
  const agreeing = cells.filter((c) => c.verdict.kind === 'agrees').length;
  const differing = cells.filter((c) => c.verdict.kind === 'differs');
  const notCompared = cells.filter((c) => c.verdict.kind === 'not-compared').length;
  lines.push('## Verdicts', '');
  lines.push(
    `${agreeing} of ${cells.length} cells agree, ${differing.length} differ${notCompared ? `, ${notCompared} not compared (the article has no figures for ${settings.steps} steps)` : ''}.`,
    '',
  );
  for (const c of differing) {
    const summary = report.configs.find((s) => s.config.id === c.configId)!;
    lines.push(
      `- ${configurationLabel(summary)}, ${networkName(c.batchNorm)}, ${c.split}: bnlab ${formatStats(c.network[c.split])}, article ${formatAccuracy(c.article)}: ${verdictExplanation(c.verdict)}.`,
    );
  }
  if (differing.length > 0) lines.push('');

  lines.push('## Throughput', '');
  lines.push(
    "Training steps per second (validation excluded), mean over seeds; the article's figures are tqdm it/s of TensorFlow 1.6 on the author's machine.",
    '',
  );
  const others = report.otherNorms.map((norm) => ` bnlab ${normSeriesName(norm)} |`).join('');
  lines.push(`| Model | bnlab without BN | bnlab with BN |${others} article without BN | article with BN |`);
  lines.push(`|---|---|---|${'---|'.repeat(report.otherNorms.length)}---|---|`);
  for (const summary of report.configs) {
    lines.push(
      `| ${summary.config.id} | ${formatRate(summary.withoutBn?.stepsPerSecond.mean ?? null)} | ${formatRate(summary.withBn?.stepsPerSecond.mean ?? null)} | ` +
        summary.others.map((network) => `${formatRate(network?.stepsPerSecond.mean ?? null)} | `).join('') +
        `${formatRate(summary.articleShown.withoutBnStepsPerSecond)} | ${formatRate(summary.articleShown.withBnStepsPerSecond)} |`,
    );
  }
  lines.push('', wallTimeSentence(report), '');
  lines.push('| Run | backend | steps/s | duration | diverged at step |');
  lines.push('|---|---|---|---|---|');
  for (const run of report.runs) {
    lines.push(`| ${run.id} | ${run.backend} | ${formatRate(run.stepsPerSecond)} | ${formatDuration(run.durationMs)} | ${run.divergedAtStep ?? '—'} |`);
  }
  lines.push('');

  lines.push('## Charts', '');
  lines.push(
    `Validation accuracy during training, both networks (mean over seeds). All configurations: [${OVERVIEW_CHART_NAME}.svg](${OVERVIEW_CHART_NAME}.svg) ([PNG](${OVERVIEW_CHART_NAME}.png)).`,
    '',
  );
  lines.push(`![Validation accuracy of every configuration](${OVERVIEW_CHART_NAME}.png)`, '');
  for (const summary of report.configs) {
    const name = configChartName(summary);
    lines.push(`- ${configurationLabel(summary)}: [${name}.svg](${name}.svg), [${name}.png](${name}.png)`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The networks with the other norms (`reproduce --norms`), beside the article's two: no article figures, so no verdicts. */
function otherNormsTable(report: GridReport): string[] {
  if (report.otherNorms.length === 0) return [];
  const names = report.otherNorms.map(normSeriesName);
  const lines = ['## Beside them: the other norms', ''];
  lines.push(
    'The same configurations, initial weights and batches, with the norms the article did not train; each cell: final accuracy (mean ± std over seeds), then the last-half validation mean. The article has no figures for them.',
    '',
  );
  lines.push(`| Model | ${names.map((name) => `${name}: validation | ${name}: test`).join(' | ')} |`);
  lines.push(`|---|${'---|---|'.repeat(names.length)}`);
  for (const summary of report.configs) {
    const cells = summary.others.map((network) =>
      network ? `**${formatStats(network.validation)}**; last half ${formatStats(network.lastHalf)} | **${formatStats(network.test)}**` : 'not run | not run',
    );
    lines.push(`| ${summary.config.id} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}
