/**
 * @file The norms' shared options as a user runs them: `--norm-placement post` and `--no-affine`
 * on train, the checkpoint they save (format 3, γ/β absent when not learned) restored by eval with
 * the same accuracy and described, eval's --norm-placement refusal, and the flags' one-line
 * refusals (exit 2) where no network has what they set; Weight Norm (--norm wn, --wn-mean-only,
 * --wn-init) through compare (the numbers of train() in one thread), train --save and eval.
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

const scratch = scratchFolder('bnlab-norm-options-');

/** The tensor names and metadata of a safetensors file, read by hand. */
function header(path: string): { names: string[]; metadata: Record<string, string> } {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const parsed = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  const { __metadata__: metadata, ...tensors } = parsed;
  return { names: Object.keys(tensors), metadata: metadata as Record<string, string> };
}

function accuracies(stdout: string): string[] {
  return [...stdout.matchAll(/The final accuracy on (?:validation|test) data is (0\.\d{4})/g)].map((match) => match[1]!);
}

test('train --norm-placement post --save, then eval: the same accuracies, the placement shown and checked', async () => {
  const path = join(scratch, 'post.safetensors');
  const trained = await runCli(['train', '--norm-placement', 'post', '--steps', '60', '--validate-every', '30', '--save', path]);
  assert.equal(trained.code, 0, trained.stderr);
  const { names, metadata } = header(path);
  assert.equal(metadata['bnlab.format'], '3');
  assert.equal((JSON.parse(metadata['bnlab.spec']!) as { placement: string }).placement, 'post');
  assert.ok(names.includes('dense.0.bias'), 'BN after the activation keeps the hidden bias');
  const restored = await runCli(['eval', path]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /784-128-128-128-10 relu with BN \(ema statistics\), the norm after the activation/);
  assert.deepEqual(accuracies(restored.stdout), accuracies(trained.stdout));
  const checked = await runCli(['eval', path, '--norm-placement', 'post']);
  assert.equal(checked.code, 0, checked.stderr);
  const refused = await runCli(['eval', path, '--norm-placement', 'pre']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /norm layers sit after the activation \(post\), not before the activation \(pre\) \(--norm-placement pre\)/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
});

test("train --no-affine: BN without bn.{i}.gamma/beta (format 1, as BN's scale/center always said), Layer Norm without ln.{i}.* (format 3)", async () => {
  for (const [norm, format] of [
    ['bn', '1'],
    ['ln', '3'],
  ] as const) {
    const path = join(scratch, `${norm}-plain.safetensors`);
    const trained = await runCli(['train', '--norm', norm, '--no-affine', '--steps', '40', '--validate-every', '20', '--save', path]);
    assert.equal(trained.code, 0, trained.stderr);
    const { names, metadata } = header(path);
    assert.equal(metadata['bnlab.format'], format, norm);
    assert.deepEqual(
      names.filter((name) => /\.(gamma|beta)$/.test(name)),
      [],
      `${norm}: no γ/β tensors`,
    );
    const restored = await runCli(['eval', path]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /without γ\/β/);
    assert.deepEqual(accuracies(restored.stdout), accuracies(trained.stdout));
  }
});

test("compare's own pair (without and with BN) takes --norm-placement post and --no-affine: the BN network gets them", async () => {
  const out = join(scratch, 'pair');
  const printed = await runCli(['compare', '--norm-placement', 'post', '--no-affine', '--steps', '20', '--validate-every', '10', '--out', out]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^With Batch Norm: The final accuracy on test data is 0\.\d{4}$/m);
  const record = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as { config: { normPlacement: string; normAffine: boolean } };
  assert.equal(record.config.normPlacement, 'post');
  assert.equal(record.config.normAffine, false);
});

test('the placement and affine flags refuse, in one line with exit code 2, where no network has a norm layer', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['train', '--no-bn', '--norm-placement', 'post'],
      /--norm-placement applies to bn, brn, ghost, ln, gn, rms only, the norms with a layer of their own .*; got --norm none/,
    ],
    [
      ['train', '--norm', 'wn', '--norm-placement', 'post'],
      /--norm-placement applies to bn, brn, ghost, ln, gn, rms only.*Weight Norm reparametrizes the weights/,
    ],
    [['train', '--norm', 'wn', '--no-affine'], /--no-affine applies to bn, brn, ghost, ln, gn, rms only, the norms with learnable γ\/β/],
    [['compare', '--norms', 'none,wn', '--no-affine'], /--no-affine applies to .*; got --norms none,wn/],
    [['train', '--norm-placement', 'sideways'], /--norm-placement must be one of pre, post, got "sideways"/],
    [['train', '--norm', 'bn', '--wn-mean-only'], /--wn-mean-only applies to Weight Norm only; add wn to the norms \(--norm wn\)/],
    [['compare', '--norms', 'none,bn', '--wn-init', 'none'], /--wn-init applies to Weight Norm only; add wn to the norms \(--norm wn or --norms …,wn\)/],
    [['train', '--norm', 'wn', '--wn-init', 'lsuv'], /--wn-init must be one of data, none, got "lsuv"/],
    [['train', '--norm', 'wn', '--bn-estimator', 'batch'], /--bn-estimator batch applies to bn only: wn infers with its moving averages/],
    [
      ['eval', 'test/fixtures/format1-bn.safetensors', '--norm-placement', 'post'],
      /holds a network whose norm layers sit before the activation \(pre\), not after the activation \(post\)/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});

