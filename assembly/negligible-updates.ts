/**
 * @file The weight update c += scale·(aᵀ·b) leaves an element c[i,j] with the same bits whenever
 * the term it adds is less than half the float32 spacing around c[i,j]: a saturated network's
 * weight gradients are mostly that small (in model 8 without BN, 90% of a hidden layer's), and
 * those are also the sums that go subnormal and slow. This finds the rows and columns of c that
 * hold an update that may count, so that only that block is multiplied (gathered, updated, and
 * scattered back: every kept element summed as before, the others left as they were).
 *
 * Why the test is safe, for gemm's sum s = Σ_t a[t,i]·b[t,j] (m multiply-adds from +0, fused or
 * not) and its store old + round(scale·s): with u = 2^−24, |s| ≤ (1 + u)^2m·X_i·D_j + 2m·2^−150,
 * where X_i = Σ_t |a[t,i]| and D_j = max_t |b[t,j]| (a rounding is relative, but for subnormal
 * results, whose error is at most 2^−150). D_j is exact in float32 and X_i summed there at least
 * (1 − u)^m·X_i (sums of subnormals are exact). The test is X_i·D_j < |old|·2^−27/|scale| with
 * 2^−60 ≤ |old| < ∞, |scale| ≤ 2^20 and m ≤ 2^20; on a and b scaled up by 2^E, the right side
 * takes 2^E too, so a product that underflows is below 2^−126, far under the right side
 * (≥ 2^−107·2^E), and one that overflows fails the test. Then |round(scale·s)| < 1.3·|old|·2^−27
 * + 2^−107 < |old|·2^−26, under half the float32 spacing on either side of old (at least
 * |old|·2^−25), so old + it rounds to old. A NaN among the factors or in old fails the test and
 * the element is kept.
 */

/** The largest |scale| and depth m the test holds for: past them every element is kept. */
const LIMIT: f32 = 1048576; // 2^20

/**
 * For c[k,n] += scale·(a[m,k]ᵀ·b[m,n]), given sums[i] = Σ_t |a[t,i]| and maxima[j] = max_t |b[t,j]|
 * (columnSums or sparseColumnSums, and columnMaxima) of a and b divided by unscaleA and unscaleB
 * (powers of two: the host's rescaling, or 1): writes the rows i of c that hold an update that
 * may count to keptRows (u32) and its columns to keptCols, and their counts to counts[0] and
 * counts[1] (all of them past the limits). If any column is kept, so are enough others to make
 * their count a multiple of 4 (or n): the kernels' tiles are 4 columns wide (a column kept
 * needlessly is summed and stored as the whole product would, so it keeps its bits too).
 */
export function keptUpdates(
  sums: usize, maxima: usize, c: usize, m: i32, k: i32, n: i32, scale: f32, unscaleA: f32, unscaleB: f32,
  keptRows: usize, keptCols: usize, counts: usize,
): void {
  if (!(Mathf.abs(scale) <= LIMIT) || <f32>m > LIMIT) {
    for (let i = 0; i < k; i++) store<u32>(keptRows + (<usize>i << 2), <u32>i);
    for (let j = 0; j < n; j++) store<u32>(keptCols + (<usize>j << 2), <u32>j);
    store<u32>(counts, <u32>k);
    store<u32>(counts, <u32>n, 4);
    return;
  }
  // 2^−27/|scale|, times 2^E for the scaled factors (one rounding).
  const factor = f32x4.splat(<f32>(1.0 / (134217728 * <f64>Mathf.abs(scale) * <f64>unscaleA * <f64>unscaleB)));
  const smallestOld = f32x4.splat(8.673617379884035e-19), infinity = f32x4.splat(Infinity); // 2^−60
  const colKept = keptCols; // flags first (u32 per column), turned into the list at the end
  memory.fill(colKept, 0, <usize>n << 2);
  const vectorBytes = <usize>(n & ~3) << 2, rowBytes = <usize>n << 2;
  let rowCount = 0;
  for (let i = 0; i < k; i++) {
    const x = f32x4.splat(load<f32>(sums + (<usize>i << 2)));
    const cRow = c + <usize>i * rowBytes;
    let rowKept = i32x4.splat(0);
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const old = f32x4.abs(v128.load(cRow + j));
      const negligible = v128.and(f32x4.lt(f32x4.mul(x, v128.load(maxima + j)), f32x4.mul(old, factor)), v128.and(f32x4.ge(old, smallestOld), f32x4.lt(old, infinity)));
      const kept = v128.not(negligible);
      v128.store(colKept + j, v128.or(v128.load(colKept + j), kept));
      rowKept = v128.or(rowKept, kept);
    }
    for (; j < rowBytes; j += 4) {
      const old = Mathf.abs(load<f32>(cRow + j));
      if (!(f32x4.extract_lane(x, 0) * load<f32>(maxima + j) < old * f32x4.extract_lane(factor, 0) && old >= 8.673617379884035e-19 && old < Infinity)) {
        store<u32>(colKept + j, 0xffffffff);
        rowKept = i32x4.splat(-1);
      }
    }
    if (v128.any_true(rowKept)) {
      store<u32>(keptRows + (<usize>rowCount << 2), <u32>i);
      rowCount++;
    }
  }
  let flagged = 0;
  for (let j = 0; j < n; j++) flagged += load<u32>(colKept + (<usize>j << 2)) != 0 ? 1 : 0;
  for (let j = 0; (flagged & 3) != 0 && j < n; j++) {
    if (load<u32>(colKept + (<usize>j << 2)) == 0) {
      store<u32>(colKept + (<usize>j << 2), 1);
      flagged++;
    }
  }
  let colCount = 0;
  for (let j = 0; j < n; j++) {
    if (load<u32>(colKept + (<usize>j << 2)) != 0) {
      store<u32>(keptCols + (<usize>colCount << 2), <u32>j);
      colCount++;
    }
  }
  store<u32>(counts, <u32>rowCount);
  store<u32>(counts, <u32>colCount, 4);
}

