/**
 * @file `bnlab train`: one network, with or without BN or with another norm (--norm), on MNIST; prints the article's result
 * lines, optionally saves a checkpoint and writes a JSON record and the validation curve.
 */

import { join } from 'node:path';
import { Command } from 'commander';
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import { curveSeries, networkName, summarizeRun, toJson } from '../../lab/run-summary.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { saveCheckpoint } from '../../node/checkpoint-files.js';
import { checkFileWritable, checkFolderWritable, writeAll } from '../../node/output-paths.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import { buildNetwork } from '../../train/networks.js';
import { watchInterrupt } from '../interrupt.js';
import { progressStyleFor } from '../progress.js';
import { printResults } from '../results.js';
import { runWithProgress } from '../run-training.js';
import { setUp } from '../setup.js';
import { addTrainOptions, backendFromOptions, checkNormGroupsUsed, type RawTrainOptions, trainConfigFromOptions } from '../train-options.js';

export function trainCommand(): Command {
  const command = new Command('train')
    .description("train one network on MNIST (the article's model 1 by default) and report validation and test accuracy")
    .option('--save <checkpoint>', 'save the trained network as a safetensors checkpoint');
  addTrainOptions(command, true);
  return command.action(async (raw: RawTrainOptions & { save?: string }, self: Command) => {
    const config = trainConfigFromOptions(raw);
    checkNormGroupsUsed(self, [config.norm]);
    const backend = backendFromOptions(raw);
    if (raw.save !== undefined) await checkFileWritable('--save', raw.save);
    if (raw.out !== undefined) await checkFolderWritable('--out', raw.out);
    const { kernels, data, initialWeights } = await setUp(config, { backend, dataDir: raw.dataDir, initFrom: raw.initFrom });
    const net = buildNetwork(kernels, config, config.norm, initialWeights);
    const interrupt = watchInterrupt(() => undefined);
    const label = networkName(config.norm);
    const result = await runWithProgress(label, net, data, config, progressStyleFor(process.stderr, raw.json === true), () => interrupt.requested);
    interrupt.dispose();

    const record = {
      bnlab: bnlabVersion(),
      command: 'train',
      backend: kernels.variant,
      data: data.source,
      config,
      run: summarizeRun(label, config.norm, config, result),
    };
    const writes = [];
    if (raw.save !== undefined) {
      const path = raw.save;
      writes.push({ path, write: () => saveCheckpoint(path, net, { steps: String(result.steps), seed: String(config.seed), config: JSON.stringify(config) }) });
    }
    if (raw.out !== undefined) {
      const out = raw.out;
      writes.push({ path: join(out, 'train.json'), write: () => writeFileAtomic(join(out, 'train.json'), toJson(record)) });
      const chart = lineChartSpec({
        title: `Validation accuracy: ${record.run.network}`,
        xTitle: 'training step',
        yTitle: 'validation accuracy',
        series: [curveSeries(config.norm, result.curve)],
        yDomain: [0, 1],
      });
      writes.push({ path: join(out, 'train.svg'), write: () => writeChart(chart, join(out, 'train')) });
    }
    if (raw.json) {
      process.stdout.write(toJson(record));
    } else {
      printResults([{ label, result }], kernels.variant);
    }
    await writeAll(writes);
    if (raw.json) return;
    if (raw.save !== undefined) process.stdout.write(`Saved the network to ${raw.save}\n`);
    if (raw.out !== undefined) process.stdout.write(`Wrote ${join(raw.out, 'train.json')}, train.svg and train.png\n`);
  });
}
