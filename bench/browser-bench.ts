/**
 * @file The page's speed, measured as a user sees it: `bnlab serve` and Debian's headless
 * Chromium, the article's model 1 played to the end with every view drawing, both networks
 * training at once in their Web Workers. Per round it reads each network's steps/s (wall time of
 * its training loop, probes and validation included) and the share of wall time the page spent
 * drawing; beside it, in the same run, the peer: the same networks trained by Node on one core
 * (`train()`, in-process) and by `bnlab compare` on two worker threads. Not a test: it asserts
 * nothing; it prints, and writes bnlab-out/browser-bench.json.
 *
 * Usage: npm run bench:browser [-- --steps N --rounds R]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadMnist } from '../src/node/mnist-files.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { buildNetwork } from '../src/train/networks.js';
import { train } from '../src/train/trainer.js';
import { launchBrowser, openLab, playToEnd, startServer } from '../test/web-support/lab-browser.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } } });
const steps = Number(values.steps);
const rounds = Number(values.rounds);
if (!Number.isInteger(steps) || steps < 100 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('browser-bench: --steps must be a whole number of at least 100 and --rounds at least 1\n');
  process.exit(2);
}

interface PageRound {
  withoutBn: number;
  withBn: number;
  drawFraction: number;
  draws: number;
}

/** One round in the page: model 1 for `steps` steps, played to the end with the views drawing. */
async function pageRound(): Promise<PageRound> {
  const [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  try {
    const page = await browser.context.newPage();
    await openLab(page, server.url, `/?model=1&steps=${steps}`);
    await playToEnd(page, 600_000);
    const stats = await page.evaluate(() => window.bnlabLab.stats);
    return { withoutBn: stats.stepsPerSecond.left, withBn: stats.stepsPerSecond.right, drawFraction: stats.drawFraction, draws: stats.draws };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The peer: Node trains each network alone on one core, wall time of the loop (validation included, as the page counts). */
async function nodeRound(): Promise<{ withoutBn: number; withBn: number }> {
  const config = resolveTrainConfig({ steps });
  const data = await loadMnist();
  const rate = async (batchNorm: boolean): Promise<number> => {
    const started = performance.now();
    await train(buildNetwork(await loadKernels('auto'), config, batchNorm), data, config);
    return (steps * 1000) / (performance.now() - started);
  };
  return { withoutBn: await rate(false), withBn: await rate(true) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fixed = (x: number, digits = 0): string => x.toFixed(digits).padStart(7);

enableRelaxedSimd();
process.stdout.write(
  `browser bench: model 1, ${steps} steps, ${rounds} rounds, alternating page and Node; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})\n`,
);
const pageRounds: PageRound[] = [];
const nodeRounds: Array<{ withoutBn: number; withBn: number }> = [];
for (let round = 1; round <= rounds; round++) {
  const inPage = await pageRound();
  const inNode = await nodeRound();
  pageRounds.push(inPage);
  nodeRounds.push(inNode);
  process.stdout.write(
    `round ${round}: page ${fixed(inPage.withoutBn)} / ${fixed(inPage.withBn)} steps/s (without / with BN, both at once), drawing ${(inPage.drawFraction * 100).toFixed(1)}% of wall time in ${inPage.draws} draws; ` +
      `Node alone ${fixed(inNode.withoutBn)} / ${fixed(inNode.withBn)} steps/s\n`,
  );
}
const summary = {
  steps,
  rounds,
  cpu: cpus()[0]?.model ?? 'unknown',
  page: {
    withoutBn: median(pageRounds.map((r) => r.withoutBn)),
    withBn: median(pageRounds.map((r) => r.withBn)),
    drawFraction: median(pageRounds.map((r) => r.drawFraction)),
  },
  node: { withoutBn: median(nodeRounds.map((r) => r.withoutBn)), withBn: median(nodeRounds.map((r) => r.withBn)) },
  pageRounds,
  nodeRounds,
};
process.stdout.write(
  `median: page ${summary.page.withoutBn.toFixed(0)} / ${summary.page.withBn.toFixed(0)} steps/s (target ≥ 1,500 each: issue 15; the page's first was 1,000), drawing ${(summary.page.drawFraction * 100).toFixed(1)}% of wall time (target < 10%); ` +
    `page / Node alone: ${(summary.page.withoutBn / summary.node.withoutBn).toFixed(2)}× and ${(summary.page.withBn / summary.node.withBn).toFixed(2)}×\n`,
);
mkdirSync('bnlab-out', { recursive: true });
writeFileSync('bnlab-out/browser-bench.json', `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write('Wrote bnlab-out/browser-bench.json\n');
