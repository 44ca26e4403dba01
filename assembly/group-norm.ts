/**
 * @file Group Norm per example, and so Layer Norm (one group) and RMSNorm (one group, not
 * centered, no beta): each row of x[m,n] in `groups` consecutive groups of s = n/groups units,
 * which are contiguous in row-major memory, so a group is a run of f32x4 vectors then a scalar
 * tail. Forward: mean μ (0 when not centered), σ² = Σ(x − μ)²/s by two passes in f32,
 * invStd = 1/√(σ² + eps) into invStd[m, groups], xhat = (x − μ)·invStd, y = gamma·xhat + beta.
 * Backward, with g = dy·gamma: dx = invStd/s·(s·g − Σg − xhat·Σg·xhat) (no Σg when not
 * centered), computed as (invStd)·g + (−invStd·Σg/s) + (−invStd·Σg·xhat/s)·xhat;
 * dGamma += dy·xhat and dBeta += dy per row. A gamma or beta address of 0 means none (1 and 0).
 */
import { madd, sumLanes } from './simd';

// @ts-ignore: decorator
@inline function loadOr(address: usize, offset: usize, fallback: v128): v128 {
  return address ? v128.load(address + offset) : fallback;
}

// @ts-ignore: decorator
@inline function scalarOr(address: usize, offset: usize, fallback: f32): f32 {
  return address ? load<f32>(address + offset) : fallback;
}

export function groupNormForward(
  x: usize, m: i32, n: i32, groups: i32, centered: i32, eps: f64, gamma: usize, beta: usize,
  invStd: usize, xhat: usize, y: usize,
): void {
  const s = n / groups;
  const groupBytes = <usize>s << 2, vectorBytes = <usize>(s >> 2) << 4;
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  const count = <f32>s, epsilon = <f32>eps;
  let at = x, inverse = invStd;
  for (let i = 0; i < m; i++) {
    for (let g: usize = 0, column: usize = 0; g < <usize>groups; g++, column += groupBytes) {
      const offset = at - x;
      let mu: f32 = 0;
      if (centered) {
        let acc = zero;
        let k: usize = 0;
        for (; k < vectorBytes; k += 16) acc = f32x4.add(acc, v128.load(at + k));
        let sum = sumLanes(acc);
        for (; k < groupBytes; k += 4) sum += load<f32>(at + k);
        mu = sum / count;
      }
      const muV = f32x4.splat(mu);
      let q = zero;
      let k: usize = 0;
      for (; k < vectorBytes; k += 16) {
        const d = f32x4.sub(v128.load(at + k), muV);
        q = madd(d, d, q);
      }
      let squares = sumLanes(q);
      for (; k < groupBytes; k += 4) {
        const d = load<f32>(at + k) - mu;
        squares += d * d;
      }
      const inv: f32 = 1 / Mathf.sqrt(squares / count + epsilon);
      store<f32>(inverse, inv);
      inverse += 4;
      const invV = f32x4.splat(inv);
      k = 0;
      for (; k < vectorBytes; k += 16) {
        const h = f32x4.mul(f32x4.sub(v128.load(at + k), muV), invV);
        v128.store(xhat + offset + k, h);
        v128.store(y + offset + k, f32x4.add(f32x4.mul(loadOr(gamma, column + k, one), h), loadOr(beta, column + k, zero)));
      }
      for (; k < groupBytes; k += 4) {
        const h = (load<f32>(at + k) - mu) * inv;
        store<f32>(xhat + offset + k, h);
        store<f32>(y + offset + k, scalarOr(gamma, column + k, 1) * h + scalarOr(beta, column + k, 0));
      }
      at += groupBytes;
    }
  }
}

export function groupNormBackward(
  dy: usize, xhat: usize, invStd: usize, groups: i32, centered: i32, gamma: usize, m: i32, n: i32,
  dx: usize, dGamma: usize, dBeta: usize,
): void {
  const s = n / groups;
  const groupBytes = <usize>s << 2, vectorBytes = <usize>(s >> 2) << 4;
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  const count = <f32>s;
  let offset: usize = 0, inverse = invStd;
  for (let i = 0; i < m; i++) {
    for (let g: usize = 0, column: usize = 0; g < <usize>groups; g++, column += groupBytes) {
      let sg = zero, sgh = zero;
      let k: usize = 0;
      for (; k < vectorBytes; k += 16) {
        const d = v128.load(dy + offset + k), h = v128.load(xhat + offset + k);
        const grad = f32x4.mul(d, loadOr(gamma, column + k, one));
        sg = f32x4.add(sg, grad);
        sgh = madd(grad, h, sgh);
        if (dGamma) v128.store(dGamma + column + k, madd(d, h, v128.load(dGamma + column + k)));
        if (dBeta) v128.store(dBeta + column + k, f32x4.add(v128.load(dBeta + column + k), d));
      }
      let sumG = sumLanes(sg), sumGH = sumLanes(sgh);
      for (; k < groupBytes; k += 4) {
        const d = load<f32>(dy + offset + k), h = load<f32>(xhat + offset + k);
        const grad = d * scalarOr(gamma, column + k, 1);
        sumG += grad;
        sumGH += grad * h;
        if (dGamma) store<f32>(dGamma + column + k, load<f32>(dGamma + column + k) + d * h);
        if (dBeta) store<f32>(dBeta + column + k, load<f32>(dBeta + column + k) + d);
      }
      if (!centered) sumG = 0;
      const inv = load<f32>(inverse);
      inverse += 4;
      const a = f32x4.splat(inv), c = f32x4.splat(-inv * sumG / count), e = f32x4.splat(-inv * sumGH / count);
      k = 0;
      for (; k < vectorBytes; k += 16) {
        const grad = f32x4.mul(v128.load(dy + offset + k), loadOr(gamma, column + k, one));
        v128.store(dx + offset + k, madd(e, v128.load(xhat + offset + k), madd(a, grad, c)));
      }
      for (; k < groupBytes; k += 4) {
        const grad = load<f32>(dy + offset + k) * scalarOr(gamma, column + k, 1);
        store<f32>(dx + offset + k, inv * grad - inv * sumG / count - inv * sumGH / count * load<f32>(xhat + offset + k));
      }
      offset += groupBytes;
    }
  }
}
