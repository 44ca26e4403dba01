/**
 * @file The report of `bnlab explain`: one section per claim (what the article says, how it was
 * measured, the numbers, the figures, the verdict), as Markdown that links the figure files and
 * as one self-contained HTML page with the SVGs inlined. Pure: text in, text out.
 */
import type { ClaimResult, ClaimTable } from './claims/claim.js';
import { escapeHtml, scopeSvgIds } from './report/inline-html.js';

/** A figure as written to disk, relative to the report's folder. */
export interface WrittenFigure {
  name: string;
  caption: string;
  svgFile: string;
  pngFile: string;
  /** The SVG text, inlined into the HTML report. */
  svg: string;
}

export interface ExplainReportInput {
  results: ReadonlyArray<{ result: ClaimResult; figures: WrittenFigure[] }>;
  bnlabVersion: string;
  backend: string;
  dataSource: string;
  quick: boolean;
  seed: number;
}

/** The one line the CLI prints per claim and the report repeats: "holds" or not, and why. */
export function verdictLine(result: ClaimResult): string {
  return `${result.verdict.holds ? '✔' : '✘'} ${result.name}: ${result.verdict.text}`;
}

function budgetSentence(input: ExplainReportInput): string {
  return `bnlab ${input.bnlabVersion}, backend ${input.backend}, seed ${input.seed}, ${input.quick ? 'quick budget (--quick)' : 'full budget'}, data: ${input.dataSource}.`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------- Markdown

function markdownCell(value: string | number): string {
  return String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdownTable(table: ClaimTable): string {
  const header = `| ${table.columns.map(markdownCell).join(' | ')} |`;
  const rule = `|${table.columns.map(() => ' --- ').join('|')}|`;
  const rows = table.rows.map((row) => `| ${row.map(markdownCell).join(' | ')} |`);
  return [`*${table.title}*`, '', header, rule, ...rows].join('\n');
}

export function explainReportMarkdown(input: ExplainReportInput): string {
  const out: string[] = [
    "# bnlab explain: the article's claims, measured",
    '',
    budgetSentence(input),
    '',
    '| claim | verdict | time |',
    '| --- | --- | --- |',
    ...input.results.map(
      ({ result }) => `| [${result.name}](#${result.name}) | ${result.verdict.holds ? 'holds' : 'not shown'} | ${seconds(result.elapsedMs)} |`,
    ),
  ];
  input.results.forEach(({ result, figures }, index) => {
    out.push(
      '',
      `<a id="${result.name}"></a>`,
      '',
      `## ${index + 1}. ${result.title} (\`${result.name}\`)`,
      '',
      `**The article says:** ${result.articleSays}`,
      '',
      `**How it was measured:** ${result.method}`,
      '',
      '**Measured:**',
      '',
      '```text',
      ...result.lines,
      '```',
    );
    for (const table of result.tables) out.push('', markdownTable(table));
    for (const figure of figures) out.push('', `![${figure.caption}](${figure.svgFile})`, '', `*${figure.caption}* ([PNG](${figure.pngFile}))`);
    out.push('', `**Verdict:** ${result.verdict.holds ? '✔' : '✘'} ${result.verdict.text} (${seconds(result.elapsedMs)})`);
  });
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- HTML

export { escapeHtml, scopeSvgIds };

function htmlTable(table: ClaimTable): string {
  return [
    `<table><caption>${escapeHtml(table.title)}</caption>`,
    `<thead><tr>${table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>${table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('\n');
}

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2.2em; border-top: 1px solid #ddd; padding-top: 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; } caption { text-align: left; font-style: italic; margin-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; } th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1.2em 0; } figure svg { max-width: 100%; height: auto; } figcaption { font-size: 0.9em; color: #555; }
.verdict { padding: 0.6em 0.9em; border-left: 5px solid; } .holds { border-color: #4c9a2a; background: #f0f8ec; } .not-shown { border-color: #c0392b; background: #fbeeee; }
`;

export function explainReportHtml(input: ExplainReportInput): string {
  const sections = input.results.map(({ result, figures }, index) => {
    const verdictClass = result.verdict.holds ? 'holds' : 'not-shown';
    return [
      `<section id="${escapeHtml(result.name)}">`,
      `<h2>${index + 1}. ${escapeHtml(result.title)} (<code>${escapeHtml(result.name)}</code>)</h2>`,
      `<p><strong>The article says:</strong> ${escapeHtml(result.articleSays)}</p>`,
      `<p><strong>How it was measured:</strong> ${escapeHtml(result.method)}</p>`,
      `<pre>${result.lines.map(escapeHtml).join('\n')}</pre>`,
      ...result.tables.map(htmlTable),
      ...figures.map(
        (figure) =>
          `<figure>${scopeSvgIds(figure.svg, `${result.name}-${figure.name}`)}<figcaption>${escapeHtml(figure.caption)} ` +
          `(<a href="${escapeHtml(figure.pngFile)}">PNG</a>, <a href="${escapeHtml(figure.svgFile)}">SVG</a>)</figcaption></figure>`,
      ),
      `<p class="verdict ${verdictClass}"><strong>Verdict:</strong> ${result.verdict.holds ? '✔' : '✘'} ${escapeHtml(result.verdict.text)} (${seconds(result.elapsedMs)})</p>`,
      '</section>',
    ].join('\n');
  });
  const summary = input.results.map(
    ({ result }) =>
      `<tr><td><a href="#${escapeHtml(result.name)}">${escapeHtml(result.name)}</a></td><td>${result.verdict.holds ? 'holds' : 'not shown'}</td><td>${seconds(result.elapsedMs)}</td></tr>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>bnlab explain: the article's claims, measured</title>",
    `<style>${STYLE}</style></head><body>`,
    "<h1>bnlab explain: the article's claims, measured</h1>",
    `<p>${escapeHtml(budgetSentence(input))}</p>`,
    `<table><thead><tr><th>claim</th><th>verdict</th><th>time</th></tr></thead><tbody>${summary.join('')}</tbody></table>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}
