/**
 * @file `bnlab compare`: the article's experiment. The network without BN and the one with BN
 * (or, with --norms, any list of norms; --norm X: without a norm and with X) start from the same
 * initial weights and see the same batches; they train at the same time on worker threads of the
 * training pool (as many as there are networks and cores), each exactly as it would in this
 * thread. The results are printed as the article prints them, in the order given, and one chart
 * of every validation curve plus a JSON record are written.
 */

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { BackendChoice } from '../../core/backend.js';
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import { compareRecord, curveSeries, networkName, toJson } from '../../lab/run-summary.js';
import { NORM_KINDS, type NormKind } from '../../nn/spec.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { jobWeights, type SharedMnist, shareMnist } from '../../node/grid-messages.js';
import { GridPool } from '../../node/grid-pool.js';
import { checkFolderWritable, writeAll } from '../../node/output-paths.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import type { TrainConfig } from '../../train/config.js';
import { UsageError } from '../errors.js';
import { watchInterrupt } from '../interrupt.js';
import { parseNormList } from '../norm-list.js';
import { parseChoice } from '../parse.js';
import { progressStyleFor } from '../progress.js';
import { printResults } from '../results.js';
import { type LabeledJob, type LabeledResult, runOnPool } from '../run-training.js';
import { setUp } from '../setup.js';
import { addTrainOptions, backendFromOptions, checkNormGroupsUsed, type RawTrainOptions, trainConfigFromOptions } from '../train-options.js';

const DEFAULT_OUT_DIR = 'bnlab-out';

export function compareCommand(): Command {
  const command = new Command('compare').description(
    'train the network without and with BatchNorm (or with each of --norms) from the same initial weights, print every result and chart every validation curve',
  );
  command
    .option('--norms <list>', `the networks' norms, comma-separated from ${NORM_KINDS.join(',')} (default: none,bn)`)
    .option('--norm <name>', `compare the network without a norm and the one with this norm: ${NORM_KINDS.join('|')}`);
  addTrainOptions(command, false);
  return command.action(async (raw: RawTrainOptions & { norms?: string }, self: Command) => {
    const norms = normsFromOptions(raw);
    checkNormGroupsUsed(self, norms ?? ['none', 'bn']);
    const config = trainConfigFromOptions({ ...raw, norm: undefined, bn: true });
    // The checks a norm's own settings get (groups that do not divide a width, a ghost batch that does not divide the batch).
    for (const norm of norms ?? []) if (norm !== 'none' && norm !== 'bn') trainConfigFromOptions({ ...raw, norm, bn: undefined });
    const backend = backendFromOptions(raw);
    const outDir = raw.out ?? DEFAULT_OUT_DIR;
    await checkFolderWritable('--out', outDir);
    const { backendName, shared, initialWeights } = await prepare(config, { backend, dataDir: raw.dataDir, initFrom: raw.initFrom });
    const style = progressStyleFor(process.stderr, raw.json === true);

    // One worker per network; on a single core one worker trains them side by side (two would only share it).
    const jobs: LabeledJob[] =
      norms === null
        ? [false, true].map((batchNorm) => ({
            label: networkName(batchNorm),
            job: { id: batchNorm ? 'bn' : 'nobn', config, batchNorm, initialWeights },
          }))
        : norms.map((norm) => ({ label: networkName(norm), job: { id: norm, config, batchNorm: norm === 'bn', norm, initialWeights } }));
    // More networks than cores: each worker trains its share side by side on batches drawn once (the same numbers).
    const pool = new GridPool({ jobs: Math.min(jobs.length, availableParallelism()), backend, data: shared, shareBatches: true });
    const interrupt = watchInterrupt(() => pool.stop());
    let runs: LabeledResult[];
    try {
      runs = await runOnPool(pool, jobs, style);
    } finally {
      interrupt.dispose();
    }

    const title = `std ${config.initStd}, lr ${config.learningRate}, ${config.activation}, batch ${config.batchSize}`;
    const record = compareRecord(bnlabVersion(), backendName, shared.source, config, runs);
    const chart = lineChartSpec({
      title: `Validation accuracy: ${title}`,
      xTitle: 'training step',
      yTitle: 'validation accuracy',
      series: runs.map(({ batchNorm, norm, result }) => curveSeries(norm ?? batchNorm, result.curve)),
      yDomain: [0, 1],
    });
    if (raw.json) process.stdout.write(toJson(record));
    else printResults(runs, backendName);
    await writeAll([
      { path: join(outDir, 'compare.json'), write: () => writeFileAtomic(join(outDir, 'compare.json'), toJson(record)) },
      { path: join(outDir, 'compare.svg'), write: () => writeChart(chart, join(outDir, 'compare')) },
    ]);
    if (!raw.json) process.stdout.write(`Wrote ${join(outDir, 'compare.svg')}, ${join(outDir, 'compare.png')} and ${join(outDir, 'compare.json')}\n`);
  });
}

/**
 * The norms --norms or --norm name (--norm X: none and X), or null for compare's own pair
 * (without and with BN, as it always was). Each norm once: at most one network per kind.
 */
function normsFromOptions(raw: { norms?: string; norm?: string }): NormKind[] | null {
  if (raw.norms !== undefined && raw.norm !== undefined) throw new UsageError('give --norms or --norm, not both (--norm X is --norms none,X)');
  if (raw.norm !== undefined) {
    const norm = parseChoice<NormKind>('--norm', raw.norm, NORM_KINDS);
    return norm === 'none' ? ['none'] : ['none', norm];
  }
  if (raw.norms === undefined) return null;
  return parseNormList('--norms', raw.norms);
}

/**
 * What the workers need, made here once: the backend checked (one clear error, not a failing
 * worker), MNIST in shared memory and the pair's initial weights as plain arrays. In its own
 * function so that the decoded MNIST and the kernels are garbage once it returns.
 */
async function prepare(
  config: TrainConfig,
  options: { backend: BackendChoice; dataDir?: string; initFrom?: string },
): Promise<{ backendName: string; shared: SharedMnist; initialWeights: Float32Array[] }> {
  const { kernels, data, initialWeights } = await setUp(config, options);
  return { backendName: kernels.variant, shared: shareMnist(data), initialWeights: jobWeights(initialWeights) };
}
