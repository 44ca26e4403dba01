/**
 * @file BatchNorm over the columns of x[m,n], 4 features per pass with the statistics in f64
 * (as the reference keeps them in JavaScript numbers): each f32x4 of a row is widened into two
 * f64x2 halves. Training forward: mean, biased variance (two passes, centred), invStd, then xhat
 * and y in one pass. Backward: Σdy and Σdy·xhat per column, then dx through mean and variance.
 * A gamma or beta address of 0 means "none" (1 and 0). Outputs may alias inputs: every element
 * is read before it is written.
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

export function batchNormForwardTrain(
  x: usize, m: i32, n: i32, eps: f64, gamma: usize, beta: usize,
  mean: usize, variance: usize, invStd: usize, xhat: usize, y: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f64x2.splat(<f64>m), one = f64x2.splat(1), epsilon = f64x2.splat(eps);
  let j: usize = 0;
  for (; j + 16 <= rowBytes; j += 16) {
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
    const invLo = f64x2.div(one, f64x2.sqrt(f64x2.add(varLo, epsilon)));
    const invHi = f64x2.div(one, f64x2.sqrt(f64x2.add(varHi, epsilon)));
    v128.store(mean + j, narrow(muLo, muHi));
    v128.store(variance + j, narrow(varLo, varHi));
    v128.store(invStd + j, narrow(invLo, invHi));
    let gLo = one, gHi = one, bLo = f64x2.splat(0), bHi = bLo;
    if (gamma) { const g = v128.load(gamma + j); gLo = low(g); gHi = high(g); }
    if (beta) { const b = v128.load(beta + j); bLo = low(b); bHi = high(b); }
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      const v = v128.load(x + offset);
      const hLo = f64x2.mul(f64x2.sub(low(v), muLo), invLo), hHi = f64x2.mul(f64x2.sub(high(v), muHi), invHi);
      v128.store(xhat + offset, narrow(hLo, hHi));
      v128.store(y + offset, narrow(f64x2.add(f64x2.mul(gLo, hLo), bLo), f64x2.add(f64x2.mul(gHi, hHi), bHi)));
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
 * bracket, so dx = gamma·invStd/m · (m·dy − Σdy − xhat·Σdy·xhat). dGamma += Σdy·xhat; dBeta += Σdy.
 */
export function batchNormBackward(
  dy: usize, xhat: usize, invStd: usize, gamma: usize, m: i32, n: i32,
  dx: usize, dGamma: usize, dBeta: usize,
): void {
  const rowBytes = <usize>n << 2;
  const rows = f64x2.splat(<f64>m);
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
    for (let i = 0, offset = j; i < m; i++, offset += rowBytes) {
      const g = v128.load(dy + offset), h = v128.load(xhat + offset);
      const lo = f64x2.mul(scaleLo, f64x2.sub(f64x2.sub(f64x2.mul(rows, low(g)), dyLo), f64x2.mul(low(h), dyXhatLo)));
      const hi = f64x2.mul(scaleHi, f64x2.sub(f64x2.sub(f64x2.mul(rows, high(g)), dyHi), f64x2.mul(high(h), dyXhatHi)));
      v128.store(dx + offset, narrow(lo, hi));
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
