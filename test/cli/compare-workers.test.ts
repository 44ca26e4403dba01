/**
 * @file `bnlab compare` trains its two networks on worker threads, with exactly the numbers of
 * training them in one thread: the same curves, validation and test accuracies and losses to the
 * bit, from the seed's weights or from --init-from's, on the wasm kernels and with --backend js.
 * Piped, each network's validation lines and divergence note still appear; Ctrl-C stops both
 * networks and still prints and writes both results.
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BackendChoice } from '../../src/core/backend.js';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { type CompareRecord, compareRecord, toJson } from '../../src/lab/run-summary.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { loadCheckpoint } from '../../src/node/checkpoint-files.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { loadKernels } from '../../src/node/wasm-files.js';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';
import { resolveTrainConfig, specFromConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-compare-');
const mnist = loadMnist();

/** compare.json's runs as training both networks here gives them, timings left out. */
async function inProcess(config: TrainConfig, backend: BackendChoice, initialWeights: Matrix[]): Promise<CompareRecord['runs']> {
  const data = await mnist;
  const runs = [];
  for (const batchNorm of [false, true]) {
    const net = buildNetwork(await loadKernels(backend), config, batchNorm, initialWeights);
    runs.push({ batchNorm, result: await train(net, data, config) });
  }
  return withoutTimings(compareRecord('', '', '', config, runs).runs);
}

/** Through JSON, as compare.json holds it (NaN as null), without the timings that differ run to run. */
function withoutTimings(runs: CompareRecord['runs']): CompareRecord['runs'] {
  return (JSON.parse(toJson(runs)) as CompareRecord['runs']).map((run) => ({ ...run, stepsPerSecond: 0, trainingMs: 0, elapsedMs: 0 }));
}

async function compareJson(args: string[]): Promise<CompareRecord> {
  const out = join(scratch, `out-${Math.random().toString(36).slice(2)}`);
  const result = await runCli(['compare', ...args, '--json', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const record = JSON.parse(result.stdout) as CompareRecord;
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')), record);
  return record;
}

for (const [backend, steps, every] of [
  ['auto', 300, 100],
  ['js', 30, 10],
] as const) {
  test(`compare --steps ${steps} --backend ${backend}: the numbers of train() in one thread, to the bit`, async () => {
    const record = await compareJson(['--steps', String(steps), '--validate-every', String(every), '--backend', backend]);
    const config = resolveTrainConfig({ steps, validateEvery: every });
    const { batchNorm: _unused, norm: _norm, ...settings } = config;
    assert.deepEqual(record.config, settings, 'the settings both networks share; each run says its norm');
    assert.equal(record.backend, (await loadKernels(backend)).variant);
    assert.deepEqual(
      record.runs.map((run) => run.label),
      ['Without Batch Norm', 'With Batch Norm'],
    );
    const expected = await inProcess(config, backend, initialWeightsFor(config));
    assert.deepEqual(withoutTimings(record.runs), expected);
    for (const run of record.runs) {
      assert.equal(run.curve.length, steps / every + 1);
      assert.ok(run.stepsPerSecond > 0, "the trainer's own steps/s is reported");
    }
  });
}

test("compare --init-from: the numbers of train() from the checkpoint's weights", async () => {
  const spec = specFromConfig(resolveTrainConfig({}), 784, 10, true);
  const checkpoint = join(scratch, 'init.safetensors');
  writeFileSync(checkpoint, encodeCheckpoint(new MLP(new JsKernels(), spec, drawInitialWeights(spec, 0.08, new Rng(5)))));
  const record = await compareJson(['--steps', '300', '--validate-every', '100', '--init-from', checkpoint]);

  const config = resolveTrainConfig({ steps: 300, validateEvery: 100 });
  const { net } = await loadCheckpoint(checkpoint, await loadKernels('auto'));
  const expected = await inProcess(
    config,
    'auto',
    net.dense.map((layer) => layer.weights),
  );
  assert.deepEqual(withoutTimings(record.runs), expected);
  const fromSeed = await inProcess(config, 'auto', initialWeightsFor(config));
  assert.notDeepEqual(
    expected.map((run) => run.curve),
    fromSeed.map((run) => run.curve),
    "the checkpoint's weights, not the seed's",
  );
});

test("piped: both networks' validation lines and the divergence note, then the results without BN first", async () => {
  // lr 100 from N(0, 1) weights: the network without BN diverges within a few steps.
  const result = await runCli(['compare', '--steps', '40', '--validate-every', '20', '--lr', '100', '--init-std', '1', '--out', join(scratch, 'piped')]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stderr.trim().split('\n');
  for (const label of ['Without Batch Norm', 'With Batch Norm']) {
    const own = lines.filter((line) => line.startsWith(`${label}: step `));
    assert.deepEqual(
      own.map((line) => /step (\d+)\//.exec(line)![1]),
      ['0', '20', '40'],
      `${label}: ${result.stderr}`,
    );
    for (const line of own)
      assert.match(line, new RegExp(`^${label}: step \\d+/40, validation accuracy \\d\\.\\d{4}, loss (\\d+\\.\\d{4}|NaN), \\d+\\.\\d it/s$`));
  }
  const note = lines.findIndex((line) =>
    /^Without Batch Norm: the loss became (NaN|-?Infinity) at step \d+; the network diverged \(recorded, the run goes on\)\.$/.test(line),
  );
  assert.ok(
    note > lines.findIndex((line) => line.startsWith('Without Batch Norm: step 0/')),
    `a divergence note after the first validation line: ${result.stderr}`,
  );
  assert.ok(note < lines.findIndex((line) => line.startsWith('Without Batch Norm: step 20/')), 'the note comes before the next validation line');
  assert.match(
    result.stdout,
    /^Training result:\nWithout Batch Norm: The final accuracy on validation data is 0\.\d{4}\nWith Batch Norm: The final accuracy on validation data is 0\.\d{4}\nTesting result:\nWithout Batch Norm: .*\nWith Batch Norm: .*\nWithout Batch Norm: 40 steps, \d+ steps\/s \(.+\); diverged at step \d+ \(loss NaN or infinite\)\nWith Batch Norm: 40 steps, \d+ steps\/s \(.+\)\nWrote /,
  );
});

test('Ctrl-C stops both networks cleanly; both results are still printed and written', async () => {
  const out = join(scratch, 'interrupted');
  const both = availableParallelism() > 1; // on one core the networks train one after the other
  let sent = false;
  const result = await runCli(['compare', '--steps', '1000000', '--validate-every', '20', '--out', out], {
    onStderr: (text, child) => {
      if (!sent && /Without Batch Norm: step 20\//.test(text) && (!both || /With Batch Norm: step 20\//.test(text))) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(sent, `progress lines appeared: ${result.stderr}`);
  assert.equal(result.code, 0, result.stderr);
  const record = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareRecord;
  assert.deepEqual(
    record.runs.map((run) => run.label),
    both ? ['Without Batch Norm', 'With Batch Norm'] : ['Without Batch Norm'],
  );
  for (const run of record.runs) {
    assert.match(result.stderr, new RegExp(`${run.label}: interrupted after ${run.steps} of 1000000 steps; writing what was asked for\\.`));
    assert.equal(run.stopReason, 'interrupted');
    assert.ok(run.steps >= 20 && run.steps < 1000000, `${run.label}: ${run.steps} steps`);
    assert.equal(run.curve.at(-1)!.step, run.steps);
    assert.match(result.stdout, new RegExp(`${run.label}: The final accuracy on test data is ${run.testAccuracy.toFixed(4).replace('.', '\\.')}\\n`));
  }
});
