/**
 * @file BatchNorm over the columns of x[m,n], in column blocks of 16 features (then 4, then one
 * at a time; 16 columns are 4 independent sums per row, which hides the add latency 8 did not): each block's statistics, then its element-wise pass, while the block is in L1 and
 * its per-column factors are in registers. Training forward: mean and biased variance by the
 * corrected two-pass method in f32 (Chan, Golub and LeVeque: mean μ = Σx/m, then with d = x − μ,
 * mean = μ + Σd/m and variance = Σd²/m − (Σd/m)², which removes the rounding error of the first
 * mean), invStd = 1/√(variance + eps), xhat = (x − mean)·invStd, y = gamma·xhat + beta.
 * Backward: Σdy and Σdy·xhat per column, then dx through mean and variance. The last columns
 * that do not fill a vector go through f64 scalar code, as in the reference. A gamma or beta
 * address of 0 means "none" (1 and 0). Outputs may alias inputs: each element is read before it
 * is written.
 */
import { madd } from './simd';

// @ts-ignore: decorator
@inline function loadOr(address: usize, offset: usize, fallback: v128): v128 {
  return address ? v128.load(address + offset) : fallback;
}

/**
 * One vector of columns' statistics from μ (the first mean), Σd and Σd² (d = x − μ): the corrected
 * mean, the variance and invStd, stored at mean, variance and invStd; returns invStd.
 */
// @ts-ignore: decorator
@inline function statistics(mu: v128, d: v128, q: v128, rows: v128, epsilon: v128, mean: usize, variance: usize, invStd: usize): v128 {
  const zero = f32x4.splat(0);
  const c = f32x4.div(d, rows);
  const sigma2 = f32x4.max(f32x4.sub(f32x4.div(q, rows), f32x4.mul(c, c)), zero);
  const inv = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(sigma2, epsilon)));
  v128.store(mean, f32x4.add(mu, c));
  v128.store(variance, sigma2);
  v128.store(invStd, inv);
  return inv;
}

/** xhat = (x − mean)·invStd, y = gamma·xhat + beta, for one vector. */
// @ts-ignore: decorator
@inline function normalize(x: usize, mean: v128, inv: v128, gamma: v128, beta: v128, xhat: usize, y: usize): void {
  const h = f32x4.mul(f32x4.sub(v128.load(x), mean), inv);
  v128.store(xhat, h);
  v128.store(y, f32x4.add(f32x4.mul(gamma, h), beta));
}

