/**
 * @file Group Norm's kernels normalize narrow groups four at a time (their sums folded together,
 * their statistics in one vector) where the group size is a multiple of 4, and the groups left
 * over one at a time. A group's numbers cannot depend on where it sits in the row, so a row whose
 * fifth group repeats one of its first four (the same x, dy, γ and β) must give both the same
 * bits: x̂, y, 1/σ, dx, and the dγ and dβ accumulated into their columns, in every lane of the
 * four (each of the first four groups in turn), centered or not, with and without γ/β, on random
 * values and on −0, subnormals, ±∞, huge values and NaN (NaN's sign and payload, which
 * WebAssembly leaves open, aside: NaN matches NaN). A fold in another order, or the statistics
 * rounded differently from the one-group path, changes bits on random data.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kernels } from '../../src/core/kernels.js';
import type { FloatArray, Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { backendsUnderTest } from '../helpers/backends.js';
import { float32Bits } from '../helpers/float-bits.js';

const GROUPS = 5; // four at once, then one alone
const ROWS = 7;
const SPECIALS = [0, -0, 1e-40, -3e-42, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, Number.NaN];

function values(rng: Rng, length: number, special: boolean): Float32Array {
  return new Float32Array(length).map(() => (special && rng.uniform() < 0.15 ? SPECIALS[rng.int(SPECIALS.length)]! : rng.normal() * 2 + 0.5));
}

/** Each row's group `source` copied over its group `target` (s units each). */
function repeatGroup(data: FloatArray, rows: number, n: number, s: number, source: number, target: number): void {
  for (let i = 0; i < rows; i++) data.copyWithin(i * n + target * s, i * n + source * s, i * n + (source + 1) * s);
}

/** The columns [from, from + width) of every row, as bits with every NaN the same. */
function columnBits(matrix: Matrix, from: number, width: number): number[] {
  const bits = float32Bits(matrix.data);
  const out: number[] = [];
  for (let i = 0; i < matrix.rows; i++) {
    for (let j = from; j < from + width; j++) out.push(Number.isNaN(matrix.data[i * matrix.cols + j]!) ? -1 : bits[i * matrix.cols + j]!);
  }
  return out;
}

function check(kernels: Kernels, s: number, lane: number, centered: boolean, affine: 'none' | 'gamma' | 'gamma and beta', special: boolean): void {
  const n = GROUPS * s,
    last = GROUPS - 1;
  const rng = new Rng(1000 * s + 10 * lane + (special ? 1 : 0));
  const filled = (rows: number, cols: number) => {
    const matrix = kernels.matrix(rows, cols);
    matrix.data.set(values(rng, rows * cols, special));
    repeatGroup(matrix.data, rows, n, s, lane, last);
    return matrix;
  };
  const x = filled(ROWS, n),
    dy = filled(ROWS, n);
  const gamma = affine === 'none' ? null : filled(1, n),
    beta = affine === 'gamma and beta' ? filled(1, n) : null;
  const dGamma = gamma ? filled(1, n) : null,
    dBeta = beta ? filled(1, n) : null;
  const invStd = kernels.matrix(ROWS, GROUPS),
    xhat = kernels.matrix(ROWS, n),
    y = kernels.matrix(ROWS, n),
    dx = kernels.matrix(ROWS, n);
  kernels.groupNormForward(x, GROUPS, centered, 1e-3, gamma, beta, invStd, xhat, y);
  kernels.groupNormBackward(dy, xhat, invStd, GROUPS, centered, gamma, dx, dGamma, dBeta);
  const outputs: Array<[string, Matrix | null, number]> = [
    ['1/σ', invStd, 1],
    ['x̂', xhat, s],
    ['y', y, s],
    ['dx', dx, s],
    ['dγ', dGamma, s],
    ['dβ', dBeta, s],
  ];
  for (const [name, matrix, width] of outputs) {
    if (!matrix) continue;
    assert.deepEqual(
      columnBits(matrix, last * width, width),
      columnBits(matrix, lane * width, width),
      `${name}: group ${last} (alone) differs from group ${lane} (lane ${lane} of the four), s = ${s}, ${centered ? 'centered' : 'not centered'}, ${affine}${special ? ', special values' : ''}`,
    );
  }
  if (!special) {
    const finite = Array.from(y.data).every(Number.isFinite);
    assert.ok(finite, 'random values give finite outputs (the comparison is not of NaNs)');
  }
}

describe('Group Norm: four groups at once give each group the bits it gets alone', async () => {
  for (const kernels of await backendsUnderTest()) {
    test(`${kernels.name}: ${kernels.variant}`, () => {
      for (const s of [4, 8, 12]) {
        for (let lane = 0; lane < 4; lane++) {
          for (const centered of [true, false]) {
            for (const affine of ['none', 'gamma', 'gamma and beta'] as const) {
              for (const special of [false, true]) check(kernels, s, lane, centered, affine, special);
            }
          }
        }
      }
    });
  }
});
