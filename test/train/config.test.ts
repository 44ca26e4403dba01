/**
 * @file Every size a user can pass is bounded before anything is allocated: counts have upper
 * limits, and a network whose memory estimate is over the limit is refused naming the flag to
 * lower. The estimate is the sum of its parts, written out here from the layer shapes.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, MAX_NETWORK_BYTES, networkMemoryBytes, resolveTrainConfig } from '../../src/train/config.js';

function refusal(overrides: Parameters<typeof resolveTrainConfig>[0]): string {
  try {
    resolveTrainConfig(overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`${JSON.stringify(overrides)} was accepted`);
}

test("the article network needs about 29 MB: weights and gradients, BN's vectors, and buffers and kernel memory for its largest batch (evaluation, 1000 rows)", () => {
  const config = resolveTrainConfig({});
  const parameters = 784 * 128 + 128 + 2 * (128 * 128 + 128) + 128 * 10 + 10;
  const fixed = 2 * parameters * 4 + 14 * 3 * 128 * 4 + 1024 * 1024; // W, b and their gradients; 14 floats per BN feature; the kernels' allowance
  const perExample = (784 + 6 * 3 * 128 + 2 * 10) * 4; // the input, six [m, h] buffers per layer with BN, logits and their gradient
  const kernelsPerExample = 2 * 784 + 2 * 4 * 784 + (2 * 4 * 784 + 4) + 24; // pixels drawn and staged, the sparse layer's scratch, the input as nonzeros, the loss's terms
  const expected = fixed + 1000 * (perExample + kernelsPerExample);
  assert.equal(networkMemoryBytes(config).total, expected);
  assert.ok(expected > 27e6 && expected < 32 * 1024 * 1024, 'under the 32 MiB wasm memory starts with: no growth at all');
});

test('counts past their limits are refused, naming the flag', () => {
  assert.equal(refusal({ batchSize: 1_000_000_000 }), '--batch-size must be at most 1,000,000, got 1,000,000,000');
  assert.equal(refusal({ bnAverageBatches: 1_000_000_000 }), '--bn-average-batches must be at most 10,000, got 1,000,000,000');
  assert.equal(refusal({ steps: 2_000_000_000 }), '--steps must be at most 1,000,000,000, got 2,000,000,000');
  assert.match(refusal({ hiddenSizes: new Array(65).fill(4) }), /^--hidden may list at most 64 layers/);
});

test('a network too large for memory is refused before anything is allocated, naming the flag that makes it so', () => {
  assert.match(
    refusal({ hiddenSizes: [100_000_000] }),
    /^--hidden 100000000 asks for layers that need about 599\.8 GiB of memory even one example at a time, more than the 1\.0 GiB one network may use: use narrower layers$/,
  );
  assert.match(
    refusal({ evalBatchSize: 60_000, hiddenSizes: [4096, 4096] }),
    /^--eval-batch-size 60000 with --hidden 4096,4096 needs about \d+\.\d GiB of memory, .*: lower --eval-batch-size$/,
  );
  assert.match(refusal({ batchSize: 400_000 }), /^--batch-size 400000 with --hidden 128,128,128 needs about .*: lower --batch-size$/);
  // Just under the limit is fine: the widest single hidden layer whose estimate fits.
  const fits = resolveTrainConfig({ hiddenSizes: [60_000], batchSize: 2, evalBatchSize: 1 });
  assert.ok(networkMemoryBytes(fits).total <= MAX_NETWORK_BYTES);
});
