/**
 * @file The wasm backend multiplies a factor holding subnormal floats as x·2^24 against the other
 * factor ·2^−24 (an Intel core takes each subnormal operand in a slow microcode assist). Every
 * product a·b is then the same real number, so the result must have the bits of multiplying them
 * as they are: for each product that does it (x·W, dY·Wᵀ long and short, xᵀ·dY with either factor
 * subnormal, and the first layer's xᵀ·dY from SparseRows), on both builds, with the factors given
 * back bit for bit; and nothing is scaled where a scaling would not be exact (a factor below
 * 2^−102 to scale down, ∞, NaN). An xᵀ·dY whose two factors hold subnormals scales both up where
 * the multiply-add is fused (assembly/rescaled-gemm.ts), with gemm's bits through every path of
 * that kernel: sums that go subnormal, ties, signed zeros, a sum cancelled to below 2^−126, a
 * scaled sum that overflows, odd shapes and masked tiles. The counters show which path ran. Then a saturated
 * sigmoid network trains to the same numbers and weights either way.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
import { float32Bits } from '../helpers/float-bits.js';
import { handSetSums } from '../helpers/rescaled-sums.js';
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

/**
 * Values that make gemm's sums subnormal, tie and cancel: zeros of both signs, and ±m·2^e with a
 * 1-3 bit m (products then land on halves of the subnormal spacing) and e from −153 (across the
 * subnormals and the small normals) to −2, or from `lowest` to `highest`.
 */
function awkward(rng: Rng, length: number, lowest = -153, highest = -2): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = rng.uniform();
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    out[i] = u < 0.1 ? sign * 0 : sign * (1 + rng.int(7)) * 2 ** (lowest + rng.int(highest - lowest + 1));
  }
  return out;
}

/** Whether this CPU has fused multiply-add instructions (Linux's cpuinfo flag), or null when it cannot tell. */
function cpuHasFma(): boolean | null {
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null;
  }
}

function bits(matrix: Matrix): Uint32Array {
  return float32Bits(matrix.data);
}

