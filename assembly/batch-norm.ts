/**
 * @file BatchNorm over the columns of x[m,n], in column blocks of 8 features (then 4, then one
 * at a time): each block's statistics, then its element-wise pass, while the block is in L1 and
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

export function batchNormForwardTrain(
  x: usize, m: i32, n: i32, eps: f64, gamma: usize, beta: usize,
  mean: usize, variance: usize, invStd: usize, xhat: usize, y: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f32x4.splat(<f32>m), one = f32x4.splat(1), zero = f32x4.splat(0), epsilon = f32x4.splat(<f32>eps);
  let j: usize = 0;
  for (; j + 32 <= rowBytes; j += 32) {
    let s0 = zero, s1 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      s0 = f32x4.add(s0, v128.load(at)); s1 = f32x4.add(s1, v128.load(at, 16));
    }
    let mu0 = f32x4.div(s0, rows), mu1 = f32x4.div(s1, rows);
    let d0 = zero, d1 = zero, q0 = zero, q1 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      const e0 = f32x4.sub(v128.load(at), mu0), e1 = f32x4.sub(v128.load(at, 16), mu1);
      d0 = f32x4.add(d0, e0); d1 = f32x4.add(d1, e1);
      q0 = madd(e0, e0, q0); q1 = madd(e1, e1, q1);
    }
    const c0 = f32x4.div(d0, rows), c1 = f32x4.div(d1, rows);
    mu0 = f32x4.add(mu0, c0); mu1 = f32x4.add(mu1, c1);
    const var0 = f32x4.max(f32x4.sub(f32x4.div(q0, rows), f32x4.mul(c0, c0)), zero);
    const var1 = f32x4.max(f32x4.sub(f32x4.div(q1, rows), f32x4.mul(c1, c1)), zero);
    const inv0 = f32x4.div(one, f32x4.sqrt(f32x4.add(var0, epsilon))), inv1 = f32x4.div(one, f32x4.sqrt(f32x4.add(var1, epsilon)));
    v128.store(mean + j, mu0); v128.store(mean + j, mu1, 16);
    v128.store(variance + j, var0); v128.store(variance + j, var1, 16);
    v128.store(invStd + j, inv0); v128.store(invStd + j, inv1, 16);
    const g0 = loadOr(gamma, j, one), g1 = loadOr(gamma, j + 16, one), b0 = loadOr(beta, j, zero), b1 = loadOr(beta, j + 16, zero);
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const h0 = f32x4.mul(f32x4.sub(v128.load(x + offset), mu0), inv0), h1 = f32x4.mul(f32x4.sub(v128.load(x + offset, 16), mu1), inv1);
      v128.store(xhat + offset, h0); v128.store(xhat + offset, h1, 16);
      v128.store(y + offset, f32x4.add(f32x4.mul(g0, h0), b0)); v128.store(y + offset, f32x4.add(f32x4.mul(g1, h1), b1), 16);
    }
  }
  for (; j + 16 <= rowBytes; j += 16) {
    let s0 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) s0 = f32x4.add(s0, v128.load(at));
    let mu0 = f32x4.div(s0, rows);
    let d0 = zero, q0 = zero;
    for (let at = x + j, end = at + <usize>m * rowBytes; at < end; at += rowBytes) {
      const e0 = f32x4.sub(v128.load(at), mu0);
      d0 = f32x4.add(d0, e0); q0 = madd(e0, e0, q0);
    }
    const c0 = f32x4.div(d0, rows);
    mu0 = f32x4.add(mu0, c0);
    const var0 = f32x4.max(f32x4.sub(f32x4.div(q0, rows), f32x4.mul(c0, c0)), zero);
    const inv0 = f32x4.div(one, f32x4.sqrt(f32x4.add(var0, epsilon)));
    v128.store(mean + j, mu0); v128.store(variance + j, var0); v128.store(invStd + j, inv0);
    const g0 = loadOr(gamma, j, one), b0 = loadOr(beta, j, zero);
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const h0 = f32x4.mul(f32x4.sub(v128.load(x + offset), mu0), inv0);
      v128.store(xhat + offset, h0);
      v128.store(y + offset, f32x4.add(f32x4.mul(g0, h0), b0));
    }
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
  const rows = f32x4.splat(<f32>m), one = f32x4.splat(1), zero = f32x4.splat(0);
  let j: usize = 0;
  for (; j + 32 <= rowBytes; j += 32) {
    let sd0 = zero, sd1 = zero, sh0 = zero, sh1 = zero;
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const g0 = v128.load(dy + offset), g1 = v128.load(dy + offset, 16);
      sd0 = f32x4.add(sd0, g0); sd1 = f32x4.add(sd1, g1);
      sh0 = madd(g0, v128.load(xhat + offset), sh0); sh1 = madd(g1, v128.load(xhat + offset, 16), sh1);
    }
    if (dGamma) { v128.store(dGamma + j, f32x4.add(v128.load(dGamma + j), sh0)); v128.store(dGamma + j, f32x4.add(v128.load(dGamma + j, 16), sh1), 16); }
    if (dBeta) { v128.store(dBeta + j, f32x4.add(v128.load(dBeta + j), sd0)); v128.store(dBeta + j, f32x4.add(v128.load(dBeta + j, 16), sd1), 16); }
    const s0 = f32x4.div(f32x4.mul(loadOr(gamma, j, one), v128.load(invStd + j)), rows);
    const s1 = f32x4.div(f32x4.mul(loadOr(gamma, j + 16, one), v128.load(invStd + j, 16)), rows);
    const a0 = f32x4.mul(s0, rows), a1 = f32x4.mul(s1, rows);
    const c0 = f32x4.neg(f32x4.mul(s0, sd0)), c1 = f32x4.neg(f32x4.mul(s1, sd1));
    const h0 = f32x4.neg(f32x4.mul(s0, sh0)), h1 = f32x4.neg(f32x4.mul(s1, sh1));
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      v128.store(dx + offset, madd(h0, v128.load(xhat + offset), madd(a0, v128.load(dy + offset), c0)));
      v128.store(dx + offset, madd(h1, v128.load(xhat + offset, 16), madd(a1, v128.load(dy + offset, 16), c1)), 16);
    }
  }
  for (; j + 16 <= rowBytes; j += 16) {
    let sd0 = zero, sh0 = zero;
    for (let offset = j, end = j + <usize>m * rowBytes; offset < end; offset += rowBytes) {
      const g0 = v128.load(dy + offset);
      sd0 = f32x4.add(sd0, g0); sh0 = madd(g0, v128.load(xhat + offset), sh0);
    }
    if (dGamma) v128.store(dGamma + j, f32x4.add(v128.load(dGamma + j), sh0));
    if (dBeta) v128.store(dBeta + j, f32x4.add(v128.load(dBeta + j), sd0));
    const s0 = f32x4.div(f32x4.mul(loadOr(gamma, j, one), v128.load(invStd + j)), rows);
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
