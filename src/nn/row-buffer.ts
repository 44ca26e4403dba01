/**
 * @file A layer's activation buffer, allocated once for the largest batch its network runs: a
 * batch of m rows uses the first m rows (a view made once per batch size, on the same memory).
 */
import type { Kernels } from '../core/kernels.js';
import type { Matrix } from '../core/matrix.js';

export class RowBuffer {
  private readonly full: Matrix; // [maxRows, cols]
  private readonly views = new Map<number, Matrix>();
  private lastRows = -1;
  private lastView: Matrix | null = null;

  constructor(
    private readonly kernels: Kernels,
    readonly maxRows: number,
    readonly cols: number,
  ) {
    this.full = kernels.matrix(maxRows, cols);
  }

  /** The first `rows` rows, [rows, cols]. */
  rows(rows: number): Matrix {
    if (rows === this.lastRows) return this.lastView!;
    if (rows > this.maxRows) throw new RangeError(`a batch of ${rows} rows does not fit in buffers sized for ${this.maxRows}`);
    let view = this.views.get(rows);
    if (!view) {
      view = rows === this.maxRows ? this.full : this.kernels.firstRows(this.full, rows);
      this.views.set(rows, view);
    }
    this.lastRows = rows;
    this.lastView = view;
    return view;
  }
}

/** A layer's buffer, which its `allocate` must have made. */
export function allocated(buffer: RowBuffer | null): RowBuffer {
  if (!buffer) throw new Error('the layer has no buffers yet: call allocate(maxRows, …) before forward');
  return buffer;
}