describe('subnormal operands rescaled: the same bits as multiplying them as they are (wasm)', async () => {
  for (const { variant, bytes } of wasmBuildsHere()) {
    const kernels = await WasmKernels.create(await compileKernelModule(bytes), variant);
    const matrix = (rows: number, cols: number, data: ArrayLike<number>) => placedMatrix(kernels, rows, cols, data);
    /** Runs `product` (which writes `output`) rescaling and not, and checks the bits of its output and that its inputs come back unchanged. */
    const compare = (label: string, inputs: Matrix[], output: Matrix, product: () => void, expectRescaled: 'oneFactor' | 'sumsScaled' | false) => {
      const before = inputs.map(bits);
      kernels.rescaleSubnormals = false;
      product();
      const plain = bits(output);
      kernels.rescaleSubnormals = true;
      const count = { ...kernels.subnormalRescales };
      product();
      const rescaled = bits(output);
      assert.deepStrictEqual(rescaled, plain, `${label}: the same bits`);
      for (const kind of ['oneFactor', 'sumsScaled'] as const) {
        assert.equal(kernels.subnormalRescales[kind] - count[kind], expectRescaled === kind ? 1 : 0, `${label}: ${expectRescaled || 'multiplied as it is'}`);
      }
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
      compare('x·W', [x, w], out, () => kernels.matmul(x, w, out), 'oneFactor');
      // Where the multiply-add fuses, dY·Wᵀ scales dY alone up and rescales its sums (assembly/rescaled-dot-matmul.ts).
      compare('dY·Wᵀ', [dyTiny, w], out, () => kernels.matmulTransposeB(dyTiny, w, out), kernels.fusedMultiplyAdd ? 'sumsScaled' : 'oneFactor');
      const dLogits = matrix(60, 10, saturated(rng, 600, 0.1));
      const wOut = matrix(128, 10, normal(rng, 1280, 10));
      compare('dY·Wᵀ, 10 columns (through a transpose)', [dLogits, wOut], out, () => kernels.matmulTransposeB(dLogits, wOut, out), 'oneFactor');
      const target = kernels.matrix(128, 128);
      const update = (a: Matrix, b: Matrix) => {
        target.data.set(w.data);
        kernels.matmulTransposeAAdd(a, b, target, false, -0.5);
      };
      compare('W −= lr·xᵀ·dY, x subnormal', [x, dy], target, () => update(x, dy), 'oneFactor');
      compare('W −= lr·xᵀ·dY, dY subnormal', [xNormal, dyTiny], target, () => update(xNormal, dyTiny), 'oneFactor');
      const both = kernels.fusedMultiplyAdd ? 'sumsScaled' : false;
      compare('W −= lr·xᵀ·dY, both subnormal', [x, dyTiny], target, () => update(x, dyTiny), both);
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
      // Where the multiply-add fuses, dY alone goes up and the sums are rescaled (assembly/rescaled-sums.ts).
      const sumsScaled = kernels.fusedMultiplyAdd ? 'sumsScaled' : 'oneFactor';
      compare('W −= lr·xᵀ·dY, x as its nonzeros', [dy], target, update, sumsScaled);
      // Sums that stay among the subnormals, tie and cancel (x from 2^−12 to 1/4, so that it may
      // scale down too, and dY from 2^−153 to 2^−135); 10 columns (not a multiple of 4: one factor
      // up, the other down); a scaled sum that overflows (2^60·2^50).
      for (const n of [128, 10, 8]) {
        const xs = awkward(rng, 60 * 30, -12, -2).map((v, i) => (i % 3 === 0 ? v : 0));
        if (n === 8) xs[0] = 2 ** 60;
        const awkwardRows = kernels.sparseRows(60, 30);
        kernels.packRows(matrix(60, 30, xs), awkwardRows);
        const dys = awkward(rng, 60 * n, -153, -135);
        if (n === 8) dys[3] = 2 ** 50;
        const awkwardDy = matrix(60, n, dys);
        const start = awkward(rng, 30 * n, -153, -135); // small, so that the sums' last bits show
        const out = kernels.matrix(30, n);
        const add = () => {
          out.data.set(start);
          kernels.matmulTransposeAAddSparseRows(awkwardRows, awkwardDy, out, 0.5);
        };
        compare(`x as its nonzeros, awkward values, ${n} columns`, [awkwardDy], out, add, n % 4 === 0 ? sumsScaled : 'oneFactor');
        if (n === 8) assert.equal(out.data[3], start[3]! + 0.5 * 2 ** 110, 'the sum that overflows scaled up');
      }
      // A sum cancelled from above 2^−126 to below: pixel 0 is 1 and 1 + 2^−23 in examples 0 and 1,
      // whose dY are 2^−100 and −2^−100·(1 − 2^−23): 2^−146 left. Scaled up, 2^−100 is too coarse
      // to take the offset exactly: the kernel finds the cancelled step after the vectors and sums
      // them again. A subnormal dY elsewhere, so that dY is rescaled.
      const pixelsCancelling = new Float32Array(3 * 4);
      pixelsCancelling[0] = 1;
      pixelsCancelling[4] = 1 + 2 ** -23;
      pixelsCancelling[8 + 1] = 1;
      const rowsCancelling = kernels.sparseRows(3, 4);
      kernels.packRows(matrix(3, 4, pixelsCancelling), rowsCancelling);
      // Columns 0 and 16 of 20: one in the kernel's blocks of 16, one in its tail.
      const dyCancelling = matrix(
        3,
        20,
        new Float32Array(3 * 20).map((_, i) => [2 ** -100, -(2 ** -100) * (1 - 2 ** -23), 0][Math.floor(i / 20)]! * (i % 20 === 0 || i % 20 === 16 ? 1 : 0)),
      );
      dyCancelling.data[2 * 20 + 5] = 2 ** -140;
      const outCancelling = kernels.matrix(4, 20);
      compare(
        'x as its nonzeros, a sum cancelled from above 2^−126',
        [dyCancelling],
        outCancelling,
        () => {
          outCancelling.data.fill(0);
          kernels.matmulTransposeAAddSparseRows(rowsCancelling, dyCancelling, outCancelling, 1);
        },
        sumsScaled,
      );
      // (0 where the product is rounded before the add: −2^−100·(1 − 2^−46) rounds to −2^−100.)
      assert.equal(outCancelling.data[0], kernels.fusedMultiplyAdd ? 2 ** -146 : 0, 'pixel 0, column 0');
      assert.equal(outCancelling.data[16], kernels.fusedMultiplyAdd ? 2 ** -146 : 0, 'pixel 0, column 16');
    });

    test(`${variant}: dY·Wᵀ with a subnormal dY, its sums rescaled`, () => {
      const rng = new Rng(15);
      const sumsScaled = kernels.fusedMultiplyAdd ? 'sumsScaled' : 'oneFactor';
      // Sums that stay among the subnormals, tie and cancel (dY from 2^−153 to 2^−135, W from
      // 2^−12 to 1/4, so that it may scale down too), in shapes the rescaled tiles take (m even, n
      // from 16 and n and k multiples of 4) and one they do not (7 rows: one factor up, one down).
      for (const [m, n, k, expected] of [
        [60, 128, 128, sumsScaled],
        [6, 16, 8, sumsScaled],
        [7, 16, 8, 'oneFactor'],
      ] as const) {
        const dy = matrix(m, n, awkward(rng, m * n, -153, -135));
        const w = matrix(k, n, awkward(rng, k * n, -12, -2));
        const out = kernels.matrix(m, k);
        compare(`${m}×${n} · (${k}×${n})ᵀ`, [dy, w], out, () => kernels.matmulTransposeB(dy, w, out), expected);
      }
      // A lane's sum cancelled from above 2^−126 to below: 2^−100·1, then − 2^−100·(1 − 2^−23)·(1 + 2^−23),
      // leaves 2^−146. Scaled up, 2^−100 is too coarse to take the offset exactly: the kernel finds
      // the cancelled step after the tile and sums the tile again. A subnormal dY elsewhere, so
      // that dY is rescaled.
      const cancelling = new Float32Array(2 * 16);
      cancelling[0] = 2 ** -100;
      cancelling[4] = -(2 ** -100) * (1 - 2 ** -23);
      cancelling[16 + 9] = 2 ** -140;
      const dyCancelling = matrix(2, 16, cancelling);
      const wCancelling = matrix(
        4,
        16,
        new Float32Array(4 * 16).map((_, i) => (i % 16 === 4 ? 1 + 2 ** -23 : 1)),
      );
      const outCancelling = kernels.matrix(2, 4);
      compare(
        'a sum cancelled from above 2^−126',
        [dyCancelling, wCancelling],
        outCancelling,
        () => kernels.matmulTransposeB(dyCancelling, wCancelling, outCancelling),
        sumsScaled,
      );
      assert.equal(outCancelling.data[0], kernels.fusedMultiplyAdd ? 2 ** -146 : 0, 'row 0, column 0 (0 where the product is rounded first)');
      // Lanes 0 and 2 of row 0's sum, 2^−126·(1 + 2^−23) and −2^−126, fold to 2^−149 (the first
      // lane too large to round against 2^−126·2^24 exactly); and, in another shape, a sum whose
      // 2^24 times overflows (2^100·2^20), for which the product is done as it is.
      const dys = new Float32Array(2 * 16);
      dys[0] = 2 ** -126 * (1 + 2 ** -23);
      dys[2] = -(2 ** -126);
      dys[16 + 5] = 2 ** -140;
      const ws = new Float32Array(4 * 16);
      ws[0] = 1;
      ws[2] = 1;
      ws[16 + 5] = 1;
      const dy = matrix(2, 16, dys);
      const w = matrix(4, 16, ws);
      const out = kernels.matrix(2, 4);
      compare('lanes that fold to a subnormal', [dy, w], out, () => kernels.matmulTransposeB(dy, w, out), sumsScaled);
      assert.equal(out.data[0], 2 ** -149);
      assert.equal(out.data[4 + 1], 2 ** -140);
      dy.data[1] = 2 ** 100;
      ws[1] = 2 ** 20;
      const wHuge = matrix(4, 16, ws);
      compare('a sum that overflows scaled up', [dy, wHuge], out, () => kernels.matmulTransposeB(dy, wHuge, out), sumsScaled);
      assert.equal(out.data[0], 2 ** 120);
    });

    test(`${variant}: the multiply-add is fused exactly where relaxed SIMD runs on a CPU with FMA`, (t) => {
      const fma = cpuHasFma();
      if (variant === 'simd128') assert.equal(kernels.fusedMultiplyAdd, false, 'SIMD128 multiplies, then adds');
      else if (fma === null) t.skip('no /proc/cpuinfo to read the CPU flags from');
      else assert.equal(kernels.fusedMultiplyAdd, fma);
    });

    test(`${variant}: xᵀ·dY with subnormals in both factors, through every path of the rescaled product`, () => {
      const rng = new Rng(14);
      const both = kernels.fusedMultiplyAdd ? 'sumsScaled' : false;
      // Shapes: a hidden layer's; 130 rows and 10 columns (the last rows one at a time, the last columns by a masked tile); 5 columns.
      for (const [m, k, n] of [
        [60, 128, 128],
        [7, 130, 10],
        [33, 9, 5],
      ] as const) {
        const x = matrix(m, k, awkward(rng, m * k));
        const dy = matrix(m, n, awkward(rng, m * n));
        const target = kernels.matrix(k, n);
        const start = awkward(rng, k * n);
        const update = () => {
          target.data.set(start);
          kernels.matmulTransposeAAdd(x, dy, target, false, -0.75);
        };
        compare(`${m}×${k}ᵀ · ${m}×${n}`, [x, dy], target, update, both);
      }
      // Sums set up by hand (test/helpers/rescaled-sums.ts). With 8 columns every tile is whole;
      // with 6 the masked last tile adds +0 to columns 2 and 3.
      for (const [n, zeroColumn, expectedZero] of [
        [8, 6, -0],
        [6, 2, 0],
      ] as const) {
        const { xs, dys } = handSetSums(n, zeroColumn);
        const x = matrix(4, 9, xs);
        const dy = matrix(4, n, dys);
        const target = kernels.matrix(9, n);
        const update = () => {
          target.data.fill(0);
          target.data[4 * n + zeroColumn] = -0;
          kernels.matmulTransposeAAdd(x, dy, target, false, 1);
        };
        compare(`sums set up by hand, ${n} columns`, [x, dy], target, update, both);
        // Multiplied, then added (SIMD128), the product rounds to −2^−102·(1 + 2^−22 + 2^−23) and the sum to 0.
        assert.equal(target.data[0], kernels.fusedMultiplyAdd ? -(2 ** -147) : 0, 'the cancelled sum');
        assert.equal(target.data[8 * n], kernels.fusedMultiplyAdd ? -(2 ** -147) : 0, 'the cancelled sum in the row summed alone');
        assert.equal(target.data[3 * n + 5], 2 ** 90, 'the sum that overflows scaled up');
        // Multiplied, then added, the product rounds to −0 first, and +0 + −0 is +0.
        const zero = kernels.fusedMultiplyAdd ? expectedZero : 0;
        assert.ok(Object.is(target.data[4 * n + zeroColumn], zero), `the zero: ${Object.is(zero, -0) ? '−0' : '+0'}`);
      }
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
        weights.push(net.dense.map((layer) => Array.from(float32Bits(layer.weights.data))));
        if (rescale) assert.ok(backend.subnormalRescales.oneFactor > 100, `products were rescaled: ${backend.subnormalRescales.oneFactor}`);
        if (rescale && backend.fusedMultiplyAdd) assert.ok(backend.subnormalRescales.sumsScaled > 100, `both factors: ${backend.subnormalRescales.sumsScaled}`);
      }
      assert.deepStrictEqual(results[1], results[0]);
      assert.deepStrictEqual(weights[1], weights[0]);
    });
  }
});