export function batchNormForwardTrain(
  x: usize, m: i32, n: i32, eps: f64, gamma: usize, beta: usize,
  mean: usize, variance: usize, invStd: usize, xhat: usize, y: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f32x4.splat(<f32>m), one = f32x4.splat(1), zero = f32x4.splat(0), epsilon = f32x4.splat(<f32>eps);
  let j: usize = 0;
  for (; j + 64 <= rowBytes; j += 64) {
    let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      s0 = f32x4.add(s0, v128.load(at)); s1 = f32x4.add(s1, v128.load(at, 16)); s2 = f32x4.add(s2, v128.load(at, 32)); s3 = f32x4.add(s3, v128.load(at, 48));
    }
    let mu0 = f32x4.div(s0, rows), mu1 = f32x4.div(s1, rows), mu2 = f32x4.div(s2, rows), mu3 = f32x4.div(s3, rows);
    let d0 = zero, d1 = zero, d2 = zero, d3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      const e0 = f32x4.sub(v128.load(at), mu0), e1 = f32x4.sub(v128.load(at, 16), mu1), e2 = f32x4.sub(v128.load(at, 32), mu2), e3 = f32x4.sub(v128.load(at, 48), mu3);
      d0 = f32x4.add(d0, e0); d1 = f32x4.add(d1, e1); d2 = f32x4.add(d2, e2); d3 = f32x4.add(d3, e3);
      q0 = madd(e0, e0, q0); q1 = madd(e1, e1, q1); q2 = madd(e2, e2, q2); q3 = madd(e3, e3, q3);
    }
    const inv0 = statistics(mu0, d0, q0, rows, epsilon, mean + j, variance + j, invStd + j);
    const inv1 = statistics(mu1, d1, q1, rows, epsilon, mean + j + 16, variance + j + 16, invStd + j + 16);
    const inv2 = statistics(mu2, d2, q2, rows, epsilon, mean + j + 32, variance + j + 32, invStd + j + 32);
    const inv3 = statistics(mu3, d3, q3, rows, epsilon, mean + j + 48, variance + j + 48, invStd + j + 48);
    mu0 = v128.load(mean + j); mu1 = v128.load(mean + j, 16); mu2 = v128.load(mean + j, 32); mu3 = v128.load(mean + j, 48);
    const g0 = loadOr(gamma, j, one), g1 = loadOr(gamma, j + 16, one), g2 = loadOr(gamma, j + 32, one), g3 = loadOr(gamma, j + 48, one);
    const b0 = loadOr(beta, j, zero), b1 = loadOr(beta, j + 16, zero), b2 = loadOr(beta, j + 32, zero), b3 = loadOr(beta, j + 48, zero);
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      normalize(x + offset, mu0, inv0, g0, b0, xhat + offset, y + offset);
      normalize(x + offset + 16, mu1, inv1, g1, b1, xhat + offset + 16, y + offset + 16);
      normalize(x + offset + 32, mu2, inv2, g2, b2, xhat + offset + 32, y + offset + 32);
      normalize(x + offset + 48, mu3, inv3, g3, b3, xhat + offset + 48, y + offset + 48);
    }
  }
  for (; j + 16 <= rowBytes; j += 16) {
    let s0 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) s0 = f32x4.add(s0, v128.load(at));
    const mu0 = f32x4.div(s0, rows);
    let d0 = zero, q0 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      const e0 = f32x4.sub(v128.load(at), mu0);
      d0 = f32x4.add(d0, e0); q0 = madd(e0, e0, q0);
    }
    const inv0 = statistics(mu0, d0, q0, rows, epsilon, mean + j, variance + j, invStd + j);
    const mean0 = v128.load(mean + j), g0 = loadOr(gamma, j, one), b0 = loadOr(beta, j, zero);
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) normalize(x + offset, mean0, inv0, g0, b0, xhat + offset, y + offset);
  }
  for (; j < rowBytes; j += 4) {
    let sum: f64 = 0;
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) sum += <f64>load<f32>(at);
    const mu = sum / m;
    let squares: f64 = 0;
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) {
      const d = <f64>load<f32>(at) - mu;
      squares += d * d;
    }
    const sigma2 = squares / m;
    const inv = 1 / Math.sqrt(sigma2 + eps);
    store<f32>(mean + j, <f32>mu);
    store<f32>(variance + j, <f32>sigma2);
    store<f32>(invStd + j, <f32>inv);
    const g: f64 = gamma ? <f64>load<f32>(gamma + j) : 1;
    const b: f64 = beta ? <f64>load<f32>(beta + j) : 0;
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      const h = (<f64>load<f32>(x + offset) - mu) * inv;
      store<f32>(xhat + offset, <f32>h);
      store<f32>(y + offset, <f32>(g * h + b));
    }
  }
}

/** One vector of columns: dGamma += Σdy·xhat and dBeta += Σdy (where given); returns s = gamma·invStd/m. */
// @ts-ignore: decorator
@inline function backwardFactors(sumDy: v128, sumDyXhat: v128, rows: v128, gamma: usize, invStd: usize, dGamma: usize, dBeta: usize, j: usize): v128 {
  if (dGamma) v128.store(dGamma + j, f32x4.add(v128.load(dGamma + j), sumDyXhat));
  if (dBeta) v128.store(dBeta + j, f32x4.add(v128.load(dBeta + j), sumDy));
  return f32x4.div(f32x4.mul(loadOr(gamma, j, f32x4.splat(1)), v128.load(invStd + j)), rows);
}

/**
 * With g = dy·gamma: dx = invStd/m · (m·g − Σg − xhat·Σ(g·xhat)); gamma factors out of the
 * bracket, so dx = s·(m·dy − Σdy − xhat·Σdy·xhat) with s = gamma·invStd/m, computed per element
 * as (s·m)·dy + (−s·Σdy) + (−s·Σdy·xhat)·xhat. dGamma += Σdy·xhat; dBeta += Σdy.
 */
