/**
 * @file Where the page sends a dropped checkpoint (src/web/ui/checkpoint-target.ts): real
 * checkpoints of every norm by the "bnlab.spec" in their header, and null (a worker then
 * explains) for random bytes, a truncated file and a safetensors file that is not bnlab's.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { NORM_KINDS } from '../../src/nn/spec.js';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { encodeSafetensors } from '../../src/train/safetensors.js';
import { checkpointNorm } from '../../src/web/ui/checkpoint-target.js';

describe('checkpointNorm', () => {
  const config = resolveTrainConfig({ hiddenSizes: [8, 4] });
  const kernels = new JsKernels();

  test("reads BN or no BN from a real checkpoint's spec", () => {
    assert.equal(checkpointNorm(encodeCheckpoint(buildNetwork(kernels, config, true))), 'bn');
    assert.equal(checkpointNorm(encodeCheckpoint(buildNetwork(kernels, config, false))), 'none');
  });

  test("reads every other norm from a real checkpoint's spec", () => {
    const settings = resolveTrainConfig({ hiddenSizes: [8, 4], normGroups: 2, batchSize: 4, ghostBatch: 2 });
    for (const norm of NORM_KINDS) assert.equal(checkpointNorm(encodeCheckpoint(buildNetwork(kernels, settings, norm))), norm, norm);
  });

  test('gives null for what is not a readable bnlab checkpoint', () => {
    const bytes = encodeCheckpoint(buildNetwork(kernels, config, false));
    assert.equal(checkpointNorm(Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), null);
    assert.equal(checkpointNorm(bytes.subarray(0, 20)), null, 'cut inside the header');
    assert.equal(checkpointNorm(new Uint8Array(0)), null);
    assert.equal(checkpointNorm(encodeSafetensors({ w: { dtype: 'F32', shape: [2], values: [1, 2] } }, { note: 'not bnlab' })), null);
    assert.equal(checkpointNorm(encodeSafetensors({ w: { dtype: 'F32', shape: [1], values: [1] } }, { 'bnlab.spec': '{oops' })), null);
  });
});
