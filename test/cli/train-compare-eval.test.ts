/**
 * @file The training commands end to end, as a user runs them: flag errors, a short compare
 * that must beat chance by a wide margin, train --save then eval, determinism, Ctrl-C.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { makeSpec } from '../../src/nn/spec.js';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-cli-');

describe('flag errors: one line, exit code 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '--lr', '-1'], /--lr must be a positive number/],
    [['train', '--act', 'softplus'], /--act must be one of relu, sigmoid, tanh, identity, got "softplus"/],
    [['train', '--batch-size', '0'], /--batch-size must be a whole number of at least 1/],
    [['train', '--batch-size', '1'], /--batch-size must be at least 2 in training mode with BatchNorm/],
    [['train', '--hidden', '12,x'], /--hidden must be a comma-separated list/],
    [['compare', '--steps', 'many'], /--steps must be a number, got "many"/],
    [['train', '--bn-estimator', 'median'], /--bn-estimator must be one of ema, average, batch/],
    [['train', '--bn-momentum', '1'], /--bn-momentum must be in \[0, 1\)/],
    [['train', '--backend', 'gpu'], /--backend must be one of js, wasm, auto/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['eval', join(scratch, 'missing.safetensors')], /missing\.safetensors/],
    [['train', '--init-from', join(scratch, 'missing.safetensors'), '--steps', '1'], /missing\.safetensors/],
  ];
  for (const [args, message] of cases) {
    test(args.join(' '), async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.ok(!/\n\s+at /.test(result.stderr), `no stack trace: ${result.stderr}`);
      assert.equal(result.stdout, '');
    });
  }
});

test('eval refuses a device and a valid checkpoint of a network that cannot read MNIST, in one line each', async () => {
  const spec = makeSpec({ inputSize: 10, hiddenSizes: [4], outputSize: 10, batchNorm: false });
  const path = join(scratch, 'ten-inputs.safetensors');
  writeFileSync(path, encodeCheckpoint(new MLP(new JsKernels(), spec, drawInitialWeights(spec, 0.1, new Rng(1)))));
  for (const [file, message] of [
    [path, /ten-inputs\.safetensors holds a 10-4-10 network, but MNIST needs 784 inputs \(28 × 28 pixels\) and 10 outputs/],
    ['/dev/zero', /cannot read the checkpoint \/dev\/zero: it is not a regular file/],
  ] as const) {
    const result = await runCli(['eval', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});

test('compare: both networks beat chance (10%) by a wide margin and the chart and record are written', async () => {
  const out = join(scratch, 'compare');
  // 1,000 steps of the article's model 1: without BN is near 70% there, with BN past 90% (the article's curves).
  const result = await runCli(['compare', '--steps', '1000', '--validate-every', '250', '--out', out, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const record = JSON.parse(result.stdout) as { runs: Array<{ label: string; testAccuracy: number; validationAccuracy: number; curve: unknown[] }> };
  assert.deepEqual(
    record.runs.map((run) => run.label),
    ['Without Batch Norm', 'With Batch Norm'],
  );
  for (const run of record.runs) {
    assert.ok(run.testAccuracy > 0.5, `${run.label}: test accuracy ${run.testAccuracy} should be far above chance`);
    assert.equal(run.curve.length, 5, 'points at steps 0, 250, 500, 750, 1000');
  }
  // The article's point: with BN the short run is ahead.
  assert.ok(record.runs[1]!.testAccuracy > record.runs[0]!.testAccuracy, 'with BN ahead after 1,000 steps');
  for (const file of ['compare.json', 'compare.svg', 'compare.png']) assert.ok(existsSync(join(out, file)), file);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')), record);
  assert.ok(!readdirSync(out).some((name) => name.includes('.tmp')), 'no temp files left');
});

test('compare without --json prints the article-style result lines', async () => {
  const result = await runCli(['compare', '--steps', '50', '--validate-every', '25', '--out', join(scratch, 'lines')]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Without Batch Norm: The final accuracy on validation data is 0\.\d{4}\n/);
  assert.match(result.stdout, /With Batch Norm: The final accuracy on test data is 0\.\d{4}\n/);
});

test('train --save then eval restores the same accuracy; the same seed gives the same numbers', async () => {
  const checkpoint = join(scratch, 'model.safetensors');
  const args = ['train', '--steps', '150', '--validate-every', '50', '--seed', '7', '--json'];
  const first = await runCli([...args, '--save', checkpoint]);
  assert.equal(first.code, 0, first.stderr);
  const trained = JSON.parse(first.stdout) as { run: { validationAccuracy: number; testAccuracy: number; curve: unknown } };
  const evaluated = await runCli(['eval', checkpoint, '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const record = JSON.parse(evaluated.stdout) as { validation: { accuracy: number }; test: { accuracy: number } };
  assert.equal(record.validation.accuracy, trained.run.validationAccuracy);
  assert.equal(record.test.accuracy, trained.run.testAccuracy);

  const again = JSON.parse((await runCli(args)).stdout) as typeof trained;
  assert.deepEqual(again.run.curve, trained.run.curve);
  assert.equal(again.run.testAccuracy, trained.run.testAccuracy);

  // The plain TypeScript backend, the one pinned for numbers that must match across machines, is as repeatable.
  const js = ['train', '--steps', '20', '--validate-every', '10', '--seed', '7', '--backend', 'js', '--json'];
  const [jsFirst, jsSecond] = await Promise.all([runCli(js), runCli(js)]);
  assert.deepEqual((JSON.parse(jsFirst.stdout) as typeof trained).run.curve, (JSON.parse(jsSecond.stdout) as typeof trained).run.curve);
});

test('Ctrl-C stops the run cleanly and still writes the record', async () => {
  const out = join(scratch, 'interrupted');
  let sent = false;
  const result = await runCli(['train', '--steps', '1000000', '--validate-every', '20', '--out', out], {
    onStderr: (text, child) => {
      if (!sent && /step 20\//.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(sent, `progress lines appeared: ${result.stderr}`);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /interrupted after \d+ of 1000000 steps/);
  const record = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8')) as { run: { stopReason: string; steps: number } };
  assert.equal(record.run.stopReason, 'interrupted');
  assert.ok(record.run.steps >= 20 && record.run.steps < 1000000);
});
