/**
 * @file Group Norm per example, and so Layer Norm (one group) and RMSNorm (one group, not
 * centered, no beta): each row of x[m,n] in `groups` consecutive groups of s = n/groups units,
 * which are contiguous in row-major memory, so a group is a run of f32x4 vectors then a scalar
 * tail. Forward: mean μ (0 when not centered), σ² = Σ(x − μ)²/s by two passes in f32,
 * invStd = 1/√(σ² + eps) into invStd[m, groups], xhat = (x − μ)·invStd, y = gamma·xhat + beta.
 * Backward, with g = dy·gamma: dx = invStd/s·(s·g − Σg − xhat·Σg·xhat) (no Σg when not
 * centered), computed as (invStd)·g + (−invStd·Σg/s) + (−invStd·Σg·xhat/s)·xhat;
 * dGamma += dy·xhat and dBeta += dy per row. A gamma or beta address of 0 means none (1 and 0).
 *
 * Narrow groups (Group Norm's default is 4 units) would spend most of their time on each group's
 * lane folds, square root and divisions; where s is a multiple of 4, groups go four at a time:
 * their four vector sums fold together (`sumLanes4`, the same fold as `sumLanes` lane by lane)
 * and the statistics are computed in one vector, with the same bits as one group at a time.
 */
import { madd, sumLanes, sumLanes4 } from './simd';

// @ts-ignore: decorator
@inline function loadOr(address: usize, offset: usize, fallback: v128): v128 {
  return address ? v128.load(address + offset) : fallback;
}

// @ts-ignore: decorator
@inline function scalarOr(address: usize, offset: usize, fallback: f32): f32 {
  return address ? load<f32>(address + offset) : fallback;
}

/** lane0 … lane3: lane j of v in every lane (a shuffle's lanes are constants, so one helper per lane). */
// @ts-ignore: decorator
@inline function lane0(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 0, 0, 0, 0);
}
// @ts-ignore: decorator
@inline function lane1(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 1, 1, 1, 1);
}
// @ts-ignore: decorator
@inline function lane2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 2, 2, 2);
}
// @ts-ignore: decorator
@inline function lane3(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 3, 3, 3, 3);
}

/** Σ of a group's vectors, lane by lane (its scalar tail excluded). */
// @ts-ignore: decorator
@inline function vectorSum(at: usize, vectorBytes: usize): v128 {
  let acc = f32x4.splat(0);
  for (let k: usize = 0; k < vectorBytes; k += 16) acc = f32x4.add(acc, v128.load(at + k));
  return acc;
}

/** Σ (x − μ)² of a group's vectors, lane by lane. */
// @ts-ignore: decorator
@inline function squaredDeviations(at: usize, vectorBytes: usize, muV: v128): v128 {
  let q = f32x4.splat(0);
  for (let k: usize = 0; k < vectorBytes; k += 16) {
    const d = f32x4.sub(v128.load(at + k), muV);
    q = madd(d, d, q);
  }
  return q;
}

/** xhat = (x − μ)·invStd and y = gamma·xhat + beta over a group's vectors (`column`: the group's byte offset in a row). */
// @ts-ignore: decorator
@inline function normalizeVectors(
  at: usize, xhatAt: usize, yAt: usize, gamma: usize, beta: usize, column: usize, vectorBytes: usize, muV: v128, invV: v128,
): void {
  for (let k: usize = 0; k < vectorBytes; k += 16) {
    const h = f32x4.mul(f32x4.sub(v128.load(at + k), muV), invV);
    v128.store(xhatAt + k, h);
    v128.store(yAt + k, f32x4.add(f32x4.mul(loadOr(gamma, column + k, f32x4.splat(1)), h), loadOr(beta, column + k, f32x4.splat(0))));
  }
}

/** 1/√(σ² + eps) from Σ(x − μ)², lane by lane. */
// @ts-ignore: decorator
@inline function inverseStd(squares: v128, count: v128, epsilon: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(f32x4.div(squares, count), epsilon)));
}

