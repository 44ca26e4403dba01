/**
 * @file No array a caller holds goes stale: a network reserves its memory from its spec and its
 * largest batch when it is built, so running it never grows wasm memory. The old failure: a
 * cached `weights.data` had length 0 after an evaluation grew memory from 32 to 128 MiB, and a
 * write through it was lost. Here memory starts at 4 MiB and the evaluation batch needs about 60.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { floatExamples } from '../../src/nn/example-source.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { makeSpec } from '../../src/nn/spec.js';
import { wasmBuildsHere } from '../helpers/backends.js';

const EVAL_BATCH = 5000;

describe('a view of a network held across an evaluation with a large batch stays live', () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    test(variant, async () => {
      const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant, { initialMemoryBytes: 4 * 1024 * 1024 });
      const spec = makeSpec({ batchNorm: true });
      const net = new MLP(kernels, spec, drawInitialWeights(spec, 0.05, new Rng(1)), { maxBatchSize: EVAL_BATCH });
      const rng = new Rng(2);
      const inputs = new Float32Array(EVAL_BATCH * spec.inputSize).map(() => rng.uniform());
      const source = floatExamples(
        inputs,
        Uint8Array.from({ length: EVAL_BATCH }, () => rng.int(10)),
        spec.inputSize,
      );

      const held = net.dense[0]!.weights.data; // [784 × 128], kept by the caller
      const memoryBytes = kernels.memoryBytes;
      net.evaluate(source, EVAL_BATCH);
      assert.equal(kernels.memoryBytes, memoryBytes, 'evaluating grew no memory');
      assert.equal(held.length, spec.inputSize * 128, 'the held array is not detached');

      held.fill(0); // through the held view: every example now reaches BN as the same zeros
      assert.equal(net.dense[0]!.weights.data[0], 0);
      const x = net.inputFor(3);
      x.data.set(inputs.subarray(0, 3 * spec.inputSize));
      const logits = net.forward(x, 'infer').toArrays();
      assert.deepEqual(logits[1], logits[0], 'the network computes with the weights written through the held view');
      assert.deepEqual(logits[2], logits[0]);
    });
  }

  test('a batch larger than the network was sized for is refused, naming the size', async (t) => {
    const build = wasmBuildsHere()[0];
    if (!build) return t.skip('no wasm build here');
    const kernels = await WasmKernels.create(await compileKernelModule(build.bytes), build.variant);
    const spec = makeSpec({ batchNorm: true });
    const net = new MLP(kernels, spec, drawInitialWeights(spec, 0.05, new Rng(1)), { maxBatchSize: 100 });
    assert.throws(() => net.inputFor(101), /a batch of 101 rows is larger than the 100 this network's memory was sized for/);
  });
});
