/**
 * @file Softmax cross-entropy, operation for operation as the reference in
 * src/core/softmax-cross-entropy.ts computes it: float64 arithmetic on the float32 logits, the
 * row maximum subtracted before exp, the same exp (exact-exp.ts is Math.exp to the bit), each
 * exponential stored in dLogits as float32 and then turned into (p − onehot)/m there. So the
 * gradient is the reference's to the bit. The logarithm stays with the host: each row's sum of
 * exponentials and shifted label logit go out, and the host adds log(sum) − shift in row order,
 * as the reference does.
 */
import { exactExp, exactExp2 } from './exact-exp';

/**
 * logits[m,classes] (f32), labels[m] (i32, already checked to be class indices); dLogits
 * [m,classes] (f32) or 0 for the loss alone; rowTerms[m,2] (f64) receives, per row, Σexp(z − max)
 * and z_label − max.
 */
export function softmaxCrossEntropy(logits: usize, labels: usize, m: i32, classes: i32, dLogits: usize, rowTerms: usize): void {
  const rowBytes = <usize>classes << 2, rows = <f64>m;
  for (let i = 0; i < m; i++) {
    const z = logits + <usize>i * rowBytes;
    let max = -Infinity;
    for (let c: usize = 0; c < rowBytes; c += 4) {
      const v = <f64>load<f32>(z + c);
      if (v > max) max = v; // NaN never wins, as in the reference
    }
    const shift = f64x2.splat(max);
    let sumExp: f64 = 0;
    let c: usize = 0;
    if (dLogits) {
      const d = dLogits + <usize>i * rowBytes;
      // Two exponentials at a time (float64 lanes); each stored as float32, the unrounded value
      // added to the sum in column order, as `sumExp += D[c] = Math.exp(…)` adds.
      for (; c + 8 <= rowBytes; c += 8) {
        const e = exactExp2(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(z + c)), shift));
        v128.store64_lane(d + c, f32x4.demote_f64x2_zero(e), 0);
        sumExp += f64x2.extract_lane(e, 0);
        sumExp += f64x2.extract_lane(e, 1);
      }
      for (; c < rowBytes; c += 4) {
        const e = exactExp(<f64>load<f32>(z + c) - max);
        store<f32>(d + c, <f32>e);
        sumExp += e;
      }
      // (p − onehot)/m, p = the stored exponential / the sum: each lane as the reference's scalar.
      const label = load<i32>(labels + (<usize>i << 2));
      const labelByte = <usize>label << 2;
      const sums = f64x2.splat(sumExp), rowsVector = f64x2.splat(rows);
      for (c = 0; c + 8 <= rowBytes; c += 8) {
        const onehot = f64x2(c == labelByte ? 1.0 : 0.0, c + 4 == labelByte ? 1.0 : 0.0);
        const p = f64x2.div(f64x2.promote_low_f32x4(v128.load64_zero(d + c)), sums);
        v128.store64_lane(d + c, f32x4.demote_f64x2_zero(f64x2.div(f64x2.sub(p, onehot), rowsVector)), 0);
      }
      for (; c < rowBytes; c += 4) {
        store<f32>(d + c, <f32>((<f64>load<f32>(d + c) / sumExp - (c == labelByte ? 1.0 : 0.0)) / rows));
      }
    } else {
      for (; c + 8 <= rowBytes; c += 8) {
        const e = exactExp2(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(z + c)), shift));
        sumExp += f64x2.extract_lane(e, 0);
        sumExp += f64x2.extract_lane(e, 1);
      }
      for (; c < rowBytes; c += 4) sumExp += exactExp(<f64>load<f32>(z + c) - max);
    }
    const terms = rowTerms + (<usize>i << 4);
    store<f64>(terms, sumExp);
    store<f64>(terms, <f64>load<f32>(z + (<usize>load<i32>(labels + (<usize>i << 2)) << 2)) - max, 8);
  }
}