export function groupNormForward(
  x: usize, m: i32, n: i32, groups: i32, centered: i32, eps: f64, gamma: usize, beta: usize,
  invStd: usize, xhat: usize, y: usize,
): void {
  const s = n / groups;
  const groupBytes = <usize>s << 2, vectorBytes = <usize>(s >> 2) << 4;
  const fourAtOnce = s % 4 == 0 ? groups & ~3 : 0;
  const count = <f32>s, epsilon = <f32>eps;
  const countV = f32x4.splat(count), epsilonV = f32x4.splat(epsilon);
  let at = x, inverse = invStd;
  for (let i = 0; i < m; i++) {
    let g = 0;
    let column: usize = 0;
    for (; g < fourAtOnce; g += 4, column += groupBytes << 2) {
      const at1 = at + groupBytes, at2 = at1 + groupBytes, at3 = at2 + groupBytes;
      const mu = centered
        ? f32x4.div(sumLanes4(vectorSum(at, vectorBytes), vectorSum(at1, vectorBytes), vectorSum(at2, vectorBytes), vectorSum(at3, vectorBytes)), countV)
        : f32x4.splat(0);
      const mu0 = lane0(mu), mu1 = lane1(mu), mu2 = lane2(mu), mu3 = lane3(mu);
      const squares = sumLanes4(
        squaredDeviations(at, vectorBytes, mu0),
        squaredDeviations(at1, vectorBytes, mu1),
        squaredDeviations(at2, vectorBytes, mu2),
        squaredDeviations(at3, vectorBytes, mu3),
      );
      const inv = inverseStd(squares, countV, epsilonV);
      v128.store(inverse, inv);
      inverse += 16;
      const offset = at - x;
      normalizeVectors(at, xhat + offset, y + offset, gamma, beta, column, vectorBytes, mu0, lane0(inv));
      normalizeVectors(at1, xhat + offset + groupBytes, y + offset + groupBytes, gamma, beta, column + groupBytes, vectorBytes, mu1, lane1(inv));
      normalizeVectors(at2, xhat + offset + 2 * groupBytes, y + offset + 2 * groupBytes, gamma, beta, column + 2 * groupBytes, vectorBytes, mu2, lane2(inv));
      normalizeVectors(at3, xhat + offset + 3 * groupBytes, y + offset + 3 * groupBytes, gamma, beta, column + 3 * groupBytes, vectorBytes, mu3, lane3(inv));
      at += groupBytes << 2;
    }
    for (; g < groups; g++, column += groupBytes) {
      const offset = at - x;
      let mu: f32 = 0;
      if (centered) {
        let sum = sumLanes(vectorSum(at, vectorBytes));
        for (let k = vectorBytes; k < groupBytes; k += 4) sum += load<f32>(at + k);
        mu = sum / count;
      }
      const muV = f32x4.splat(mu);
      let squares = sumLanes(squaredDeviations(at, vectorBytes, muV));
      for (let k = vectorBytes; k < groupBytes; k += 4) {
        const d = load<f32>(at + k) - mu;
        squares += d * d;
      }
      const inv: f32 = 1 / Mathf.sqrt(squares / count + epsilon);
      store<f32>(inverse, inv);
      inverse += 4;
      normalizeVectors(at, xhat + offset, y + offset, gamma, beta, column, vectorBytes, muV, f32x4.splat(inv));
      for (let k = vectorBytes; k < groupBytes; k += 4) {
        const h = (load<f32>(at + k) - mu) * inv;
        store<f32>(xhat + offset + k, h);
        store<f32>(y + offset + k, scalarOr(gamma, column + k, 1) * h + scalarOr(beta, column + k, 0));
      }
      at += groupBytes;
    }
  }
}

/** The Σ dy·gamma of the latest `gradientSums` (a helper returns one vector). */
let gradientSum: v128 = f32x4.splat(0);

/**
 * Σ dy·gamma·xhat over a group's vectors, lane by lane, and Σ dy·gamma into `gradientSum`, in one
 * pass; adds dy·xhat to dGamma and dy to dBeta where given.
 */
// @ts-ignore: decorator
@inline function gradientSums(
  dyAt: usize, xhatAt: usize, gamma: usize, column: usize, vectorBytes: usize, dGamma: usize, dBeta: usize,
): v128 {
  let sg = f32x4.splat(0), sgh = f32x4.splat(0);
  for (let k: usize = 0; k < vectorBytes; k += 16) {
    const d = v128.load(dyAt + k), h = v128.load(xhatAt + k);
    const grad = f32x4.mul(d, loadOr(gamma, column + k, f32x4.splat(1)));
    sg = f32x4.add(sg, grad);
    sgh = madd(grad, h, sgh);
    if (dGamma) v128.store(dGamma + column + k, madd(d, h, v128.load(dGamma + column + k)));
    if (dBeta) v128.store(dBeta + column + k, f32x4.add(v128.load(dBeta + column + k), d));
  }
  gradientSum = sg;
  return sgh;
}

