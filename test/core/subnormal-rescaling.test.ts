/**
 * @file The wasm backend multiplies a factor holding subnormal floats as x·2^24 against the other
 * factor ·2^−24 (an Intel core takes each subnormal operand in a slow microcode assist). Every
 * product a·b is then the same real number, so the result must have the bits of multiplying them
 * as they are: for each product that does it (x·W, dY·Wᵀ long and short, xᵀ·dY with either factor
 * subnormal, and the first layer's xᵀ·dY from SparseRows), on both builds, with the factors given
 * back bit for bit; and nothing is scaled where a scaling would not be exact (a factor below
 * 2^−102 to scale down, ∞, NaN) or where both factors hold subnormals. The counter shows which
 * path ran. Then a saturated sigmoid network trains to the same numbers and weights either way.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { train } from '../../src/train/trainer.js';
import { placedMatrix, wasmBuildsHere } from '../helpers/backends.js';
import { trainNumbers } from '../helpers/train-numbers.js';

const SMALLEST_NORMAL = 2 ** -126;

/** Values like a saturated sigmoid's: 0, 1, in between, and `subnormalShare` of them subnormal. */
function saturated(rng: Rng, length: number, subnormalShare: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = rng.uniform();
    out[i] = u < subnormalShare ? SMALLEST_NORMAL * rng.uniform() : u < 0.4 ? 0 : u < 0.8 ? 1 : rng.uniform();
  }
  return out;
}

function normal(rng: Rng, length: number, std: number): Float32Array {
  const out = new Float32Array(length);
  rng.fillNormal(out, std);
  return out;
}

function bits(matrix: Matrix): Uint32Array {
  return new Uint32Array(Float32Array.from(matrix.data).buffer);
}

