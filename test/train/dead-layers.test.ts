/**
 * @file Issue 15, "doing less work": a network whose last hidden layer outputs 0 for every example
 * (dead ReLUs: the article's models 3 and 5 without BN at seed 1) no longer changes its hidden
 * layers, so `skipDeadLayers` trains its output layer alone once `MLP.hiddenDeadOn` has checked
 * every example of the three splits. These tests prove it changes nothing: the same runs trained in
 * full and with the skip give the same record (every curve point, final validation and test), the
 * same validation hooks and the same final weights, bit for bit, on every wasm build, and on the
 * reference backend with a network made dead on purpose; on shared batches too. And that the check
 * refuses every network it cannot vouch for: one live example, a norm, a non-finite weight.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { MnistData } from '../../src/data/mnist.js';
import { SharedBatches } from '../../src/data/shared-batches.js';
import { floatExamples } from '../../src/nn/example-source.js';
import type { MLP } from '../../src/nn/mlp.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { deriveSeed } from '../../src/train/seeds.js';
import { type CurvePoint, runTogether, TrainingRun, train } from '../../src/train/trainer.js';
import { wasmBuildsHere } from '../helpers/backends.js';
import { syntheticMnist } from '../helpers/synthetic-mnist.js';
import { trainNumbers } from '../helpers/train-numbers.js';

/** Every tensor of the network (weights, biases), as bytes. */
function weightBytes(net: MLP): Array<[string, Uint8Array]> {
  return net.checkpointTensors().map((tensor) => {
    const values = tensor.read() as Float32Array;
    return [tensor.name, new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength))];
  });
}

/** `prepare` changes the freshly built network (both copies alike) before training. */
async function fullAndSkipping(fresh: () => Promise<Kernels>, data: MnistData, config: TrainConfig, prepare: (net: MLP) => void = () => {}) {
  const points = { full: [] as CurvePoint[], skipping: [] as CurvePoint[] };
  const fullNet = buildNetwork(await fresh(), config, false);
  prepare(fullNet);
  const full = await train(fullNet, data, config, { onValidation: (p) => points.full.push(p) });
  const net = buildNetwork(await fresh(), config, false);
  prepare(net);
  const skipping = await train(net, data, config, { onValidation: (p) => points.skipping.push(p) }, { skipDeadLayers: true });
  assert.deepStrictEqual(trainNumbers(skipping), trainNumbers(full), 'the run with dead layers skipped records what the full one does');
  assert.deepStrictEqual(points.skipping, points.full, 'the same validation points reach the hooks');
  assert.deepStrictEqual(weightBytes(net), weightBytes(fullNet), 'the same final weights and biases, bit for bit');
  assert.equal(full.deadLayerSteps, undefined, 'the full run trains every layer');
  return { full, skipping };
}

describe('dead hidden layers: the output layer trained alone gives what full training gives (real MNIST, wasm)', async () => {
  const data = await loadMnist();
  // Runs whose ReLUs die without NaN (docs/performance.md, "ReLU zeros"), found dead at the look at step 200 or 1600.
  const model3 = { initStd: 0.05, learningRate: 2, seed: 1 },
    model5 = { initStd: 10, learningRate: 0.01 };
  for (const { variant, bytes } of wasmBuildsHere()) {
    const module = await compileKernelModule(bytes);
    const fresh = () => WasmKernels.create(module, variant);
    const cases: Array<[string, Partial<TrainConfig>]> = [
      ['model 5 without BN, seed 1', { ...model5, seed: 1 }],
      ['model 5 without BN, seed 4', { ...model5, seed: 4 }],
      // The article's grid's other dead run; SIMD128 (no fused multiply-add) takes it to NaN at step 232 instead.
      ...(variant === 'relaxed-simd' ? [['model 3 without BN, seed 1', model3] as [string, Partial<TrainConfig>]] : []),
    ];
    for (const [label, overrides] of cases) {
      test(`${variant}: ${label}, 1,800 steps, validation every 250`, async () => {
        const config = resolveTrainConfig({ ...overrides, steps: 1800, validateEvery: 250, activation: 'relu', batchNorm: false, norm: 'none' });
        const { full, skipping } = await fullAndSkipping(fresh, data, config);
        assert.ok((skipping.deadLayerSteps ?? 0) >= 100, `the hidden layers are found dead and skipped: ${skipping.deadLayerSteps} steps`);
        assert.equal(full.divergedAtStep, null, 'dead, not diverged');
        assert.ok(full.validation.accuracy < 0.12, `it learns nothing: ${full.validation.accuracy}`);
      });
    }

    test(`${variant}: a network that learns (model 1 without BN) is trained in full`, async () => {
      const config = resolveTrainConfig({ steps: 400, validateEvery: 200, seed: 1, batchNorm: false, norm: 'none' });
      const { skipping } = await fullAndSkipping(fresh, data, config);
      assert.equal(skipping.deadLayerSteps, undefined);
    });

    test(`${variant}: on shared batches, a dead network beside a live one comes out as each trained alone`, async () => {
      const kernels = await fresh();
      const base = { steps: 1800, validateEvery: 250, seed: 1, batchNorm: false, norm: 'none' as const };
      const configs = [resolveTrainConfig({ ...base, ...model5 }), resolveTrainConfig({ ...base })];
      const first = configs[0]!;
      const batches = new SharedBatches(kernels, data.train, first.batchSize, { shuffle: first.shuffle, seed: deriveSeed(first.seed, 'batches') }, 16);
      const runs = configs.map((config) => new TrainingRun(buildNetwork(kernels, config, false), data, config, {}, { batches, skipDeadLayers: true }));
      await runTogether(runs, undefined, 16);
      const together = runs.map((run) => run.finish());
      assert.ok((together[0]!.deadLayerSteps ?? 0) > 0, 'model 5 is found dead');
      assert.equal(together[1]!.deadLayerSteps, undefined, 'model 1 is not');
      for (const [i, config] of configs.entries()) {
        const alone = await train(buildNetwork(await fresh(), config, false), data, config);
        assert.deepStrictEqual(trainNumbers(together[i]!), trainNumbers(alone));
      }
    });
  }
});