/** sums[i] = Σ_t |a[t,i]| for a[m,k] (float32, in t order). */
export function columnSums(a: usize, m: i32, k: i32, sums: usize): void {
  memory.fill(sums, 0, <usize>k << 2);
  const rowBytes = <usize>k << 2;
  for (let t = 0; t < m; t++) {
    const row = a + <usize>t * rowBytes;
    let i: usize = 0;
    for (; i + 16 <= rowBytes; i += 16) v128.store(sums + i, f32x4.add(v128.load(sums + i), f32x4.abs(v128.load(row + i))));
    for (; i < rowBytes; i += 4) store<f32>(sums + i, load<f32>(sums + i) + Mathf.abs(load<f32>(row + i)));
  }
}

/** columnSums of a matrix of k columns given as its `entries` nonzeros (column indices u32, values f32), in row order. */
export function sparseColumnSums(indices: usize, values: usize, entries: i32, k: i32, sums: usize): void {
  memory.fill(sums, 0, <usize>k << 2);
  for (let e = 0; e < entries; e++) {
    const at = sums + (<usize>load<u32>(indices + (<usize>e << 2)) << 2);
    store<f32>(at, load<f32>(at) + Mathf.abs(load<f32>(values + (<usize>e << 2))));
  }
}

/** maxima[j] = max_t |b[t,j]| for b[m,n]; a NaN stays (so its column fails the test and is kept). */
export function columnMaxima(b: usize, m: i32, n: i32, maxima: usize): void {
  memory.fill(maxima, 0, <usize>n << 2);
  const rowBytes = <usize>n << 2;
  for (let t = 0; t < m; t++) {
    const row = b + <usize>t * rowBytes;
    let j: usize = 0;
    for (; j + 16 <= rowBytes; j += 16) v128.store(maxima + j, f32x4.max(v128.load(maxima + j), f32x4.abs(v128.load(row + j))));
    for (; j < rowBytes; j += 4) {
      const v = Mathf.abs(load<f32>(row + j)), old = load<f32>(maxima + j);
      store<f32>(maxima + j, v != v || v > old ? v : old);
    }
  }
}

/** out[r, q] = src[r, list[q]] for r < rows, q < count (src rows of `cols` floats, out rows of `count`). */
export function gatherColumns(src: usize, rows: i32, cols: i32, list: usize, count: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const from = src + <usize>r * (<usize>cols << 2), to = out + <usize>r * (<usize>count << 2);
    for (let q = 0; q < count; q++) store<f32>(to + (<usize>q << 2), load<f32>(from + (<usize>load<u32>(list + (<usize>q << 2)) << 2)));
  }
}

/** out[p, q] = c[rowList[p], colList[q]] (c rows of `cols` floats, out rows of colCount). */
export function gatherBlock(c: usize, cols: i32, rowList: usize, rowCount: i32, colList: usize, colCount: i32, out: usize): void {
  for (let p = 0; p < rowCount; p++) {
    gatherColumns(c + <usize>load<u32>(rowList + (<usize>p << 2)) * (<usize>cols << 2), 1, cols, colList, colCount, out + <usize>p * (<usize>colCount << 2));
  }
}

/** c[rowList[p], colList[q]] = block[p, q]: gatherBlock undone. */
export function scatterBlock(block: usize, c: usize, cols: i32, rowList: usize, rowCount: i32, colList: usize, colCount: i32): void {
  for (let p = 0; p < rowCount; p++) {
    scatterColumns(block + <usize>p * (<usize>colCount << 2), 1, colCount, c + <usize>load<u32>(rowList + (<usize>p << 2)) * (<usize>cols << 2), cols, colList);
  }
}

/** dst[r, list[q]] = block[r, q] for r < rows (block rows of `count` floats, dst rows of `cols`): gatherColumns undone. */
export function scatterColumns(block: usize, rows: i32, count: i32, dst: usize, cols: i32, list: usize): void {
  for (let r = 0; r < rows; r++) {
    const from = block + <usize>r * (<usize>count << 2), to = dst + <usize>r * (<usize>cols << 2);
    for (let q = 0; q < count; q++) store<f32>(to + (<usize>load<u32>(list + (<usize>q << 2)) << 2), load<f32>(from + (<usize>q << 2)));
  }
}
