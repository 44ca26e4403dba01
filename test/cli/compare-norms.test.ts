/**
 * @file `bnlab compare --norms`: any list of norms from the same initial weights on the same
 * batches, on the pool, each with the numbers train() gives it in one thread, printed the
 * article's way, one curve each; and the flags' one-line refusals (exit 2).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CompareRecord, compareRecord, toJson } from '../../src/lab/run-summary.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { loadKernels } from '../../src/node/wasm-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-norms-');
const strip = (runs: CompareRecord['runs']) =>
  (JSON.parse(toJson(runs)) as CompareRecord['runs']).map((run) => ({ ...run, stepsPerSecond: 0, trainingMs: 0, elapsedMs: 0 }));

test('compare --norms none,ln,gn,rms --backend js: four networks, the numbers of train() in one thread', async () => {
  const out = join(scratch, 'four');
  const args = ['compare', '--norms', 'none,ln,gn,rms', '--norm-groups', '4', '--steps', '30', '--validate-every', '10', '--backend', 'js', '--out', out];
  const printed = await runCli(args);
  assert.equal(printed.code, 0, printed.stderr);
  for (const name of ['Without Batch Norm', 'With Layer Norm', 'With Group Norm', 'With RMSNorm']) {
    assert.match(printed.stdout, new RegExp(`^${name}: The final accuracy on test data is 0\\.\\d{4}$`, 'm'));
  }
  const record = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareRecord;
  assert.deepEqual(
    record.runs.map((run) => run.label),
    ['Without Batch Norm', 'With Layer Norm', 'With Group Norm', 'With RMSNorm'],
  );
  const svg = readFileSync(join(out, 'compare.svg'), 'utf8');
  for (const legend of ['without BN', 'with LN', 'with GN', 'with RMSNorm']) assert.ok(svg.includes(legend), `the chart's legend has ${legend}`);

  const config = resolveTrainConfig({ steps: 30, validateEvery: 10, normGroups: 4 });
  const weights = initialWeightsFor(config);
  const data = await loadMnist();
  const runs = [];
  for (const norm of ['none', 'ln', 'gn', 'rms'] as const) {
    runs.push({ batchNorm: false, norm, result: await train(buildNetwork(await loadKernels('js'), config, norm, weights), data, config) });
  }
  assert.deepEqual(strip(record.runs), strip(compareRecord('', '', '', config, runs).runs));
});

test('compare --norms bn,brn,ghost --backend js: Batch Renorm and Ghost BN beside BN, the numbers of train() in one thread', async () => {
  const out = join(scratch, 'successors');
  const args = [
    'compare',
    '--norms',
    'bn,brn,ghost',
    '--ghost-batch',
    '15',
    '--renorm-warmup',
    '0.2',
    '--steps',
    '30',
    '--validate-every',
    '10',
    '--backend',
    'js',
    '--out',
    out,
  ];
  const printed = await runCli(args);
  assert.equal(printed.code, 0, printed.stderr);
  const names = ['With Batch Norm', 'With Batch Renorm', 'With Ghost Batch Norm'];
  for (const name of names) assert.match(printed.stdout, new RegExp(`^${name}: The final accuracy on test data is 0\\.\\d{4}$`, 'm'));
  const record = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareRecord;
  assert.deepEqual(
    record.runs.map((run) => run.label),
    names,
  );
  const svg = readFileSync(join(out, 'compare.svg'), 'utf8');
  for (const legend of ['with BN', 'with BRN', 'with Ghost BN']) assert.ok(svg.includes(legend), `the chart's legend has ${legend}`);

  const config = resolveTrainConfig({ steps: 30, validateEvery: 10, ghostBatch: 15, renormWarmup: 0.2 });
  const weights = initialWeightsFor(config);
  const data = await loadMnist();
  const runs = [];
  for (const norm of ['bn', 'brn', 'ghost'] as const) {
    runs.push({ batchNorm: norm === 'bn', norm, result: await train(buildNetwork(await loadKernels('js'), config, norm, weights), data, config) });
  }
  assert.deepEqual(strip(record.runs), strip(compareRecord('', '', '', config, runs).runs));
  assert.notDeepEqual(runs[1]!.result.curve, runs[0]!.result.curve, 'after the warm-up Batch Renorm departs from BN');
});

test('the norm flags refuse bad input in one line with exit code 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['compare', '--norms', 'ln,ln'], /--norms lists ln twice/],
    [['compare', '--norms', 'ln,xn'], /--norms must be one of none, bn, brn, ghost, ln, gn, rms, wn, got "xn"/],
    [['compare', '--norms', 'bn,ghost', '--ghost-batch', '7'], /--ghost-batch 7 does not divide the batch size 60/],
    [['train', '--norm', 'ghost', '--ghost-batch', '1'], /--ghost-batch must be a whole number of at least 2/],
    [['train', '--norm', 'bn', '--ghost-batch', '10'], /--ghost-batch applies to Ghost BN only; add ghost to the norms \(--norm ghost\)/],
    [
      ['compare', '--norms', 'none,bn', '--renorm-rmax', '2'],
      /--renorm-rmax applies to Batch Renormalization only; add brn to the norms \(--norm brn or --norms …,brn\)/,
    ],
    [['train', '--norm', 'brn', '--renorm-rmax', '0.5'], /--renorm-rmax must be a number of at least 1/],
    [['train', '--norm', 'brn', '--renorm-warmup', '1.5'], /--renorm-warmup must be a fraction of the run from 0 to 1/],
    [['train', '--norm', 'brn', '--bn-estimator', 'average'], /--bn-estimator average applies to bn only: brn infers with its moving averages/],
    [['compare', '--norms', 'ln', '--norm', 'gn'], /give --norms or --norm, not both/],
    [['compare', '--norms', 'gn', '--norm-groups', '5'], /--norm-groups 5 does not divide the hidden layer width 128/],
    [['compare', '--norm-groups', '4'], /--norm-groups applies to Group Norm only/],
    [['train', '--norm', 'rms', '--bn'], /--norm rms contradicts --bn/],
    [['train', '--norm', 'ln', '--norm-groups', '2'], /--norm-groups applies to Group Norm only/],
    [['eval', 'test/fixtures/format1-bn.safetensors', '--norm', 'ln'], /holds a network with batch norm, not with layer norm \(--norm ln\)/],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});