describe('dead hidden layers on the reference backend (synthetic task)', () => {
  const data: MnistData = syntheticMnist();
  const fresh = async () => new JsKernels();
  const config = resolveTrainConfig({
    hiddenSizes: [16, 16],
    batchSize: 20,
    evalBatchSize: 50,
    steps: 330,
    validateEvery: 40,
    learningRate: 0.5,
    batchNorm: false,
    norm: 'none',
  });
  /** The last hidden layer's bias far below anything x·W reaches: its ReLUs output 0 for every example. */
  const killLastHidden = (net: MLP) => net.dense[net.dense.length - 2]!.bias!.data.fill(-100);

  test('a network made dead trains its output layer alone from the first look on, with the numbers of full training', async () => {
    const { full, skipping } = await fullAndSkipping(fresh, data, config, killLastHidden);
    assert.equal(skipping.deadLayerSteps, config.steps - 100, 'found dead at the first look (step 100)');
    // What the record holds, said outright: the logits are the output bias, so every example gets one class.
    assert.equal(full.validation.correct, 10, 'one class for every example: the 10 of 100 that have it');
  });

  test('hiddenDeadOn: true only for a plain ReLU network whose last hidden layer is 0 on every example, with finite values', async () => {
    const kernels = new JsKernels();
    const source = floatExamples(
      Float32Array.from(data.train.pixels.subarray(0, 50 * 784), (p) => p / 255),
      data.train.labels.subarray(0, 50),
      784,
    );
    const net = buildNetwork(kernels, config, false);
    assert.equal(net.hiddenDeadOn(source, 20), false, 'a fresh network is alive');
    killLastHidden(net);
    assert.equal(net.hiddenDeadOn(source, 20), true);
    // One unit alive for one example: unit 0 reads one input (weight 1) and its bias lets through only the example where that input is largest.
    const lastHidden = net.dense[net.dense.length - 2]!;
    const x = net.inputFor(50);
    source.copyRows(0, 50, x, kernels);
    net.forward(x, 'infer');
    const below = net.hiddenBuffers(50)[0]!.activation; // the last hidden layer's input
    const row = Array.from(below.data.subarray(36 * 16, 37 * 16));
    const w = lastHidden.weights.data;
    const bestInput = row.indexOf(Math.max(...row));
    for (let i = 0; i < 16; i++) w[i * 16] = i === bestInput ? 1 : 0;
    const values = Array.from({ length: 50 }, (_, e) => below.data[e * 16 + bestInput]!);
    const sorted = [...values].sort((a, b) => b - a);
    assert.ok(sorted[0]! > sorted[1]! && sorted[0]! > 0, 'one example is the largest on that input');
    const alive = values.indexOf(sorted[0]!);
    lastHidden.bias!.data[0] = -(sorted[0]! + sorted[1]!) / 2; // only that example clears the bias
    assert.equal(net.hiddenDeadOn(source, 20), false, `example ${alive} has a live unit`);
    lastHidden.bias!.data[0] = -sorted[0]! - 1;
    assert.equal(net.hiddenDeadOn(source, 20), true, 'and with the bias lowered below it, dead again');
    net.dense[0]!.weights.data[5] = Number.POSITIVE_INFINITY;
    assert.equal(net.hiddenDeadOn(source, 20), false, 'a non-finite hidden weight: the zeros it would multiply could give NaN');
    const withBN = buildNetwork(kernels, { ...config, batchNorm: true, norm: 'bn' }, true);
    withBN.normLayers.at(-1)!.parameters().at(-1)!.value.data.fill(-100); // β far below: BN's output dead too
    assert.equal(withBN.hiddenDeadOn(source, 20), false, 'a network with a norm is never vouched for (its statistics move without gradients)');
  });
});
