/**
 * @file `bnlab compare`: the article's experiment. The network without BN and the one with BN
 * start from the same initial weights and see the same batches; they train at the same time on
 * two worker threads of the training pool (one after the other on one worker where only one
 * core is free), each exactly as it would in this thread. Both results are printed as the
 * article prints them, without BN first, and one chart of both validation curves plus a JSON
 * record are written.
 */
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BackendChoice } from '../../core/backend.js';
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { checkFolderWritable, writeAll } from '../../node/output-paths.js';
import { jobWeights, shareMnist, type SharedMnist } from '../../node/grid-messages.js';
import { GridPool } from '../../node/grid-pool.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import type { TrainConfig } from '../../train/config.js';
import { watchInterrupt } from '../interrupt.js';
import { progressStyleFor } from '../progress.js';
import { compareRecord, curveSeries, networkName, toJson } from '../../lab/run-summary.js';
import { printResults } from '../results.js';
import { runOnPool, type LabeledResult } from '../run-training.js';
import { setUp } from '../setup.js';
import { addTrainOptions, backendFromOptions, trainConfigFromOptions, type RawTrainOptions } from '../train-options.js';

export const DEFAULT_OUT_DIR = 'bnlab-out';

export function compareCommand(): Command {
  const command = new Command('compare').description(
    'train the network without and with BatchNorm from the same initial weights, print both results and chart both validation curves',
  );
  addTrainOptions(command, false);
  return command.action(async (raw: RawTrainOptions) => {
    const config = trainConfigFromOptions({ ...raw, bn: true });
    const backend = backendFromOptions(raw);
    const outDir = raw.out ?? DEFAULT_OUT_DIR;
    await checkFolderWritable('--out', outDir);
    const { backendName, shared, initialWeights } = await prepare(config, { backend, dataDir: raw.dataDir, initFrom: raw.initFrom });
    const style = progressStyleFor(process.stderr, raw.json === true);

    // One worker per network; on a single core one worker trains them in turn (two would only share it).
    const pool = new GridPool({ jobs: Math.min(2, availableParallelism()), backend, data: shared });
    const interrupt = watchInterrupt(() => pool.stop());
    let runs: LabeledResult[];
    try {
      runs = await runOnPool(pool, [false, true].map((batchNorm) => ({
        label: networkName(batchNorm),
        job: { id: batchNorm ? 'bn' : 'nobn', config, batchNorm, initialWeights },
      })), style);
    } finally {
      interrupt.dispose();
    }

    const title = `std ${config.initStd}, lr ${config.learningRate}, ${config.activation}, batch ${config.batchSize}`;
    const record = compareRecord(bnlabVersion(), backendName, shared.source, config, runs);
    const chart = lineChartSpec({
      title: `Validation accuracy: ${title}`,
      xTitle: 'training step',
      yTitle: 'validation accuracy',
      series: runs.map(({ batchNorm, result }) => curveSeries(batchNorm, result.curve)),
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
 * What the workers need, made here once: the backend checked (one clear error, not a failing
 * worker), MNIST in shared memory and the pair's initial weights as plain arrays. In its own
 * function so that the decoded MNIST and the kernels are garbage once it returns.
 */
async function prepare(
  config: TrainConfig, options: { backend: BackendChoice; dataDir?: string; initFrom?: string },
): Promise<{ backendName: string; shared: SharedMnist; initialWeights: Float32Array[] }> {
  const { kernels, data, initialWeights } = await setUp(config, options);
  return { backendName: kernels.variant, shared: shareMnist(data), initialWeights: jobWeights(initialWeights) };
}
