/**
 * @file Checkpoints on disk: saveCheckpoint then loadCheckpoint restores the network bit for bit
 * with bnlab's version in the metadata, creates missing folders, and every unreadable path is a
 * CheckpointError that names it.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { makeSpec } from '../../src/nn/spec.js';
import { loadCheckpoint, MAX_CHECKPOINT_BYTES, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { bnlabVersion } from '../../src/node/package-info.js';
import { CheckpointError, encodeCheckpoint } from '../../src/train/checkpoint.js';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'bnlab-checkpoint-files-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

function smallNet(): MLP {
  const spec = makeSpec({ inputSize: 6, hiddenSizes: [5], outputSize: 3, batchNorm: true });
  const net = new MLP(new JsKernels(), spec, drawInitialWeights(spec, 0.5, new Rng(3)));
  net.norms[0]!.movingMean.data.fill(0.125);
  net.norms[0]!.averagedBatches = 17;
  return net;
}

function assertRefused(error: unknown, path: string, pattern: RegExp): boolean {
  assert.ok(error instanceof CheckpointError, String(error));
  assert.ok(error.message.includes(path), error.message);
  assert.match(error.message, pattern);
  return true;
}

describe('checkpoint files', () => {
  test('save then load: the same bytes as encodeCheckpoint, in a folder created on the way, with the version', async () => {
    const net = smallNet();
    const path = join(folder, 'runs', 'a', 'model.safetensors');
    await saveCheckpoint(path, net, { steps: '100' });
    assert.deepEqual(new Uint8Array(readFileSync(path)), encodeCheckpoint(net, { steps: '100' }, bnlabVersion()));
    assert.deepEqual(readdirSync(join(folder, 'runs', 'a')), ['model.safetensors']);
    const { net: restored, metadata } = await loadCheckpoint(path, new JsKernels());
    assert.equal(metadata['bnlab.version'], bnlabVersion());
    assert.equal(metadata.steps, '100');
    assert.deepEqual(Array.from(restored.norms[0]!.movingMean.data), Array.from(net.norms[0]!.movingMean.data));
    assert.equal(restored.norms[0]!.averagedBatches, 17);
    assert.deepEqual(Array.from(restored.dense[1]!.weights.data), Array.from(net.dense[1]!.weights.data));
  });

  test('a path that is missing, a folder, or not a checkpoint is a CheckpointError naming it', async () => {
    const missing = join(folder, 'nope.safetensors');
    await assert.rejects(loadCheckpoint(missing, new JsKernels()), (error) => assertRefused(error, missing, /there is no such file/));
    await assert.rejects(loadCheckpoint(folder, new JsKernels()), (error) => assertRefused(error, folder, /it is a folder/));
    const text = join(folder, 'notes.txt');
    writeFileSync(text, 'just some notes, not a checkpoint');
    await assert.rejects(loadCheckpoint(text, new JsKernels()), (error) => assertRefused(error, text, /not a readable safetensors file/));
    // A device that never ends is refused before a byte is read, not read forever.
    await assert.rejects(loadCheckpoint('/dev/zero', new JsKernels()), (error) => assertRefused(error, '/dev/zero', /it is not a regular file/));
  });

  test('a file larger than any checkpoint bnlab can write is refused before it is read', async () => {
    const huge = join(folder, 'huge.safetensors');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_CHECKPOINT_BYTES + 1); // sparse: no disk used
    await assert.rejects(loadCheckpoint(huge, new JsKernels()), (error) => assertRefused(error, huge, /is 1,074 MB, larger than any network bnlab can train/));
  });

  test('a checkpoint of other layer sizes than expected names both', async () => {
    const path = join(folder, 'model.safetensors');
    await saveCheckpoint(path, smallNet());
    await assert.rejects(loadCheckpoint(path, new JsKernels(), { inputSize: 6, hiddenSizes: [7], outputSize: 3 }), (error) =>
      assertRefused(error, path, /holds a 6-5-3 network, but a 6-7-3 network is expected/),
    );
  });
});
