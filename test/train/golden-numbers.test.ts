/**
 * @file Today's numbers do not move: the same seed gives exactly the curves, accuracies, losses
 * and checkpoint bytes that the code gave before the layer refactor (issue 11, item 1). Every
 * number below was produced by that code, at commit 10127a15182835d2bec920f0e750d0b4b1e4e43a,
 * with a script that ran `train()` on real MNIST for each case (and `bnlab compare --steps 300
 * --validate-every 100 --seed 3` printed the same numbers as the relaxed-simd case); the
 * checkpoint hash is the sha256 of `encodeCheckpoint(net)` after training. Points are
 * [step, validation accuracy, validation loss, mean training loss since the previous point].
 *
 * js and simd128 compute the same IEEE float32 operations on every machine; relaxed-simd lets the
 * CPU choose fused multiply-adds, so its numbers hold on this machine's kind of CPU (as every
 * same-seed test here, conventions.md).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { compileKernelModule, type WasmVariant } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import type { MnistData } from '../../src/data/mnist.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { buildNetwork, initialWeightsFor } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { wasmBuildsHere } from '../helpers/backends.js';

interface NetworkGolden {
  curve: Array<[number, number, number, number]>;
  validation: [number, number];
  test: [number, number];
  checkpointSha256: string;
}

interface GoldenCase {
  name: string;
  backend: 'js' | WasmVariant;
  config: Partial<TrainConfig>;
  networks: { withoutBn: NetworkGolden; withBn: NetworkGolden };
}

const GOLDEN: GoldenCase[] = [
  {
    name: 'model1-js',
    backend: 'js',
    config: { steps: 100, validateEvery: 50, seed: 3 },
    networks: {
      withoutBn: {
        curve: [
          [0, 0.1284, 2.3058688230969984, NaN],
          [50, 0.1808, 2.3001077139659616, 2.3032717639226616],
          [100, 0.2392, 2.2942921572582, 2.298765217755192],
        ],
        validation: [0.2392, 2.2942921572582],
        test: [0.2433, 2.2948745902104695],
        checkpointSha256: 'd9f0dd80ffd482973b9a1431599855feddc1e32a4f7aa210b5626ae07b54977b',
      },
      withBn: {
        curve: [
          [0, 0.1284, 2.3058632461257313, NaN],
          [50, 0.5874, 2.225688850164986, 1.9842136739580147],
          [100, 0.7068, 2.05234050140355, 1.416825239398241],
        ],
        validation: [0.7068, 2.05234050140355],
        test: [0.7134, 2.0545220924948673],
        checkpointSha256: 'e0b1e1a526fab52bb23c4affaf887576c295eaab28332f2004b32c647eb98183',
      },
    },
  },
  {
    name: 'sigmoid-average-js',
    backend: 'js',
    config: {
      steps: 60,
      validateEvery: 30,
      seed: 5,
      activation: 'sigmoid',
      learningRate: 0.5,
      hiddenSizes: [100, 50],
      bnEstimator: 'average',
      bnAverageBatches: 10,
    },
    networks: {
      withoutBn: {
        curve: [
          [0, 0.0986, 2.316631159223139, NaN],
          [30, 0.0986, 2.317876679881794, 2.3327714018588193],
          [60, 0.1002, 2.307794052190684, 2.319525779420592],
        ],
        validation: [0.1002, 2.307794052190684],
        test: [0.0958, 2.313504415679321],
        checkpointSha256: 'b005d136027e5eedd6d6a82164fadcf7d190ceeda291a38c4d96de077239a0df',
      },
      withBn: {
        curve: [
          [0, 0.0876, 2.3129602720896023, NaN],
          [30, 0.7342, 1.206419211746992, 1.7352176303813494],
          [60, 0.8398, 0.7557923781196465, 0.9990375851313886],
        ],
        validation: [0.8398, 0.7557923781196465],
        test: [0.8208, 0.7650473111853374],
        checkpointSha256: '281cc894dc4f2e023931118dcc4e47fd01c755ff0108b6f058403a2a8f929daf',
      },
    },
  },
  {
    name: 'compare-300-relaxed-simd',
    backend: 'relaxed-simd',
    config: { steps: 300, validateEvery: 100, seed: 3 },
    networks: {
      withoutBn: {
        curve: [
          [0, 0.1284, 2.3058688230969984, NaN],
          [100, 0.2392, 2.2942921574729014, 2.3010184909887967],
          [200, 0.331, 2.281474845233602, 2.2892425161060483],
          [300, 0.378, 2.2632339195009634, 2.2737100151015555],
        ],
        validation: [0.378, 2.2632339195009634],
        test: [0.3907, 2.2632466162590994],
        checkpointSha256: 'fe80e6709ad78678b2733c0bf8f6ef191385e0b9fe9f0cb8258f24e83f38a545',
      },
      withBn: {
        curve: [
          [0, 0.1284, 2.3058632461257313, NaN],
          [100, 0.7068, 2.05234050954869, 1.7005194730143072],
          [200, 0.8204, 1.3678993755687512, 0.997233429254978],
          [300, 0.8682, 0.7583180997714993, 0.6904441801344201],
        ],
        validation: [0.8682, 0.7583180997714993],
        test: [0.8704, 0.7597595760036935],
        checkpointSha256: '5d495819c86fdbf3ad9e0d09c8648606c2162fcc46f115bd56f180f661a4f916',
      },
    },
  },
  {
    name: 'compare-300-simd128',
    backend: 'simd128',
    config: { steps: 300, validateEvery: 100, seed: 3 },
    networks: {
      withoutBn: {
        curve: [
          [0, 0.1284, 2.3058688230652473, NaN],
          [100, 0.2392, 2.294292157355185, 2.3010184910537115],
          [200, 0.331, 2.2814748450048956, 2.2892425159828838],
          [300, 0.378, 2.2632339189156507, 2.2737100147917055],
        ],
        validation: [0.378, 2.2632339189156507],
        test: [0.3907, 2.2632466156176974],
        checkpointSha256: 'ea949ed64d25926b82566cd3b1faf72c01ba5d285a1a73dd568f4698ebab8309',
      },
      withBn: {
        curve: [
          [0, 0.1284, 2.3058632460291086, NaN],
          [100, 0.7068, 2.052340508654531, 1.7005194701907462],
          [200, 0.8204, 1.367899367883943, 0.9972334203155961],
          [300, 0.8682, 0.7583181006244293, 0.6904441746278178],
        ],
        validation: [0.8682, 0.7583181006244293],
        test: [0.8704, 0.759759573363667],
        checkpointSha256: '28d5b69a5add8b592b88b7ddf468615d3107c3ca4cfd65bf10bfe1b8df14eebc',
      },
    },
  },
];

let mnist: Promise<MnistData> | null = null;
const data = (): Promise<MnistData> => (mnist ??= loadMnist());

async function kernelsFor(backend: GoldenCase['backend']): Promise<Kernels | null> {
  if (backend === 'js') return new JsKernels();
  const build = wasmBuildsHere().find((b) => b.variant === backend);
  return build ? WasmKernels.create(await compileKernelModule(build.bytes), build.variant) : null;
}

describe('the same seed gives the numbers of the code before the layer refactor', () => {
  for (const golden of GOLDEN) {
    test(golden.name, async (t) => {
      if (!(await kernelsFor(golden.backend))) {
        t.skip(`the ${golden.backend} build does not run here`);
        return;
      }
      const config = resolveTrainConfig(golden.config);
      const weights = initialWeightsFor(config);
      for (const [key, batchNorm] of [
        ['withoutBn', false],
        ['withBn', true],
      ] as const) {
        const expected = golden.networks[key];
        const net = buildNetwork((await kernelsFor(golden.backend))!, config, batchNorm, weights);
        const result = await train(net, await data(), config);
        const curve = result.curve.map((p) => [p.step, p.validationAccuracy, p.validationLoss, p.trainingLoss]);
        assert.deepEqual(curve, expected.curve, `${key}: the curve`);
        assert.deepEqual([result.validation.accuracy, result.validation.loss], expected.validation, `${key}: validation`);
        assert.deepEqual([result.test.accuracy, result.test.loss], expected.test, `${key}: test`);
        const sha = createHash('sha256').update(encodeCheckpoint(net)).digest('hex');
        assert.equal(sha, expected.checkpointSha256, `${key}: the checkpoint's bytes`);
      }
    });
  }
});