/** dx = a·(dy·gamma) + c + e·xhat over a group's vectors. */
// @ts-ignore: decorator
@inline function inputGradientVectors(
  dyAt: usize, xhatAt: usize, dxAt: usize, gamma: usize, column: usize, vectorBytes: usize, a: v128, c: v128, e: v128,
): void {
  for (let k: usize = 0; k < vectorBytes; k += 16) {
    const grad = f32x4.mul(v128.load(dyAt + k), loadOr(gamma, column + k, f32x4.splat(1)));
    v128.store(dxAt + k, madd(e, v128.load(xhatAt + k), madd(a, grad, c)));
  }
}

export function groupNormBackward(
  dy: usize, xhat: usize, invStd: usize, groups: i32, centered: i32, gamma: usize, m: i32, n: i32,
  dx: usize, dGamma: usize, dBeta: usize,
): void {
  const s = n / groups;
  const groupBytes = <usize>s << 2, vectorBytes = <usize>(s >> 2) << 4;
  const fourAtOnce = s % 4 == 0 ? groups & ~3 : 0;
  const count = <f32>s;
  const countV = f32x4.splat(count);
  let offset: usize = 0, inverse = invStd;
  for (let i = 0; i < m; i++) {
    let g = 0;
    let column: usize = 0;
    for (; g < fourAtOnce; g += 4, column += groupBytes << 2) {
      const offset1 = offset + groupBytes, offset2 = offset1 + groupBytes, offset3 = offset2 + groupBytes;
      const column1 = column + groupBytes, column2 = column1 + groupBytes, column3 = column2 + groupBytes;
      const sumGH0 = gradientSums(dy + offset, xhat + offset, gamma, column, vectorBytes, dGamma, dBeta);
      const sumG0 = gradientSum;
      const sumGH1 = gradientSums(dy + offset1, xhat + offset1, gamma, column1, vectorBytes, dGamma, dBeta);
      const sumG1 = gradientSum;
      const sumGH2 = gradientSums(dy + offset2, xhat + offset2, gamma, column2, vectorBytes, dGamma, dBeta);
      const sumG2 = gradientSum;
      const sumGH3 = gradientSums(dy + offset3, xhat + offset3, gamma, column3, vectorBytes, dGamma, dBeta);
      const sumG = centered ? sumLanes4(sumG0, sumG1, sumG2, gradientSum) : f32x4.splat(0);
      const sumGH = sumLanes4(sumGH0, sumGH1, sumGH2, sumGH3);
      const inv = v128.load(inverse);
      inverse += 16;
      const minusInv = f32x4.neg(inv);
      const c = f32x4.div(f32x4.mul(minusInv, sumG), countV), e = f32x4.div(f32x4.mul(minusInv, sumGH), countV);
      inputGradientVectors(dy + offset, xhat + offset, dx + offset, gamma, column, vectorBytes, lane0(inv), lane0(c), lane0(e));
      inputGradientVectors(dy + offset1, xhat + offset1, dx + offset1, gamma, column1, vectorBytes, lane1(inv), lane1(c), lane1(e));
      inputGradientVectors(dy + offset2, xhat + offset2, dx + offset2, gamma, column2, vectorBytes, lane2(inv), lane2(c), lane2(e));
      inputGradientVectors(dy + offset3, xhat + offset3, dx + offset3, gamma, column3, vectorBytes, lane3(inv), lane3(c), lane3(e));
      offset += groupBytes << 2;
    }
    for (; g < groups; g++, column += groupBytes) {
      let sumGH = sumLanes(gradientSums(dy + offset, xhat + offset, gamma, column, vectorBytes, dGamma, dBeta));
      let sumG = sumLanes(gradientSum);
      for (let k = vectorBytes; k < groupBytes; k += 4) {
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
      inputGradientVectors(
        dy + offset, xhat + offset, dx + offset, gamma, column, vectorBytes,
        f32x4.splat(inv), f32x4.splat(-inv * sumG / count), f32x4.splat(-inv * sumGH / count),
      );
      for (let k = vectorBytes; k < groupBytes; k += 4) {
        const grad = load<f32>(dy + offset + k) * scalarOr(gamma, column + k, 1);
        store<f32>(dx + offset + k, inv * grad - inv * sumG / count - inv * sumGH / count * load<f32>(xhat + offset + k));
      }
      offset += groupBytes;
    }
  }
}