describe('subnormal operands rescaled: the same bits as multiplying them as they are (wasm)', async () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant);
    const matrix = (rows: number, cols: number, data: ArrayLike<number>) => placedMatrix(kernels, rows, cols, data);
    /** Runs `product` (which writes `output`) rescaling and not, and checks the bits of its output and that its inputs come back unchanged. */
    const compare = (label: string, inputs: Matrix[], output: Matrix, product: () => void, expectRescaled: boolean) => {
      const before = inputs.map(bits);
      kernels.rescaleSubnormals = false;
      product();
      const plain = bits(output);
      kernels.rescaleSubnormals = true;
      const count = kernels.subnormalRescales;
      product();
      const rescaled = bits(output);
      assert.deepStrictEqual(rescaled, plain, `${label}: the same bits`);
      assert.equal(kernels.subnormalRescales - count, expectRescaled ? 1 : 0, `${label}: ${expectRescaled ? 'rescaled' : 'multiplied as it is'}`);
      inputs.forEach((input, i) => {
        assert.deepStrictEqual(bits(input), before[i], `${label}: input ${i} given back bit for bit`);
      });
    };

    test(`${variant}: x·W, dY·Wᵀ (long and short) and xᵀ·dY with subnormals in one factor`, () => {
      const rng = new Rng(11);
      const x = matrix(60, 128, saturated(rng, 60 * 128, 0.05));
      const w = matrix(128, 128, normal(rng, 128 * 128, 10));
      const dy = matrix(60, 128, normal(rng, 60 * 128, 1));
      const dyTiny = matrix(
        60,
        128,
        saturated(rng, 60 * 128, 0.06).map((v, i) => (i % 2 ? -v : v)),
      );
      const xNormal = matrix(60, 128, saturated(rng, 60 * 128, 0));
      const out = kernels.matrix(60, 128);
      compare('x·W', [x, w], out, () => kernels.matmul(x, w, out), true);
      compare('dY·Wᵀ', [dyTiny, w], out, () => kernels.matmulTransposeB(dyTiny, w, out), true);
      const dLogits = matrix(60, 10, saturated(rng, 600, 0.1));
      const wOut = matrix(128, 10, normal(rng, 1280, 10));
      compare('dY·Wᵀ, 10 columns (through a transpose)', [dLogits, wOut], out, () => kernels.matmulTransposeB(dLogits, wOut, out), true);
      const target = kernels.matrix(128, 128);
      const update = (a: Matrix, b: Matrix) => {
        target.data.set(w.data);
        kernels.matmulTransposeAAdd(a, b, target, false, -0.5);
      };
      compare('W −= lr·xᵀ·dY, x subnormal', [x, dy], target, () => update(x, dy), true);
      compare('W −= lr·xᵀ·dY, dY subnormal', [xNormal, dyTiny], target, () => update(xNormal, dyTiny), true);
      compare('W −= lr·xᵀ·dY, both subnormal: as they are', [x, dyTiny], target, () => update(x, dyTiny), false);
      compare('x·W without subnormals: as it is', [xNormal, w], out, () => kernels.matmul(xNormal, w, out), false);
      compare('x·W where ReLU zeros are measured: as it is', [x, w], out, () => kernels.matmul(x, w, out, 'measure'), false);
    });

    test(`${variant}: nothing is scaled where a scaling would not be exact`, () => {
      const rng = new Rng(12);
      const x = matrix(60, 128, saturated(rng, 60 * 128, 0.05));
      const out = kernels.matrix(60, 128);
      for (const [label, special] of [
        ['a weight below 2^−102', 2 ** -110],
        ['an infinite weight', Number.POSITIVE_INFINITY],
        ['a NaN weight', Number.NaN],
      ] as const) {
        const values = normal(rng, 128 * 128, 10);
        values[777] = special;
        const w = matrix(128, 128, values);
        compare(label, [x, w], out, () => kernels.matmul(x, w, out), false);
      }
      const huge = matrix(60, 128, saturated(rng, 60 * 128, 0.05));
      huge.data[5] = 2 ** 110;
      const w = matrix(128, 128, normal(rng, 128 * 128, 1));
      compare('an activation at 2^110 (its ·2^24 would overflow)', [huge, w], out, () => kernels.matmul(huge, w, out), false);
    });

    test(`${variant}: the first layer's xᵀ·dY from SparseRows with a subnormal dY`, () => {
      const rng = new Rng(13);
      const pixels = new Float32Array(60 * 784).map(() => (rng.uniform() < 0.8 ? 0 : (1 + rng.int(255)) / 255));
      const rows = kernels.sparseRows(60, 784);
      kernels.packRows(matrix(60, 784, pixels), rows);
      const dy = matrix(60, 128, saturated(rng, 60 * 128, 0.05));
      const w = normal(rng, 784 * 128, 10);
      const target = kernels.matrix(784, 128);
      const update = () => {
        target.data.set(w);
        kernels.matmulTransposeAAddSparseRows(rows, dy, target, -2);
      };
      compare('W −= lr·xᵀ·dY, x as its nonzeros', [dy], target, update, true);
    });

    test(`${variant}: model 8 without BN (saturated sigmoids) trains to the same numbers and weights either way`, async () => {
      const data = await loadMnist();
      const config = resolveTrainConfig({
        initStd: 10,
        learningRate: 2,
        activation: 'sigmoid',
        seed: 1,
        steps: 120,
        validateEvery: 60,
        batchNorm: false,
        norm: 'none',
      });
      const results = [];
      const weights = [];
      for (const rescale of [false, true]) {
        const backend = await WasmKernels.create(await compileKernelModule(bytes), variant);
        backend.rescaleSubnormals = rescale;
        const net = buildNetwork(backend, config, false);
        results.push(trainNumbers(await train(net, data, config)));
        weights.push(net.dense.map((layer) => Array.from(new Uint32Array(Float32Array.from(layer.weights.data).buffer))));
        if (rescale) assert.ok(backend.subnormalRescales > 100, `products were rescaled: ${backend.subnormalRescales}`);
      }
      assert.deepStrictEqual(results[1], results[0]);
      assert.deepStrictEqual(weights[1], weights[0]);
    });
  }
});
