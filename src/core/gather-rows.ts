/**
 * @file The checks of `Kernels.gatherBytesToFloats`, shared by both backends so that a bad batch
 * fails alike on each: every index must name a whole row of the bytes, before any is read (a
 * wasm kernel would otherwise read past the dataset without a trap).
 */
import type { Matrix } from './matrix.js';

export function checkGatherRows(bytes: Uint8Array, rows: ArrayLike<number>, out: Matrix): void {
  if (rows.length !== out.rows) throw new RangeError(`gatherBytesToFloats: ${rows.length} row indices for a ${out.rows}x${out.cols} matrix`);
  const count = out.cols > 0 ? Math.floor(bytes.length / out.cols) : Infinity;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!(Number.isInteger(row) && row >= 0 && row < count)) {
      throw new RangeError(`gatherBytesToFloats: row index ${row} at ${i} is outside the ${count} rows of ${out.cols} bytes given`);
    }
  }
}
