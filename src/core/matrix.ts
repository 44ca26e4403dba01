/**
 * @file Matrix: a shape over a flat row-major float buffer. Nothing more, so that a
 * WebAssembly backend can hand out views on its own memory and every kernel can work on them.
 */

/** The element buffers bnlab computes in: float32 everywhere, float64 in the reference backend's gradient checks. */
export type FloatArray = Float32Array | Float64Array;

export class Matrix {
  /**
   * @param rows number of rows (the batch dimension for activations, `in` for weights)
   * @param cols number of columns (features for activations, `out` for weights)
   * @param data row-major buffer of exactly rows*cols elements; element (i, j) is data[i*cols + j].
   *   Mutable on purpose: a backend whose memory grows rebinds it.
   */
  constructor(
    readonly rows: number,
    readonly cols: number,
    public data: FloatArray,
  ) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new RangeError(`a matrix needs whole, non-negative dimensions, got ${rows}x${cols}`);
    }
    if (data.length !== rows * cols) {
      throw new RangeError(`a ${rows}x${cols} matrix needs ${rows * cols} elements, got ${data.length}`);
    }
  }

  get size(): number {
    return this.rows * this.cols;
  }

  get(row: number, col: number): number {
    return this.data[row * this.cols + col]!;
  }

  set(row: number, col: number, value: number): void {
    this.data[row * this.cols + col] = value;
  }

  /** A plain float32 matrix, outside any backend's memory (for tests and small data). */
  static from(rows: number, cols: number, values: ArrayLike<number>): Matrix {
    return new Matrix(rows, cols, Float32Array.from(values));
  }

  /** Copies every element of `source` (same shape) into this matrix. */
  copyFrom(source: Matrix): this {
    assertSameShape(this, source, 'copyFrom');
    this.data.set(source.data);
    return this;
  }

  /** The rows as nested arrays, for printing and tests. */
  toArrays(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    return out;
  }
}

export function assertSameShape(a: Matrix, b: Matrix, where: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`${where}: shapes differ, ${a.rows}x${a.cols} vs ${b.rows}x${b.cols}`);
  }
}

/** Checks that `matrix` has at least `rows` rows (a whole number), for a view of its first rows. */
export function assertHasRows(matrix: Matrix, rows: number): void {
  if (!Number.isInteger(rows) || rows < 0 || rows > matrix.rows) {
    throw new RangeError(`a view of the first ${rows} rows of a ${matrix.rows}x${matrix.cols} matrix does not fit in it`);
  }
}
