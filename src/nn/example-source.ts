/**
 * @file Where `MLP.evaluate` pulls its examples from, without knowing how they are stored: the
 * source writes rows as floats into the network's input matrix, or as their nonzeros. nn/ never
 * imports data/; an MNIST split becomes a source through data/'s `splitExamples`, and float rows
 * through `floatExamples`.
 */
import type { Kernels, SparseRows } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';
import type { Labels } from './softmax-cross-entropy.js';

export interface ExampleSource {
  /** Examples in the source. */
  readonly count: number;
  /** [count] class indices. */
  readonly labels: Labels;
  /**
   * Writes examples [start, start + rows) into `into` [rows, inputs], a matrix of `kernels`' memory;
   * a source of bytes converts them with `kernels.bytesToFloats`, in the backend, in one call.
   */
  copyRows(start: number, rows: number, into: Matrix, kernels: Kernels): void;
  /**
   * Where the source can: writes the same examples as their nonzeros into `into` (room for at least
   * `rows`), as `kernels.gatherSparseRows` packs a training batch, for a network whose first layer
   * skips zero inputs (`MLP.sparseInput`): it then multiplies them without finding them again.
   */
  packRows?(start: number, rows: number, into: SparseRows, kernels: Kernels): void;
}

/** Examples stored as float rows: `inputs` [count, width] row-major, `labels` [count]. */
export function floatExamples(inputs: Float32Array | Float64Array, labels: Labels, width: number): ExampleSource {
  const count = labels.length;
  if (inputs.length !== count * width) {
    throw new RangeError(`${count} examples of ${width} inputs need ${count * width} values, got ${inputs.length}`);
  }
  return {
    count,
    labels,
    copyRows(start: number, rows: number, into: Matrix): void {
      into.data.set(inputs.subarray(start * width, (start + rows) * width));
    },
  };
}
