/**
 * @file The live training session the page's workers run, driven directly on real MNIST and the
 * wasm kernels: its numbers are `train`'s to the bit however it is played, paused and stepped;
 * its probes fall on fixed steps and measure what they say; classification, the confusion
 * matrix, saving and loading agree with the network's own evaluation; bad files change nothing.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PERCENTILES } from '../../src/lab/claims/covariate-shift.js';
import type { SessionUpdate } from '../../src/lab/live/session-messages.js';
import { probeInterval } from '../../src/lab/live/training-session.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { loadKernels } from '../../src/node/wasm-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { openSession } from '../helpers/session-harness.js';

const data = loadMnist();
const config = resolveTrainConfig({ steps: 240, validateEvery: 80, activation: 'sigmoid', learningRate: 0.5 });

async function configured(batchNorm: boolean, settings: TrainConfig = config) {
  const session = openSession(data);
  const ready = session.next('configured');
  session.send({ type: 'configure', config: settings, norm: batchNorm, backend: 'wasm' });
  await ready;
  return session;
}

const finished = (update: SessionUpdate) => update.state === 'finished';

for (const batchNorm of [false, true]) {
  test(`${batchNorm ? 'with' : 'without'} BN: stepped, paused and played, the session gives train()'s numbers to the bit`, async () => {
    const reference = await train(buildNetwork(await loadKernels('wasm'), config, batchNorm), await data, config);
    const session = await configured(batchNorm);
    const afterOne = session.next('update', (update) => update.update.step === 1);
    session.send({ type: 'advance', steps: 1 });
    assert.equal((await afterOne).update.state, 'paused');
    const after101 = session.next('update', (update) => update.update.step === 101 && update.update.state === 'paused');
    session.send({ type: 'advance', steps: 100 });
    await after101;
    const done = session.next('update', (update) => finished(update.update));
    session.send({ type: 'play' });
    const summary = (await done).update.summary!;
    assert.equal(summary.steps, config.steps);
    assert.equal(summary.validationAccuracy, reference.validation.accuracy);
    assert.equal(summary.testAccuracy, reference.test.accuracy);
    assert.deepEqual(
      summary.curve.map((point) => point.validationAccuracy),
      reference.curve.map((point) => point.validationAccuracy),
    );
    // The incremental updates add up to the whole curve, each point once.
    assert.deepEqual(
      session
        .updates()
        .flatMap((update) => update.curve)
        .map((point) => point.step),
      [0, 80, 160, 240],
    );
  });
}

test('probes fall on fixed steps; percentiles are ordered; saturation is a fraction; BN views have a value per unit', async () => {
  const session = await configured(true);
  const done = session.next('update', (update) => finished(update.update));
  session.send({ type: 'play' });
  await done;
  const probes = session.updates().flatMap((update) => update.probes);
  const interval = probeInterval(config.steps);
  assert.deepEqual(
    probes.map((probe) => probe.step),
    Array.from({ length: config.steps / interval + 1 }, (_, i) => i * interval),
  );
  for (const probe of probes) {
    assert.equal(probe.percentiles.length, 3);
    for (const [p15, p50, p85] of probe.percentiles) assert.ok(p15 <= p50 && p50 <= p85, `${p15} ≤ ${p50} ≤ ${p85}`);
    for (const fraction of probe.saturation) assert.ok(fraction >= 0 && fraction <= 1);
  }
  assert.equal(PERCENTILES.length, 3);
  const layers = session
    .updates()
    .map((update) => update.layers)
    .filter((layers) => layers !== null)
    .at(-1)!;
  assert.equal(layers.length, 3);
  for (const layer of layers) {
    assert.equal(
      layer.histogram.counts.reduce((a, b) => a + b, 0),
      256 * 128,
      'every probe value of every unit falls in a bin',
    );
    const bn = layer.batchNorm!;
    for (const values of [bn.gamma, bn.beta, bn.movingMean, bn.movingVariance, bn.batchMean, bn.batchVariance]) assert.equal(values.length, 128);
    assert.ok(
      bn.gamma.some((g) => g !== 1),
      'γ has learned',
    );
  }
});

test('inference: the batch estimator one example at a time gives every image the same answer; the confusion matrix matches the test accuracy', async () => {
  const session = await configured(true);
  const done = session.next('update', (update) => finished(update.update));
  session.send({ type: 'play' });
  const summary = (await done).update.summary!;

  const classify = async (index: number, estimator: 'ema' | 'batch', oneAtATime: boolean) => {
    const answer = session.next('classified', (event) => event.requestId === index * 10 + (oneAtATime ? 1 : 0) + (estimator === 'batch' ? 2 : 0));
    session.send({
      type: 'classify',
      requestId: index * 10 + (oneAtATime ? 1 : 0) + (estimator === 'batch' ? 2 : 0),
      image: { kind: 'test', index },
      inference: { estimator, oneAtATime },
    });
    return answer;
  };
  const first = await classify(0, 'batch', true);
  const second = await classify(1, 'batch', true);
  assert.deepEqual(first.probabilities, second.probabilities, 'one example has no variance: every input normalizes to β');
  const ema = await classify(0, 'ema', true);
  assert.ok(Math.abs(ema.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(ema.label, (await data).test.labels[0]);
  assert.equal(ema.pixels.length, 784);

  const confusion = session.next('confusion', (event) => event.requestId === 7);
  session.send({ type: 'confusion', requestId: 7, inference: { estimator: 'ema', oneAtATime: false } });
  const { matrix, accuracy } = await confusion;
  assert.equal(
    matrix.flat().reduce((a, b) => a + b, 0),
    10000,
  );
  assert.equal(accuracy, summary.testAccuracy, 'the diagonal is the test accuracy that training reported');
});

test('save, then load: the loaded network validates as the saved one did; a corrupt or misfit file changes nothing', async () => {
  const session = await configured(true);
  const done = session.next('update', (update) => finished(update.update));
  session.send({ type: 'play' });
  const summary = (await done).update.summary!;
  const saved = session.next('checkpoint');
  session.send({ type: 'save', requestId: 1 });
  const { bytes, fileName } = await saved;
  assert.equal(fileName, 'bnlab-with-bn.safetensors');

  const other = await configured(true);
  const loaded = other.next('loaded');
  other.send({ type: 'load', requestId: 2, bytes, fileName });
  const result = await loaded;
  assert.equal(result.validation.accuracy, summary.validationAccuracy);
  assert.equal(result.test.accuracy, summary.testAccuracy);

  const runId = result.runId;
  const corrupt = other.next('failed', (event) => event.requestId === 3);
  other.send({ type: 'load', requestId: 3, bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), fileName: 'junk.bin' });
  assert.match((await corrupt).message, /junk\.bin is not a readable safetensors file/);

  const small = await configured(true, resolveTrainConfig({ ...config, hiddenSizes: [8] }));
  const smallSaved = small.next('checkpoint');
  small.send({ type: 'save', requestId: 4 });
  const misfit = other.next('failed', (event) => event.requestId === 5);
  other.send({ type: 'load', requestId: 5, bytes: (await smallSaved).bytes, fileName: 'small.safetensors' });
  assert.match((await misfit).message, /small\.safetensors holds a 784-8-10 network, but a 784-128-128-128-10 network is expected/);

  const noBn = await configured(false);
  const wrongSlot = noBn.next('failed', (event) => event.requestId === 6);
  noBn.send({ type: 'load', requestId: 6, bytes, fileName });
  assert.match((await wrongSlot).message, /holds a network with Batch Norm, and this one is without Batch Norm: load it into the network with Batch Norm\./);

  // Nothing changed: the next update is still of the loaded run.
  const after = other.next('update');
  other.send({ type: 'watchUnit', unit: 3 });
  assert.equal((await after).update.runId, runId);
});
