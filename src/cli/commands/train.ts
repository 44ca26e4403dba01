/**
 * @file `bnlab train`: one network, with or without BN, on MNIST; prints the article's result
 * lines, optionally saves a checkpoint and writes a JSON record and the validation curve.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { lineChartSpec } from '../../lab/charts/line-chart.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { saveCheckpoint } from '../../node/checkpoint-files.js';
import { bnlabVersion } from '../../node/package-info.js';
import { writeChart } from '../../node/render-chart.js';
import { buildNetwork } from '../../train/networks.js';
import { watchInterrupt } from '../interrupt.js';
import { progressStyleFor } from '../progress.js';
import { curveSeries, networkName, summarizeRun, toJson } from '../../lab/run-summary.js';
import { runWithProgress } from '../run-training.js';
import { setUp } from '../setup.js';
import { addTrainOptions, backendFromOptions, trainConfigFromOptions, type RawTrainOptions } from '../train-options.js';
import { printResults } from '../results.js';

export function trainCommand(): Command {
  const command = new Command('train')
    .description('train one network on MNIST (the article\'s model 1 by default) and report validation and test accuracy')
    .option('--save <checkpoint>', 'save the trained network as a safetensors checkpoint');
  addTrainOptions(command, true);
  return command.action(async (raw: RawTrainOptions & { save?: string }) => {
    const config = trainConfigFromOptions(raw);
    const backend = backendFromOptions(raw);
    const { kernels, data, initialWeights } = await setUp(config, { backend, dataDir: raw.dataDir, initFrom: raw.initFrom });
    const net = buildNetwork(kernels, config, config.batchNorm, initialWeights);
    const interrupt = watchInterrupt(() => undefined);
    const label = networkName(config.batchNorm);
    const result = await runWithProgress(label, net, data, config, progressStyleFor(process.stderr, raw.json === true), () => interrupt.requested);
    interrupt.dispose();

    const record = {
      bnlab: bnlabVersion(),
      command: 'train',
      backend: kernels.variant,
      data: data.source,
      config,
      run: summarizeRun(label, config.batchNorm, config, result),
    };
    if (raw.save) {
      await saveCheckpoint(raw.save, net, { steps: String(result.steps), seed: String(config.seed), config: JSON.stringify(config) });
    }
    if (raw.out) {
      await writeFileAtomic(join(raw.out, 'train.json'), toJson(record));
      await writeChart(
        lineChartSpec({ title: `Validation accuracy: ${record.run.network}`, xTitle: 'training step', yTitle: 'validation accuracy', series: [curveSeries(config.batchNorm, result.curve)], yDomain: [0, 1] }),
        join(raw.out, 'train'),
      );
    }
    if (raw.json) {
      process.stdout.write(toJson(record));
      return;
    }
    printResults([{ label, result }], kernels.variant);
    if (raw.save) process.stdout.write(`Saved the network to ${raw.save}\n`);
    if (raw.out) process.stdout.write(`Wrote ${join(raw.out, 'train.json')}, train.svg and train.png\n`);
  });
}
