/**
 * @file Reading logits: the loss (softmax cross-entropy, defined in core/ beside the kernels that
 * compute it) and the predicted class.
 */
import type { Matrix } from '../core/matrix.js';
import type { Labels } from '../core/softmax-cross-entropy.js';

export { type Labels, softmaxCrossEntropy } from '../core/softmax-cross-entropy.js';

/** How many rows' largest logit is at their label (the first maximum wins ties). */
export function countCorrect(logits: Matrix, labels: Labels): number {
  let correct = 0;
  for (let i = 0; i < logits.rows; i++) if (argmaxRow(logits, i) === labels[i]) correct++;
  return correct;
}

export function argmaxRow(matrix: Matrix, row: number): number {
  const n = matrix.cols,
    data = matrix.data;
  let best = 0;
  for (let c = 1; c < n; c++) if (data[row * n + c]! > data[row * n + best]!) best = c;
  return best;
}
