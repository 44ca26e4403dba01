/**
 * @file The checks of `Kernels.gatherBytesToFloats` and `gatherSparseRows`, shared by both
 * backends so that a bad batch fails alike on each: every index must name a whole row of the
 * bytes, before any is read (a wasm kernel would otherwise read past the dataset without a trap).
 */
import type { SparseRows } from './kernels.js';
import type { Matrix } from './matrix.js';

export function checkGatherRows(bytes: Uint8Array, rows: ArrayLike<number>, out: Matrix): void {
  if (rows.length !== out.rows) throw new RangeError(`gatherBytesToFloats: ${rows.length} row indices for a ${out.rows}x${out.cols} matrix`);
  checkRowIndices('gatherBytesToFloats', bytes, rows, out.cols);
}

export function checkGatherSparseRows(bytes: Uint8Array, rows: ArrayLike<number>, out: SparseRows): void {
  if (rows.length > out.maxRows) throw new RangeError(`gatherSparseRows: ${rows.length} row indices for sparse rows with room for ${out.maxRows}`);
  checkRowIndices('gatherSparseRows', bytes, rows, out.cols);
}

function checkRowIndices(kernel: string, bytes: Uint8Array, rows: ArrayLike<number>, width: number): void {
  const count = width > 0 ? Math.floor(bytes.length / width) : Infinity;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!(Number.isInteger(row) && row >= 0 && row < count)) {
      throw new RangeError(`${kernel}: row index ${row} at ${i} is outside the ${count} rows of ${width} bytes given`);
    }
  }
}