test('compare --norms none,bn,wn --wn-mean-only : Weight Norm beside them, the numbers of train() in one thread; train --norm wn --save, eval', async () => {
  const out = join(scratch, 'wn');
  const args = ['compare', '--norms', 'none,bn,wn', '--wn-mean-only', '--steps', '30', '--validate-every', '10', '--out', out];
  const printed = await runCli(args);
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^With Weight Norm: The final accuracy on test data is 0\.\d{4}$/m);
  const record = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareRecord;
  assert.ok(readFileSync(join(out, 'compare.svg'), 'utf8').includes('with WN'), "the chart's legend has with WN");
  const config = resolveTrainConfig({ steps: 30, validateEvery: 10, wnMeanOnly: true });
  const weights = initialWeightsFor(config);
  const data = await loadMnist();
  const runs = [];
  for (const norm of ['none', 'bn', 'wn'] as const) {
    runs.push({ batchNorm: norm === 'bn', norm, result: await train(buildNetwork(await loadKernels('auto'), config, norm, weights), data, config) });
  }
  const strip = (list: CompareRecord['runs']) =>
    (JSON.parse(toJson(list)) as CompareRecord['runs']).map((run) => ({ ...run, stepsPerSecond: 0, trainingMs: 0, elapsedMs: 0 }));
  assert.deepEqual(strip(record.runs), strip(compareRecord('', '', '', config, runs).runs));

  const path = join(scratch, 'wn.safetensors');
  const trained = await runCli(['train', '--norm', 'wn', '--steps', '40', '--validate-every', '20', '--save', path]);
  assert.equal(trained.code, 0, trained.stderr);
  const { names, metadata } = header(path);
  assert.equal(metadata['bnlab.format'], '3');
  assert.deepEqual(names.filter((name) => name.startsWith('wn.0.')).sort(), ['wn.0.bias', 'wn.0.g', 'wn.0.v']);
  assert.ok(!names.includes('dense.0.weight'), 'the hidden weights are v and g, not a dense weight');
  const restored = await runCli(['eval', path, '--norm', 'wn']);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /784-128-128-128-10 relu with Weight Norm \(data-dependent init\)/);
  assert.deepEqual(accuracies(restored.stdout), accuracies(trained.stdout));
  // --init-from a Weight Norm checkpoint takes its weights w = g·v/‖v‖.
  const again = await runCli(['train', '--norm', 'none', '--init-from', path, '--steps', '0']);
  assert.equal(again.code, 0, again.stderr);
});
