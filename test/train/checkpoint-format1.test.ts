/**
 * @file Checkpoints written before Layer, Group and RMS Norm still load: the two files in
 * test/fixtures/ were written by bnlab at commit ac5a22a (format "1", whose spec says the norm
 * only by its batchNorm), a 784-16-10 network without and with BN trained 60 steps (seed 4, lr
 * 0.5) on the js kernels; restored here they evaluate to the accuracies and losses that run
 * printed. Today's code writes those two networks in the same format, byte for byte.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JsKernels } from '../../src/core/js-kernels.js';
import { splitExamples } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))));

const WRITTEN = [
  { file: 'format1-none.safetensors', norm: 'none', validation: [0.778, 0.7056115865396619], test: [0.7618, 0.7264011564936222] },
  { file: 'format1-bn.safetensors', norm: 'bn', validation: [0.802, 0.6075642820865395], test: [0.7874, 0.6351907633331942] },
] as const;

test('format-1 checkpoints (before the norms beyond BN) load with their norm and evaluate as when they were written', async () => {
  const data = await loadMnist();
  for (const written of WRITTEN) {
    const bytes = fixture(written.file);
    const { net, metadata } = decodeCheckpoint(bytes, new JsKernels(), written.file);
    assert.equal(metadata['bnlab.format'], '1');
    assert.equal(net.spec.norm, written.norm, `${written.file}: the norm its batchNorm says`);
    assert.equal(net.spec.exampleNorm, null);
    const validation = net.evaluate(splitExamples(data.validation));
    const testSplit = net.evaluate(splitExamples(data.test));
    assert.deepEqual([validation.accuracy, validation.loss], written.validation, `${written.file}: validation`);
    assert.deepEqual([testSplit.accuracy, testSplit.loss], written.test, `${written.file}: test`);
    assert.deepEqual(encodeCheckpoint(net, { steps: '60', seed: '4' }, '0.1.0'), bytes, `${written.file}: written again, the same bytes`);
  }
});
