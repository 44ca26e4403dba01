/**
 * @file A network's ten class probabilities for one example of a batch: softmax of its logits in
 * inference mode (in float64, shifted by the largest logit so that no exp overflows).
 */
import type { Split } from '../../data/mnist.js';
import { splitExamples } from '../../data/mnist.js';
import type { MLP } from '../../nn/mlp.js';
import type { InferenceStatistics } from '../../nn/spec.js';

/** softmax(logits of row `row`) after an inference-mode forward of every example of `batch`, with `statistics` for this call. */
export function classProbabilities(net: MLP, batch: Split, row: number, statistics?: InferenceStatistics): number[] {
  const x = net.inputFor(batch.count); // [count, 784]
  splitExamples(batch).copyRows(0, batch.count, x, net.kernels);
  const logits = net.forward(x, 'infer', statistics); // [count, classes]
  const rowLogits = Array.from(logits.data.subarray(row * logits.cols, (row + 1) * logits.cols));
  const largest = Math.max(...rowLogits);
  const exps = rowLogits.map((z) => Math.exp(z - largest));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
