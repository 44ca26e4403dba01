/**
 * @file Matrix transpose with 4x4 blocks of lane shuffles: the sparse weight gradient transposes
 * x so that columns pack like rows, and dY·Wᵀ with a short W row (the 10-class output layer)
 * transposes W so that the product runs on the register-tiled kernel.
 */

/** t[k,m] = a[m,k]ᵀ, 4x4 blocks at a time. */
export function transpose(a: usize, m: i32, k: i32, t: usize): void {
  const aRowBytes = <usize>k << 2, tRowBytes = <usize>m << 2;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = a + <usize>i * aRowBytes, a1 = a0 + aRowBytes, a2 = a1 + aRowBytes, a3 = a2 + aRowBytes;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const offset = <usize>p << 2;
      const r0 = v128.load(a0 + offset), r1 = v128.load(a1 + offset), r2 = v128.load(a2 + offset), r3 = v128.load(a3 + offset);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const column = t + <usize>p * tRowBytes + (<usize>i << 2);
      v128.store(column, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(column + tRowBytes, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(column + 2 * tRowBytes, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(column + 3 * tRowBytes, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; p < k; p++) {
      const column = t + <usize>p * tRowBytes + (<usize>i << 2), offset = <usize>p << 2;
      store<f32>(column, load<f32>(a0 + offset));
      store<f32>(column, load<f32>(a1 + offset), 4);
      store<f32>(column, load<f32>(a2 + offset), 8);
      store<f32>(column, load<f32>(a3 + offset), 12);
    }
  }
  for (; i < m; i++) {
    const row = a + <usize>i * aRowBytes;
    for (let p = 0; p < k; p++) store<f32>(t + <usize>p * tRowBytes + (<usize>i << 2), load<f32>(row + (<usize>p << 2)));
  }
}
