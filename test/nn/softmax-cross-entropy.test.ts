/**
 * @file Softmax cross-entropy: the gradient against central differences (float64), the value
 * against its definition, and stability at logits of ±1e4, where exp overflows unless the row
 * maximum is subtracted first.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { countCorrect, softmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { assertGradientsMatch, normalArray, numericGradient } from '../helpers/gradient-check.js';

describe('softmax cross-entropy', () => {
  test('the gradient matches central differences (float64)', () => {
    const rng = new Rng(51);
    const rows = 5,
      classes = 4;
    const logits = new Matrix(rows, classes, normalArray(rng, rows * classes, 2)); // [m, c]
    const labels = Array.from({ length: rows }, () => rng.int(classes));
    const dLogits = new Matrix(rows, classes, new Float64Array(rows * classes));
    softmaxCrossEntropy(logits, labels, dLogits);
    const numeric = numericGradient(logits.data, () => softmaxCrossEntropy(logits, labels, null), 1e-6);
    assertGradientsMatch('dLogits', dLogits.data, numeric);
  });

  test('the value is the batch mean of −log softmax(z)[label]', () => {
    const logits = new Matrix(2, 3, new Float64Array([1, 2, 3, 0, 0, Math.log(2)]));
    const expected = (-Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) - Math.log(1 / 4)) / 2;
    assert.ok(Math.abs(softmaxCrossEntropy(logits, [2, 0], null) - expected) < 1e-15);
  });

  test('logits of ±1e4 give a finite, exact loss and gradient', () => {
    for (const [label, expectedLoss, expectedGradient] of [
      [0, 0, [0, 0]], // softmax = [1, e^−2e4 = 0]: loss −log 1 = 0
      [1, 2e4, [1, -1]], // loss = logΣexp(z − max) − (z₁ − max) = 0 − (−2e4)
    ] as const) {
      const logits = Matrix.from(1, 2, [1e4, -1e4]);
      const dLogits = Matrix.from(1, 2, [NaN, NaN]);
      const loss = softmaxCrossEntropy(logits, [label], dLogits);
      assert.equal(loss, expectedLoss, `label ${label}: loss`);
      assert.deepEqual(Array.from(dLogits.data), expectedGradient, `label ${label}: gradient`);
    }
    // The same over a batch of two: the mean loss and the gradient divided by m.
    const logits = Matrix.from(2, 2, [1e4, -1e4, 1e4, -1e4]);
    const dLogits = Matrix.from(2, 2, [0, 0, 0, 0]);
    assert.equal(softmaxCrossEntropy(logits, [0, 1], dLogits), 1e4);
    assert.deepEqual(Array.from(dLogits.data), [0, 0, 0.5, -0.5]);
  });

  test('a label outside the classes or a label count that differs from the rows is an error', () => {
    const logits = Matrix.from(1, 2, [0, 0]);
    assert.throws(() => softmaxCrossEntropy(logits, [2], null), /label 2/);
    assert.throws(() => softmaxCrossEntropy(logits, [0, 1], null), /labels/);
  });

  test('countCorrect counts rows whose first maximum is at the label', () => {
    const logits = Matrix.from(3, 3, [0, 5, 1, 2, 2, 0, -1, -2, -3]);
    assert.equal(countCorrect(logits, [1, 0, 0]), 3);
    assert.equal(countCorrect(logits, [1, 1, 2]), 1);
  });
});
