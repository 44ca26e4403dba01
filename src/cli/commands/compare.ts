/**
 * @file `bnlab compare`: the article's experiment. The network without BN and the one with BN
 * start from the same initial weights and see the same batches; both results are printed as
 * the article prints them, and one chart of both validation curves plus a JSON record are written.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import { buildNetwork } from '../../train/networks.js';
import type { TrainResult } from '../../train/trainer.js';
import { watchInterrupt } from '../interrupt.js';
import { progressStyleFor } from '../progress.js';
import { compareRecord, curveSeries, networkName, toJson } from '../../lab/run-summary.js';
import { printResults } from '../results.js';
import { runWithProgress } from '../run-training.js';
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
    const { kernels, data, initialWeights } = await setUp(config, { backend, dataDir: raw.dataDir, initFrom: raw.initFrom });
    const interrupt = watchInterrupt(() => undefined);
    const style = progressStyleFor(process.stderr, raw.json === true);

    const runs: Array<{ label: string; batchNorm: boolean; result: TrainResult }> = [];
    for (const batchNorm of [false, true]) {
      if (interrupt.requested) break;
      const label = networkName(batchNorm);
      const net = buildNetwork(kernels, config, batchNorm, initialWeights);
      runs.push({ label, batchNorm, result: await runWithProgress(label, net, data, config, style, () => interrupt.requested) });
    }
    interrupt.dispose();

    const title = `std ${config.initStd}, lr ${config.learningRate}, ${config.activation}, batch ${config.batchSize}`;
    const record = compareRecord(bnlabVersion(), kernels.variant, data.source, config, runs);
    await writeFileAtomic(join(outDir, 'compare.json'), toJson(record));
    const chart = await writeChart(
      lineChartSpec({
        title: `Validation accuracy: ${title}`,
        xTitle: 'training step',
        yTitle: 'validation accuracy',
        series: runs.map(({ batchNorm, result }) => curveSeries(batchNorm, result.curve)),
        yDomain: [0, 1],
      }),
      join(outDir, 'compare'),
    );
    if (raw.json) {
      process.stdout.write(toJson(record));
      return;
    }
    printResults(runs, kernels.variant);
    process.stdout.write(`Wrote ${chart.svgPath}, ${chart.pngPath} and ${join(outDir, 'compare.json')}\n`);
  });
}
