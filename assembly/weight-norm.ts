/**
 * @file Weight Normalization's kernels (Salimans & Kingma 2016) on v[k,n] stored [in, out], whose
 * columns are the units: every pass walks rows in memory order with four columns per vector, and
 * per-column sums live in a [1,n] buffer (in L1 for the article's 128 units) instead of strided
 * column walks. Sums are f32 (the reference sums in f64, hence float32-precision agreement); the
 * last columns that do not fill a vector are scalar. Outputs may alias inputs only where stated.
 */
import { madd } from './simd';

/** norms[j] = ‖v[:,j]‖, scale[j] = g[j]/norms[j]. Four rows per pass over norms: each column's sum still takes the rows in order. */
export function weightNormScale(v: usize, k: i32, n: i32, g: usize, norms: usize, scale: usize): void {
  const rowBytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2;
  memory.fill(norms, 0, rowBytes);
  const end = v + <usize>k * rowBytes, fourRowsEnd = v + <usize>(k & ~3) * rowBytes;
  let at = v;
  for (; at < fourRowsEnd; at += rowBytes << 2) {
    const at1 = at + rowBytes, at2 = at1 + rowBytes, at3 = at2 + rowBytes;
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const x0 = v128.load(at + j), x1 = v128.load(at1 + j), x2 = v128.load(at2 + j), x3 = v128.load(at3 + j);
      v128.store(norms + j, madd(x3, x3, madd(x2, x2, madd(x1, x1, madd(x0, x0, v128.load(norms + j))))));
    }
    for (; j < rowBytes; j += 4) {
      const x0 = load<f32>(at + j), x1 = load<f32>(at1 + j), x2 = load<f32>(at2 + j), x3 = load<f32>(at3 + j);
      store<f32>(norms + j, load<f32>(norms + j) + x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3);
    }
  }
  for (; at < end; at += rowBytes) {
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const x = v128.load(at + j);
      v128.store(norms + j, madd(x, x, v128.load(norms + j)));
    }
    for (; j < rowBytes; j += 4) {
      const x = load<f32>(at + j);
      store<f32>(norms + j, load<f32>(norms + j) + x * x);
    }
  }
  let j: usize = 0;
  for (; j < vectorBytes; j += 16) {
    const norm = f32x4.sqrt(v128.load(norms + j));
    v128.store(norms + j, norm);
    v128.store(scale + j, f32x4.div(v128.load(g + j), norm));
  }
  for (; j < rowBytes; j += 4) {
    const norm = sqrt<f32>(load<f32>(norms + j));
    store<f32>(norms + j, norm);
    store<f32>(scale + j, load<f32>(g + j) / norm);
  }
}

/**
 * dg[j] = Σ_i dy·(t − tMean)/norms[j]; dt = scale·(dy − Σdy/m) (without the mean term when tMean
 * is 0, "none"); coefficient[j] = g[j]·dg[j]/norms[j]². Uses dg and coefficient as the column
 * sums' scratch on the way (dt must not alias dy or t).
 */
export function weightNormBackward(
  dy: usize, t: usize, tMean: usize, norms: usize, scale: usize, g: usize, m: i32, n: i32,
  dt: usize, dg: usize, coefficient: usize,
): void {
  const rowBytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2, end = <usize>m * rowBytes;
  const zero = f32x4.splat(0);
  memory.fill(dg, 0, rowBytes);
  memory.fill(coefficient, 0, rowBytes);
  // Σ dy·(t − μ) into dg, Σ dy into coefficient.
  for (let offset: usize = 0; offset < end; offset += rowBytes) {
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const d = v128.load(dy + offset + j);
      const mu = tMean ? v128.load(tMean + j) : zero;
      v128.store(dg + j, madd(d, f32x4.sub(v128.load(t + offset + j), mu), v128.load(dg + j)));
      v128.store(coefficient + j, f32x4.add(v128.load(coefficient + j), d));
    }
    for (; j < rowBytes; j += 4) {
      const d = load<f32>(dy + offset + j);
      const mu: f32 = tMean ? load<f32>(tMean + j) : 0;
      store<f32>(dg + j, load<f32>(dg + j) + d * (load<f32>(t + offset + j) - mu));
      store<f32>(coefficient + j, load<f32>(coefficient + j) + d);
    }
  }
  // coefficient ← the mean of dy (0 without the mean), for dt.
  const rows = <f32>m;
  for (let j: usize = 0; j < rowBytes; j += 4) store<f32>(coefficient + j, tMean ? load<f32>(coefficient + j) / rows : 0);
  for (let offset: usize = 0; offset < end; offset += rowBytes) {
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      v128.store(dt + offset + j, f32x4.mul(v128.load(scale + j), f32x4.sub(v128.load(dy + offset + j), v128.load(coefficient + j))));
    }
    for (; j < rowBytes; j += 4) store<f32>(dt + offset + j, load<f32>(scale + j) * (load<f32>(dy + offset + j) - load<f32>(coefficient + j)));
  }
  let j: usize = 0;
  for (; j < vectorBytes; j += 16) {
    const norm = v128.load(norms + j);
    const grad = f32x4.div(v128.load(dg + j), norm);
    v128.store(dg + j, grad);
    v128.store(coefficient + j, f32x4.div(f32x4.mul(v128.load(g + j), grad), f32x4.mul(norm, norm)));
  }
  for (; j < rowBytes; j += 4) {
    const norm = load<f32>(norms + j);
    const grad = load<f32>(dg + j) / norm;
    store<f32>(dg + j, grad);
    store<f32>(coefficient + j, load<f32>(g + j) * grad / (norm * norm));
  }
}

/**
 * out[i,j] += factor·coefficient[j]·v[i,j] over v[k,n] (out may be v). Four rows per column
 * vector: factor·coefficient is formed once for them.
 */
export function addScaledColumns(v: usize, coefficient: usize, factor: f32, out: usize, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2, end = <usize>k * rowBytes, fourRowsEnd = <usize>(k & ~3) * rowBytes;
  const f = f32x4.splat(factor);
  let offset: usize = 0;
  for (; offset < fourRowsEnd; offset += rowBytes << 2) {
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const a = f32x4.mul(f, v128.load(coefficient + j));
      const p = v + offset + j, o = out + offset + j;
      v128.store(o, madd(a, v128.load(p), v128.load(o)));
      v128.store(o + rowBytes, madd(a, v128.load(p + rowBytes), v128.load(o + rowBytes)));
      v128.store(o + 2 * rowBytes, madd(a, v128.load(p + 2 * rowBytes), v128.load(o + 2 * rowBytes)));
      v128.store(o + 3 * rowBytes, madd(a, v128.load(p + 3 * rowBytes), v128.load(o + 3 * rowBytes)));
    }
    for (; j < rowBytes; j += 4) {
      const a = factor * load<f32>(coefficient + j);
      for (let r: usize = 0; r < 4; r++) {
        const at = offset + r * rowBytes + j;
        store<f32>(out + at, load<f32>(out + at) + a * load<f32>(v + at));
      }
    }
  }
  for (; offset < end; offset += rowBytes) {
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const a = f32x4.mul(f, v128.load(coefficient + j));
      v128.store(out + offset + j, madd(a, v128.load(v + offset + j), v128.load(out + offset + j)));
    }
    for (; j < rowBytes; j += 4) {
      store<f32>(out + offset + j, load<f32>(out + offset + j) + factor * load<f32>(coefficient + j) * load<f32>(v + offset + j));
    }
  }
}
