/**
 * @file Softmax cross-entropy on logits, averaged over the batch (TensorFlow's
 * softmax_cross_entropy_with_logits followed by reduce_mean). Stable for logits of any finite
 * size: loss_i = logΣexp(z_i − max_i) − (z_iy − max_i), so exp never overflows, and the
 * gradient (softmax − onehot)/m lies in [−1/m, 1/m].
 */
import type { Matrix } from '../core/matrix.js';

export type Labels = ArrayLike<number>;

/**
 * @param logits [m, classes]
 * @param labels m class indices
 * @param dLogits [m, classes] receives ∂(mean loss)/∂logits, or null for loss only
 * @returns the mean loss over the m rows (NaN if a logit is NaN, +Infinity if one is infinite)
 */
export function softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number {
  const m = logits.rows, classes = logits.cols;
  if (labels.length !== m) throw new RangeError(`softmaxCrossEntropy: ${m} rows of logits but ${labels.length} labels`);
  const Z = logits.data;
  const D = dLogits?.data;
  let total = 0;
  for (let i = 0; i < m; i++) {
    const row = i * classes;
    const label = labels[i]!;
    if (!(label >= 0 && label < classes)) throw new RangeError(`label ${label} of row ${i} is outside 0..${classes - 1}`);
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

/** How many rows' largest logit is at their label (the first maximum wins ties). */
export function countCorrect(logits: Matrix, labels: Labels): number {
  let correct = 0;
  for (let i = 0; i < logits.rows; i++) if (argmaxRow(logits, i) === labels[i]) correct++;
  return correct;
}

export function argmaxRow(matrix: Matrix, row: number): number {
  const n = matrix.cols, data = matrix.data;
  let best = 0;
  for (let c = 1; c < n; c++) if (data[row * n + c]! > data[row * n + best]!) best = c;
  return best;
}
