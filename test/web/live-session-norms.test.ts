/**
 * @file The page's training session (src/lab/live) with other norms than none and BN, driven
 * directly on real MNIST and the wasm kernels: a session of any norm gives `train()`'s numbers to
 * the bit for the network `bnlab compare` builds (the shared config, that norm, the seed's
 * weights); its layer views carry γ, β and the statistics for BN's successors (Ghost BN against
 * the probe's statistics, as its training batch is split) and none for the per-example norms;
 * checkpoints are named by the norm and load only into a session of that norm.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionUpdate } from '../../src/lab/live/session-messages.js';
import type { NormKind } from '../../src/nn/spec.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { loadKernels } from '../../src/node/wasm-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { openSession } from '../helpers/session-harness.js';

const data = loadMnist();
/** The pair's shared config, as the page (and compare) hold it: validated with BN, norm 'bn'. */
const config = resolveTrainConfig({ batchNorm: true, steps: 60, validateEvery: 30, batchSize: 20, ghostBatch: 5, normGroups: 4 });

async function configured(norm: NormKind) {
  const session = openSession(data);
  const ready = session.next('configured');
  session.send({ type: 'configure', config, norm, backend: 'wasm' });
  const event = await ready;
  assert.equal(event.norm, norm);
  return session;
}

async function playedToEnd(norm: NormKind) {
  const session = await configured(norm);
  const done = session.next('update', (event) => event.update.state === 'finished');
  session.send({ type: 'play' });
  return { session, summary: (await done).update.summary! };
}

for (const norm of ['ln', 'gn', 'brn', 'ghost'] as const) {
  test(`${norm}: the session gives train()'s numbers for compare's network, and its layer views`, async () => {
    const reference = await train(buildNetwork(await loadKernels('wasm'), config, norm), await data, config);
    const { session, summary } = await playedToEnd(norm);
    assert.equal(summary.validationAccuracy, reference.validation.accuracy);
    assert.equal(summary.testAccuracy, reference.test.accuracy);
    assert.deepEqual(summary.curve, reference.curve);
    assert.equal(summary.norm, norm);
    const layers = session
      .updates()
      .map((update: SessionUpdate) => update.layers)
      .filter((layers) => layers !== null)
      .at(-1)!;
    assert.equal(layers.length, 3);
    for (const layer of layers) {
      assert.equal(
        layer.histogram.counts.reduce((a, b) => a + b, 0),
        256 * 128,
      );
      if (norm === 'ln' || norm === 'gn') {
        assert.equal(layer.batchNorm, null, 'a per-example norm has no batch statistics');
        continue;
      }
      const view = layer.batchNorm!;
      assert.equal(view.batchSource, norm === 'ghost' ? 'probe' : 'training batch');
      for (const values of [view.gamma, view.beta, view.movingMean, view.movingVariance, view.batchMean, view.batchVariance]) assert.equal(values.length, 128);
      assert.ok(view.batchVariance.every((v) => v >= 0) && view.batchVariance.some((v) => v > 0), 'real statistics, not zeros');
    }
  });
}

test('checkpoints are named by their norm and load only into a session of that norm', async () => {
  const ghost = await configured('ghost');
  const saved = ghost.next('checkpoint');
  ghost.send({ type: 'save', requestId: 1 });
  const checkpoint = await saved;
  assert.equal(checkpoint.fileName, 'bnlab-with-ghost.safetensors');

  const ln = await configured('ln');
  const refused = ln.next('failed', (event) => event.requestId === 2);
  ln.send({ type: 'load', requestId: 2, bytes: checkpoint.bytes, fileName: checkpoint.fileName });
  assert.equal(
    (await refused).message,
    'bnlab-with-ghost.safetensors holds a network with Ghost Batch Norm, and this one is with Layer Norm: load it into the network with Ghost Batch Norm.',
  );

  const other = await configured('ghost');
  const loaded = other.next('loaded', (event) => event.requestId === 3);
  other.send({ type: 'load', requestId: 3, bytes: checkpoint.bytes, fileName: checkpoint.fileName });
  assert.match((await loaded).network, /with Ghost Batch Norm$/);

  // Virtual batches that do not divide the page's batch size would fail at the first step: refused at once.
  const session = openSession(data);
  const ready = session.next('configured');
  session.send({ type: 'configure', config: resolveTrainConfig({ ...config, batchSize: 18 }), norm: 'ghost', backend: 'wasm' });
  await ready.catch(() => undefined);
  const misfit = session.next('failed', (event) => event.requestId === 4);
  session.send({ type: 'load', requestId: 4, bytes: checkpoint.bytes, fileName: checkpoint.fileName });
  assert.match((await misfit).message, /holds Ghost BN with virtual batches of 5, which do not divide the batch size 18/);
});