export function batchNormBackward(
  dy: usize, xhat: usize, invStd: usize, gamma: usize, m: i32, n: i32,
  dx: usize, dGamma: usize, dBeta: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f32x4.splat(<f32>m), zero = f32x4.splat(0);
  let j: usize = 0;
  for (; j + 64 <= rowBytes; j += 64) {
    let sd0 = zero, sd1 = zero, sd2 = zero, sd3 = zero, sh0 = zero, sh1 = zero, sh2 = zero, sh3 = zero;
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const g0 = v128.load(dy + offset), g1 = v128.load(dy + offset, 16), g2 = v128.load(dy + offset, 32), g3 = v128.load(dy + offset, 48);
      sd0 = f32x4.add(sd0, g0); sd1 = f32x4.add(sd1, g1); sd2 = f32x4.add(sd2, g2); sd3 = f32x4.add(sd3, g3);
      sh0 = madd(g0, v128.load(xhat + offset), sh0); sh1 = madd(g1, v128.load(xhat + offset, 16), sh1);
      sh2 = madd(g2, v128.load(xhat + offset, 32), sh2); sh3 = madd(g3, v128.load(xhat + offset, 48), sh3);
    }
    const s0 = backwardFactors(sd0, sh0, rows, gamma, invStd, dGamma, dBeta, j), s1 = backwardFactors(sd1, sh1, rows, gamma, invStd, dGamma, dBeta, j + 16);
    const s2 = backwardFactors(sd2, sh2, rows, gamma, invStd, dGamma, dBeta, j + 32), s3 = backwardFactors(sd3, sh3, rows, gamma, invStd, dGamma, dBeta, j + 48);
    const a0 = f32x4.mul(s0, rows), a1 = f32x4.mul(s1, rows), a2 = f32x4.mul(s2, rows), a3 = f32x4.mul(s3, rows);
    const c0 = f32x4.neg(f32x4.mul(s0, sd0)), c1 = f32x4.neg(f32x4.mul(s1, sd1)), c2 = f32x4.neg(f32x4.mul(s2, sd2)), c3 = f32x4.neg(f32x4.mul(s3, sd3));
    const h0 = f32x4.neg(f32x4.mul(s0, sh0)), h1 = f32x4.neg(f32x4.mul(s1, sh1)), h2 = f32x4.neg(f32x4.mul(s2, sh2)), h3 = f32x4.neg(f32x4.mul(s3, sh3));
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      v128.store(dx + offset, madd(h0, v128.load(xhat + offset), madd(a0, v128.load(dy + offset), c0)));
      v128.store(dx + offset, madd(h1, v128.load(xhat + offset, 16), madd(a1, v128.load(dy + offset, 16), c1)), 16);
      v128.store(dx + offset, madd(h2, v128.load(xhat + offset, 32), madd(a2, v128.load(dy + offset, 32), c2)), 32);
      v128.store(dx + offset, madd(h3, v128.load(xhat + offset, 48), madd(a3, v128.load(dy + offset, 48), c3)), 48);
    }
  }
  for (; j + 16 <= rowBytes; j += 16) {
    let sd0 = zero, sh0 = zero;
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const g0 = v128.load(dy + offset);
      sd0 = f32x4.add(sd0, g0); sh0 = madd(g0, v128.load(xhat + offset), sh0);
    }
    const s0 = backwardFactors(sd0, sh0, rows, gamma, invStd, dGamma, dBeta, j);
    const a0 = f32x4.mul(s0, rows), c0 = f32x4.neg(f32x4.mul(s0, sd0)), h0 = f32x4.neg(f32x4.mul(s0, sh0));
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      v128.store(dx + offset, madd(h0, v128.load(xhat + offset), madd(a0, v128.load(dy + offset), c0)));
    }
  }
  for (; j < rowBytes; j += 4) {
    let sumDy: f64 = 0, sumDyXhat: f64 = 0;
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      const g = <f64>load<f32>(dy + offset);
      sumDy += g;
      sumDyXhat += g * <f64>load<f32>(xhat + offset);
    }
    if (dGamma) store<f32>(dGamma + j, <f32>(<f64>load<f32>(dGamma + j) + sumDyXhat));
    if (dBeta) store<f32>(dBeta + j, <f32>(<f64>load<f32>(dBeta + j) + sumDy));
    const scale = (gamma ? <f64>load<f32>(gamma + j) : 1) * <f64>load<f32>(invStd + j) / m;
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      store<f32>(dx + offset, <f32>(scale * (m * <f64>load<f32>(dy + offset) - sumDy - <f64>load<f32>(xhat + offset) * sumDyXhat)));
    }
  }
}
