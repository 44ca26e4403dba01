/**
 * @file out[m,k] = a[m,n]·b[k,n]ᵀ (the input gradient dY·Wᵀ) as dot products of rows, both
 * read contiguously. A 2x4 tile (2 rows of a against 4 rows of b) keeps 8 vector accumulators of
 * partial sums, loads 6 vectors per 8 multiply-adds, and folds its accumulators into one vector of
 * 4 outputs per row at the end.
 */
import { madd, sumLanes, sumLanes4 } from './simd';

export function matmulTransposeB(a: usize, b: usize, out: usize, m: i32, n: i32, k: i32): void {
  const rowBytes = <usize>n << 2; // a and b rows
  const outRowBytes = <usize>k << 2;
  const vectorEnd = n & ~3; // lanes [vectorEnd, n) are the scalar tail
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * rowBytes, a1 = a0 + rowBytes;
    const o0 = out + <usize>i * outRowBytes, o1 = o0 + outRowBytes;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const b0 = b + <usize>p * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
      let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (let j: usize = 0, end = <usize>vectorEnd << 2; j < end; j += 16) {
        const x0 = v128.load(a0 + j), x1 = v128.load(a1 + j);
        let w = v128.load(b0 + j);
        s00 = madd(x0, w, s00); s10 = madd(x1, w, s10);
        w = v128.load(b1 + j);
        s01 = madd(x0, w, s01); s11 = madd(x1, w, s11);
        w = v128.load(b2 + j);
        s02 = madd(x0, w, s02); s12 = madd(x1, w, s12);
        w = v128.load(b3 + j);
        s03 = madd(x0, w, s03); s13 = madd(x1, w, s13);
      }
      let r0 = sumLanes4(s00, s01, s02, s03), r1 = sumLanes4(s10, s11, s12, s13);
      for (let j = vectorEnd; j < n; j++) {
        const offset = <usize>j << 2;
        const w = f32x4(load<f32>(b0 + offset), load<f32>(b1 + offset), load<f32>(b2 + offset), load<f32>(b3 + offset));
        r0 = madd(v128.load32_splat(a0 + offset), w, r0);
        r1 = madd(v128.load32_splat(a1 + offset), w, r1);
      }
      v128.store(o0 + (<usize>p << 2), r0);
      v128.store(o1 + (<usize>p << 2), r1);
    }
    for (; p < k; p++) {
      const bRow = b + <usize>p * rowBytes;
      store<f32>(o0 + (<usize>p << 2), dot(a0, bRow, n));
      store<f32>(o1 + (<usize>p << 2), dot(a1, bRow, n));
    }
  }
  for (; i < m; i++) {
    const aRow = a + <usize>i * rowBytes;
    const oRow = out + <usize>i * outRowBytes;
    for (let p = 0; p < k; p++) store<f32>(oRow + (<usize>p << 2), dot(aRow, b + <usize>p * rowBytes, n));
  }
}

/** Σ_j x[j]·y[j] over n floats, with two vector accumulators and a scalar tail. */
function dot(x: usize, y: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0;
  const bytes = <usize>n << 2;
  let j: usize = 0;
  for (; j + 32 <= bytes; j += 32) {
    s0 = madd(v128.load(x + j), v128.load(y + j), s0);
    s1 = madd(v128.load(x + j, 16), v128.load(y + j, 16), s1);
  }
  for (; j + 16 <= bytes; j += 16) s0 = madd(v128.load(x + j), v128.load(y + j), s0);
  let sum = sumLanes(f32x4.add(s0, s1));
  for (; j < bytes; j += 4) sum += load<f32>(x + j) * load<f32>(y + j);
  return sum;
}
