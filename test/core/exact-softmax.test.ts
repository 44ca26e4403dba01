/**
 * @file The wasm backend's softmax cross-entropy gives the reference's numbers to the bit, so the
 * backend choice does not move a loss or a gradient: first its exp (assembly/exact-exp.ts, fdlibm's
 * algorithm) against JavaScript's Math.exp over millions of arguments, in both SIMD lanes and the
 * scalar path, at every branch boundary of the algorithm and on random bit patterns; then the whole
 * kernel against src/core/softmax-cross-entropy.ts on random logits of several scales and widths
 * (odd widths use the scalar tail), extreme and non-finite logits, and the label checks.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { softmaxCrossEntropy } from '../../src/core/softmax-cross-entropy.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { backendsUnderTest } from '../helpers/backends.js';

const wasmBackends = (await backendsUnderTest()).filter((kernels): kernels is WasmKernels => kernels instanceof WasmKernels);

/** The branch points of fdlibm's exp (|x| = ln2/2, 1.5·ln2, 2^−28, the 704 and 709.78 limits of scaling, underflow) and special values. */
const EDGES = [
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  Infinity,
  -Infinity,
  Number.NaN,
  Number.MIN_VALUE,
  1e-300,
  2 ** -28,
  2 ** -28 * (1 - 2 ** -52),
  0.34657359027997264,
  0.3465735902799726,
  0.3465735902799727,
  0.34657359,
  0.3465736,
  1.0397207708399179,
  1.03972053527832,
  1.0397205352783203,
  1.0397207,
  703.99999,
  704,
  704.00001,
  708.3,
  708.4,
  709.436,
  709.7,
  709.78,
  709.782712893384,
  709.79,
  745.1,
  745.13321910194122,
  745.2,
  1022 * Math.LN2,
  1021.5 * Math.LN2,
  1e10,
];

function argumentsToCheck(): Float64Array {
  const rng = new Rng(2024);
  const values: number[] = [];
  for (const edge of EDGES) {
    for (const x of [edge, -edge]) {
      values.push(x, x * (1 + 2 ** -52), x * (1 - 2 ** -53), x + 2 ** -40, x - 2 ** -40);
    }
  }
  for (let i = 0; i < 400_000; i++) values.push(-rng.uniform() * 40); // softmax arguments: z − max ≤ 0
  for (let i = 0; i < 200_000; i++) values.push((rng.uniform() - 0.5) * 1500); // every scaling path
  for (let i = 0; i < 200_000; i++) values.push((rng.uniform() - 0.5) * 4); // around the reduction's switch points
  for (let i = 0; i < 200_000; i++) values.push(Math.fround((rng.uniform() - 0.5) * 40) - Math.fround(rng.uniform() * 20)); // float32 differences
  const bits = new Uint32Array(2),
    asDouble = new Float64Array(bits.buffer);
  for (let i = 0; i < 200_000; i++) {
    bits[0] = Math.floor(rng.uniform() * 2 ** 32);
    bits[1] = Math.floor(rng.uniform() * 2 ** 32);
    values.push(asDouble[0]!); // any double, NaN payloads and subnormals included
  }
  return Float64Array.from(values);
}

for (const kernels of wasmBackends) {
  describe(`exact softmax on ${kernels.variant}`, () => {
    test('its exp is Math.exp to the bit, in both SIMD lanes and the scalar path', () => {
      const xs = argumentsToCheck();
      let checked = 0;
      for (const start of [0, 1]) {
        // shifting by one puts every argument in the other lane once
        const subset = xs.subarray(start);
        const got = kernels.exactExp(subset);
        for (let i = 0; i < subset.length; i++) {
          const expected = Math.exp(subset[i]!);
          if (!Object.is(got[i], expected)) assert.fail(`exp(${subset[i]}) = ${got[i]}, Math.exp gives ${expected}`);
        }
        checked += subset.length;
      }
      assert.ok(checked > 2_000_000);
    });

    test('loss and gradient equal the reference to the bit', () => {
      const rng = new Rng(77);
      for (const [rows, classes, scale] of [
        [60, 10, 3],
        [60, 10, 30],
        [1000, 10, 5],
        [7, 3, 1],
        [5, 1, 1],
        [9, 17, 8],
        [4, 2, 1e4],
      ] as const) {
        const values = new Float32Array(rows * classes);
        rng.fillNormal(values, scale);
        const labels = Array.from({ length: rows }, () => rng.int(classes));
        const logits = kernels.matrix(rows, classes);
        logits.data.set(values);
        const dLogits = kernels.matrix(rows, classes);
        const referenceLogits = new Matrix(rows, classes, values.slice());
        const referenceGrad = new Matrix(rows, classes, new Float32Array(rows * classes));
        const what = `${rows}x${classes}, logits ~ N(0, ${scale}²)`;
        assert.ok(
          Object.is(kernels.softmaxCrossEntropy(logits, labels, dLogits), softmaxCrossEntropy(referenceLogits, labels, referenceGrad)),
          `${what}: loss`,
        );
        assert.deepEqual(Array.from(dLogits.data), Array.from(referenceGrad.data), `${what}: gradient`);
        assert.ok(Object.is(kernels.softmaxCrossEntropy(logits, labels, null), softmaxCrossEntropy(referenceLogits, labels, null)), `${what}: loss alone`);
      }
    });

    test('non-finite logits give what the reference gives (NaN, ±∞)', () => {
      for (const row of [
        [Number.NaN, 1, 2],
        [Infinity, 1, 2],
        [-Infinity, 1, 2],
        [-Infinity, -Infinity, -Infinity],
        [0, -0, 0],
      ]) {
        for (const label of [0, 1]) {
          const logits = kernels.matrix(1, 3),
            dLogits = kernels.matrix(1, 3);
          logits.data.set(row);
          const referenceGrad = new Matrix(1, 3, new Float32Array(3));
          const expected = softmaxCrossEntropy(new Matrix(1, 3, Float32Array.from(row)), [label], referenceGrad);
          assert.ok(Object.is(kernels.softmaxCrossEntropy(logits, [label], dLogits), expected), `[${row}] label ${label}`);
          assert.deepEqual(Array.from(dLogits.data), Array.from(referenceGrad.data), `[${row}] label ${label}: gradient`);
        }
      }
    });

    test("bad labels are refused with the reference's messages", () => {
      const logits = kernels.matrix(2, 3);
      assert.throws(() => kernels.softmaxCrossEntropy(logits, [0, 3], null), /label 3 of row 1 is outside 0\.\.2/);
      assert.throws(() => kernels.softmaxCrossEntropy(logits, [0, 1.5], null), /label 1\.5 of row 1/);
      assert.throws(() => kernels.softmaxCrossEntropy(logits, [0], null), /2 rows of logits but 1 labels/);
      assert.throws(() => kernels.softmaxCrossEntropy(logits, [0, 1], kernels.matrix(2, 2)), /incompatible shapes/);
    });
  });
}
