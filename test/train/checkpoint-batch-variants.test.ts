/**
 * @file Checkpoints of Batch Renormalization and Ghost BN networks: format 2 with the spec's
 * `renorm` / `ghost`, every tensor (brn.{i}.* and ghost.{i}.* as bn.{i}.*, and brn.{i}.steps)
 * back bit for bit, so that the restored network infers the same logits and a resumed Batch
 * Renormalization continues its schedule where it was.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { BatchRenorm } from '../../src/nn/batch-renorm.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { makeSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { CHECKPOINT_FORMAT_EXAMPLE_NORM, decodeCheckpoint, encodeCheckpoint, METADATA_FORMAT } from '../../src/train/checkpoint.js';

const layout = { inputSize: 6, hiddenSizes: [8, 4], outputSize: 3 };

function trained(spec: NetworkSpec): MLP {
  const kernels = new JsKernels();
  const net = new MLP(kernels, spec, drawInitialWeights(spec, 0.4, new Rng(51)), { maxBatchSize: 8 });
  const rng = new Rng(52);
  for (let step = 0; step < 5; step++) {
    const x = net.inputFor(8);
    rng.fillNormal(x.data as Float32Array, 1);
    net.trainStep(x, [0, 1, 2, 0, 1, 2, 0, 1], new Sgd(kernels, 0.2));
  }
  return net;
}

for (const spec of [
  makeSpec({ ...layout, norm: 'brn', renorm: { rmax: 3, dmax: 5, warmupSteps: 1, rmaxSteps: 3, dmaxSteps: 2 } }),
  makeSpec({ ...layout, norm: 'ghost', ghost: { virtualBatch: 4 } }),
]) {
  test(`a ${spec.norm} network round-trips: spec, every tensor and its logits`, () => {
    const net = trained(spec);
    const bytes = encodeCheckpoint(net);
    const { net: restored, metadata } = decodeCheckpoint(bytes, new JsKernels());
    assert.equal(metadata[METADATA_FORMAT], CHECKPOINT_FORMAT_EXAMPLE_NORM);
    assert.deepEqual(restored.spec, net.spec);
    const tensors = (n: MLP) => n.checkpointTensors().map((t) => [t.name, Array.from(t.read())]);
    assert.deepEqual(tensors(restored), tensors(net));
    if (spec.norm === 'brn') {
      assert.ok(tensors(net).some(([name]) => name === 'brn.0.steps'));
      assert.equal((restored.normLayers[0] as BatchRenorm).steps, 5);
    }
    const x = new Float32Array(8 * 6);
    new Rng(53).fillNormal(x, 1);
    const logits = (n: MLP) => {
      const input = n.inputFor(8);
      input.data.set(x);
      return Array.from(n.forward(input, 'infer').data);
    };
    assert.deepEqual(logits(restored), logits(net));
  });
}
