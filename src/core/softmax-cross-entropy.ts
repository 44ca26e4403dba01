/**
 * @file Softmax cross-entropy on logits, averaged over the batch (TensorFlow's
 * softmax_cross_entropy_with_logits followed by reduce_mean): the reference definition, which
 * the kernels' `softmaxCrossEntropy` computes (the wasm backend operation for operation, with the
 * same exp, so to the bit). Stable for logits of any finite size:
 * loss_i = logΣexp(z_i − max_i) − (z_iy − max_i), so exp never overflows, and the gradient
 * (softmax − onehot)/m lies in [−1/m, 1/m].
 */
import type { Matrix } from './matrix.js';

export type Labels = ArrayLike<number>;

/**
 * @param logits [m, classes]
 * @param labels m class indices
 * @param dLogits [m, classes] receives ∂(mean loss)/∂logits, or null for loss only
 * @returns the mean loss over the m rows (NaN if a logit is NaN, +Infinity if one is infinite)
 */
export function softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number {
  const m = logits.rows,
    classes = logits.cols;
  checkLabelCount(labels, m);
  const Z = logits.data;
  const D = dLogits?.data;
  let total = 0;
  for (let i = 0; i < m; i++) {
    const row = i * classes;
    const label = labels[i]!;
    checkLabel(label, i, classes);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (Z[row + c]! > max) max = Z[row + c]!;
    let sumExp = 0;
    if (D) {
      // Each exponential once: kept in dLogits, then scaled into probabilities.
      for (let c = 0; c < classes; c++) sumExp += D[row + c] = Math.exp(Z[row + c]! - max);
      for (let c = 0; c < classes; c++) D[row + c] = (D[row + c]! / sumExp - (c === label ? 1 : 0)) / m;
    } else {
      for (let c = 0; c < classes; c++) sumExp += Math.exp(Z[row + c]! - max);
    }
    total += Math.log(sumExp) - (Z[row + label]! - max);
  }
  return total / m;
}

export function checkLabelCount(labels: Labels, rows: number): void {
  if (labels.length !== rows) throw new RangeError(`softmaxCrossEntropy: ${rows} rows of logits but ${labels.length} labels`);
}

/** A label must be a class index: an integer in 0..classes−1. */
export function checkLabel(label: number, row: number, classes: number): void {
  if (!(label >= 0 && label < classes && Number.isInteger(label))) throw new RangeError(`label ${label} of row ${row} is outside 0..${classes - 1}`);
}
