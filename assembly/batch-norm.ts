/**
 * @file BatchNorm over the columns of x[m,n], 8 features per pass (4 at the edge, then one at a
 * time). The per-column sums are accumulated in f64, as the reference keeps them in JavaScript
 * numbers (each f32x4 of a row is widened into two f64x2 halves); the element-wise passes run in
 * f32. Training forward: mean, biased variance (two passes, centred), invStd = 1/√(var + eps),
 * then xhat = (x − mean)·invStd and y = gamma·xhat + beta in one pass. Backward: Σdy and
 * Σdy·xhat per column, then dx through mean and variance. A gamma or beta address of 0 means
 * "none" (1 and 0). Outputs may alias inputs: every element is read before it is written.
 */

// @ts-ignore: decorator
@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Four f32 lanes from two f64x2 halves. */
// @ts-ignore: decorator
@inline function narrow(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** The column statistics of 4 features starting at byte j: stores mean, variance and invStd, returns nothing. */
// @ts-ignore: decorator
@inline function statistics4(x: usize, m: i32, rowBytes: usize, j: usize, eps: f64, mean: usize, variance: usize, invStd: usize): void {
  const rows = f64x2.splat(<f64>m);
  let sumLo = f64x2.splat(0), sumHi = sumLo;
  for (let i = 0, at = x + j; i < m; i++, at += rowBytes) {
    const v = v128.load(at);
    sumLo = f64x2.add(sumLo, low(v)); sumHi = f64x2.add(sumHi, high(v));
  }
  const muLo = f64x2.div(sumLo, rows), muHi = f64x2.div(sumHi, rows);
  let squaresLo = f64x2.splat(0), squaresHi = squaresLo;
  for (let i = 0, at = x + j; i < m; i++, at += rowBytes) {
    const v = v128.load(at);
    const dLo = f64x2.sub(low(v), muLo), dHi = f64x2.sub(high(v), muHi);
    squaresLo = f64x2.add(squaresLo, f64x2.mul(dLo, dLo)); squaresHi = f64x2.add(squaresHi, f64x2.mul(dHi, dHi));
  }
  const varLo = f64x2.div(squaresLo, rows), varHi = f64x2.div(squaresHi, rows); // biased: divides by m
  const one = f64x2.splat(1), epsilon = f64x2.splat(eps);
  v128.store(mean + j, narrow(muLo, muHi));
  v128.store(variance + j, narrow(varLo, varHi));
  v128.store(invStd + j, narrow(f64x2.div(one, f64x2.sqrt(f64x2.add(varLo, epsilon))), f64x2.div(one, f64x2.sqrt(f64x2.add(varHi, epsilon)))));
}

export function batchNormForwardTrain(
  x: usize, m: i32, n: i32, eps: f64, gamma: usize, beta: usize,
  mean: usize, variance: usize, invStd: usize, xhat: usize, y: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f64x2.splat(<f64>m), one = f64x2.splat(1), epsilon = f64x2.splat(eps);
  let j: usize = 0;
  // 8 features per pass: four independent f64x2 sums hide the add latency.
  for (; j + 32 <= rowBytes; j += 32) {
    let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) {
      const v = v128.load(at), w = v128.load(at, 16);
      s0 = f64x2.add(s0, low(v)); s1 = f64x2.add(s1, high(v));
      s2 = f64x2.add(s2, low(w)); s3 = f64x2.add(s3, high(w));
    }
    const mu0 = f64x2.div(s0, rows), mu1 = f64x2.div(s1, rows), mu2 = f64x2.div(s2, rows), mu3 = f64x2.div(s3, rows);
    let q0 = f64x2.splat(0), q1 = q0, q2 = q0, q3 = q0;
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) {
      const v = v128.load(at), w = v128.load(at, 16);
      const d0 = f64x2.sub(low(v), mu0), d1 = f64x2.sub(high(v), mu1), d2 = f64x2.sub(low(w), mu2), d3 = f64x2.sub(high(w), mu3);
      q0 = f64x2.add(q0, f64x2.mul(d0, d0)); q1 = f64x2.add(q1, f64x2.mul(d1, d1));
      q2 = f64x2.add(q2, f64x2.mul(d2, d2)); q3 = f64x2.add(q3, f64x2.mul(d3, d3));
    }
    const v0 = f64x2.div(q0, rows), v1 = f64x2.div(q1, rows), v2 = f64x2.div(q2, rows), v3 = f64x2.div(q3, rows);
    v128.store(mean + j, narrow(mu0, mu1)); v128.store(mean + j, narrow(mu2, mu3), 16);
    v128.store(variance + j, narrow(v0, v1)); v128.store(variance + j, narrow(v2, v3), 16);
    v128.store(invStd + j, narrow(f64x2.div(one, f64x2.sqrt(f64x2.add(v0, epsilon))), f64x2.div(one, f64x2.sqrt(f64x2.add(v1, epsilon)))));
    v128.store(invStd + j, narrow(f64x2.div(one, f64x2.sqrt(f64x2.add(v2, epsilon))), f64x2.div(one, f64x2.sqrt(f64x2.add(v3, epsilon)))), 16);
  }
  for (; j + 16 <= rowBytes; j += 16) statistics4(x, m, rowBytes, j, eps, mean, variance, invStd);
  const vectorEnd = j;
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
    store<f32>(mean + j, <f32>mu);
    store<f32>(variance + j, <f32>sigma2);
    store<f32>(invStd + j, <f32>(1 / Math.sqrt(sigma2 + eps)));
  }
  // xhat = (x − mean)·invStd; y = gamma·xhat + beta, row by row in f32.
  for (let i = 0; i < m; i++) {
    const offset = <usize>i * rowBytes;
    let c: usize = 0;
    for (; c < vectorEnd; c += 16) {
      const h = f32x4.mul(f32x4.sub(v128.load(x + offset + c), v128.load(mean + c)), v128.load(invStd + c));
      v128.store(xhat + offset + c, h);
      const g = gamma ? f32x4.mul(v128.load(gamma + c), h) : h;
      v128.store(y + offset + c, beta ? f32x4.add(g, v128.load(beta + c)) : g);
    }
    for (; c < rowBytes; c += 4) {
      const h = (load<f32>(x + offset + c) - load<f32>(mean + c)) * load<f32>(invStd + c);
      store<f32>(xhat + offset + c, h);
      store<f32>(y + offset + c, (gamma ? load<f32>(gamma + c) : 1) * h + (beta ? load<f32>(beta + c) : 0));
    }
  }
}

/**
 * With g = dy·gamma: dx = invStd/m · (m·g − Σg − xhat·Σ(g·xhat)); gamma factors out of the
 * bracket, so dx = scale·(m·dy − Σdy − xhat·Σdy·xhat) with scale = gamma·invStd/m, computed as
 * dx = (m·scale)·dy + (−scale·Σdy) + (−scale·Σdy·xhat)·xhat with the three factors per column
 * formed in f64. dGamma += Σdy·xhat; dBeta += Σdy.
 */
export function batchNormBackward(
  dy: usize, xhat: usize, invStd: usize, gamma: usize, m: i32, n: i32,
  dx: usize, dGamma: usize, dBeta: usize,
  factors: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f64x2.splat(<f64>m);
  // factors: three [n] f32 rows (m·scale, −scale·Σdy, −scale·Σdy·xhat), filled column block by block.
  const dyFactor = factors, constant = factors + rowBytes, xhatFactor = constant + rowBytes;
  let j: usize = 0;
  for (; j + 16 <= rowBytes; j += 16) {
    let dyLo = f64x2.splat(0), dyHi = dyLo, dyXhatLo = dyLo, dyXhatHi = dyLo;
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      const g = v128.load(dy + offset), h = v128.load(xhat + offset);
      const gLo = low(g), gHi = high(g);
      dyLo = f64x2.add(dyLo, gLo); dyHi = f64x2.add(dyHi, gHi);
      dyXhatLo = f64x2.add(dyXhatLo, f64x2.mul(gLo, low(h))); dyXhatHi = f64x2.add(dyXhatHi, f64x2.mul(gHi, high(h)));
    }
    if (dGamma) {
      const old = v128.load(dGamma + j);
      v128.store(dGamma + j, narrow(f64x2.add(low(old), dyXhatLo), f64x2.add(high(old), dyXhatHi)));
    }
    if (dBeta) {
      const old = v128.load(dBeta + j);
      v128.store(dBeta + j, narrow(f64x2.add(low(old), dyLo), f64x2.add(high(old), dyHi)));
    }
    const inv = v128.load(invStd + j);
    let scaleLo = f64x2.div(low(inv), rows), scaleHi = f64x2.div(high(inv), rows);
    if (gamma) {
      const g = v128.load(gamma + j);
      scaleLo = f64x2.mul(low(g), scaleLo); scaleHi = f64x2.mul(high(g), scaleHi);
    }
    v128.store(dyFactor + j, narrow(f64x2.mul(scaleLo, rows), f64x2.mul(scaleHi, rows)));
    v128.store(constant + j, narrow(f64x2.neg(f64x2.mul(scaleLo, dyLo)), f64x2.neg(f64x2.mul(scaleHi, dyHi))));
    v128.store(xhatFactor + j, narrow(f64x2.neg(f64x2.mul(scaleLo, dyXhatLo)), f64x2.neg(f64x2.mul(scaleHi, dyXhatHi))));
  }
  const vectorEnd = j;
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
    store<f32>(dyFactor + j, <f32>(scale * m));
    store<f32>(constant + j, <f32>(-scale * sumDy));
    store<f32>(xhatFactor + j, <f32>(-scale * sumDyXhat));
  }
  for (let i = 0; i < m; i++) {
    const offset = <usize>i * rowBytes;
    let c: usize = 0;
    for (; c < vectorEnd; c += 16) {
      const g = v128.load(dy + offset + c), h = v128.load(xhat + offset + c);
      v128.store(dx + offset + c, f32x4.add(f32x4.add(f32x4.mul(v128.load(dyFactor + c), g), v128.load(constant + c)), f32x4.mul(v128.load(xhatFactor + c), h)));
    }
    for (; c < rowBytes; c += 4) {
      store<f32>(dx + offset + c, load<f32>(dyFactor + c) * load<f32>(dy + offset + c) + load<f32>(constant + c)
        + load<f32>(xhatFactor + c) * load<f32>(xhat + offset + c));
    }
  }
}
