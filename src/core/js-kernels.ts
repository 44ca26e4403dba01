/**
 * @file The reference kernels in plain TypeScript: the readable definition of every kernel,
 * the test oracle for the WebAssembly backend, and the fallback where it does not validate.
 * With float64 buffers it is also the precise path for finite-difference gradient checks.
 */
import { checkGatherRows, checkGatherSparseRows } from './gather-rows.js';
import type { ActivationKind, ByteBuffer, Kernels, SparseRows, ZeroSkipping } from './kernels.js';
import { assertHasRows, type FloatArray, Matrix } from './matrix.js';
import { type Labels, softmaxCrossEntropy } from './softmax-cross-entropy.js';

export type Precision = 'float32' | 'float64';

export class JsKernels implements Kernels {
  readonly name = 'js' as const;
  readonly variant: Precision;

  constructor(precision: Precision = 'float32') {
    this.variant = precision;
  }

  reserveMemory(): void {
    // Plain arrays never move: nothing to reserve.
  }

  matrix(rows: number, cols: number): Matrix {
    return new Matrix(rows, cols, this.allocate(rows * cols));
  }

  firstRows(matrix: Matrix, rows: number): Matrix {
    assertHasRows(matrix, rows);
    return new Matrix(rows, matrix.cols, matrix.data.subarray(0, rows * matrix.cols));
  }

  private allocate(length: number): FloatArray {
    return this.variant === 'float64' ? new Float64Array(length) : new Float32Array(length);
  }

  byteBuffer(length: number): ByteBuffer {
    return { data: new Uint8Array(length) };
  }

  bytesToFloats(bytes: Uint8Array, scale: number, out: Matrix): void {
    if (bytes.length !== out.size) throw new RangeError(`bytesToFloats: ${bytes.length} bytes for a ${out.rows}x${out.cols} matrix`);
    const factor = Math.fround(scale),
      Y = out.data;
    // The double product of an 8-bit and a 24-bit integer significand is exact; fround rounds it once, as float32 arithmetic does.
    for (let i = 0; i < bytes.length; i++) Y[i] = Math.fround(bytes[i]! * factor);
  }

  gatherBytesToFloats(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: Matrix): void {
    checkGatherRows(bytes, rows, out);
    const factor = Math.fround(scale),
      width = out.cols,
      Y = out.data;
    for (let i = 0; i < rows.length; i++) {
      const from = rows[i]! * width,
        to = i * width;
      for (let j = 0; j < width; j++) Y[to + j] = Math.fround(bytes[from + j]! * factor); // as bytesToFloats
    }
  }

  sparseRows(maxRows: number, cols: number): SparseRows {
    return new JsSparseRows(this, maxRows, cols, this.allocate(maxRows * cols));
  }

  packRows(x: Matrix, out: SparseRows): void {
    const rows = this.own(out, 'packRows');
    if (x.cols !== rows.cols || x.rows > rows.maxRows)
      throw new RangeError(`packRows: a ${x.rows}x${x.cols} matrix into sparse rows of ${rows.maxRows}x${rows.cols}`);
    const X = x.data,
      k = x.cols;
    let e = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let p = 0; p < k; p++) {
        const value = X[i * k + p]!;
        if (value === 0) continue; // NaN is kept, as the products multiply it
        rows.indices[e] = p;
        rows.values[e++] = value;
      }
      rows.rowStart[i + 1] = e;
    }
    rows.fill(x.rows, e);
  }

  gatherSparseRows(bytes: Uint8Array, picked: ArrayLike<number>, scale: number, out: SparseRows): void {
    const rows = this.own(out, 'gatherSparseRows');
    checkGatherSparseRows(bytes, picked, rows);
    const factor = Math.fround(scale),
      width = rows.cols;
    let e = 0;
    for (let i = 0; i < picked.length; i++) {
      const from = picked[i]! * width;
      for (let p = 0; p < width; p++) {
        const value = Math.fround(bytes[from + p]! * factor); // as bytesToFloats
        if (value === 0) continue;
        rows.indices[e] = p;
        rows.values[e++] = value;
      }
      rows.rowStart[i + 1] = e;
    }
    rows.fill(picked.length, e);
  }

  unpackRows(a: SparseRows, out: Matrix): void {
    const rows = this.own(a, 'unpackRows');
    checkShapes('unpackRows', out.rows === rows.rows && out.cols === rows.cols, rows, out);
    const O = out.data;
    O.fill(0);
    for (let i = 0; i < rows.rows; i++) {
      for (let e = rows.rowStart[i]!; e < rows.rowStart[i + 1]!; e++) O[i * rows.cols + rows.indices[e]!] = rows.values[e]!;
    }
  }

  // The same loops as matmul and matmulTransposeAAdd, over the nonzeros only: the same sums in the same order.
  matmulSparseRows(a: SparseRows, b: Matrix, out: Matrix): void {
    const rows = this.own(a, 'matmulSparseRows');
    checkShapes('matmulSparseRows', rows.cols === b.rows && out.rows === rows.rows && out.cols === b.cols, rows, b, out);
    const n = b.cols,
      B = b.data,
      C = out.data;
    C.fill(0);
    for (let i = 0; i < rows.rows; i++) {
      const cRow = i * n;
      for (let e = rows.rowStart[i]!; e < rows.rowStart[i + 1]!; e++) {
        const aip = rows.values[e]!,
          bRow = rows.indices[e]! * n;
        for (let j = 0; j < n; j++) C[cRow + j] += aip * B[bRow + j]!;
      }
    }
  }

  matmulTransposeAAddSparseRows(a: SparseRows, b: Matrix, out: Matrix, scale = 1, _bZeros: ZeroSkipping = false): void {
    const rows = this.own(a, 'matmulTransposeAAddSparseRows');
    checkShapes('matmulTransposeAAddSparseRows', rows.rows === b.rows && out.rows === rows.cols && out.cols === b.cols, rows, b, out);
    const n = b.cols,
      B = b.data;
    const C = scale === 1 ? out.data : this.zeroedScratch(out.size);
    for (let i = 0; i < rows.rows; i++) {
      const bRow = i * n;
      for (let e = rows.rowStart[i]!; e < rows.rowStart[i + 1]!; e++) {
        const aip = rows.values[e]!,
          cRow = rows.indices[e]! * n;
        for (let j = 0; j < n; j++) C[cRow + j] += aip * B[bRow + j]!;
      }
    }
    if (scale !== 1) addScaled(out.data, C, scale);
  }

  /** `a` as this backend's own sparse rows. */
  private own(a: SparseRows, kernel: string): JsSparseRows {
    if (!(a instanceof JsSparseRows && a.owner === this)) throw new RangeError(`${kernel}: the sparse rows were made by another backend`);
    return a;
  }

  // i-k-j order: the inner loop walks rows of b and out contiguously; a zero a[i,k] skips a row.
  matmul(a: Matrix, b: Matrix, out: Matrix): void {
    checkShapes('matmul', a.cols === b.rows && out.rows === a.rows && out.cols === b.cols, a, b, out);
    const m = a.rows,
      k = a.cols,
      n = b.cols;
    const A = a.data,
      B = b.data,
      C = out.data;
    C.fill(0);
    for (let i = 0; i < m; i++) {
      const cRow = i * n;
      for (let p = 0; p < k; p++) {
        const aip = A[i * k + p]!;
        if (aip === 0) continue;
        const bRow = p * n;
        for (let j = 0; j < n; j++) C[cRow + j] += aip * B[bRow + j]!;
      }
    }
  }

  matmulTransposeAAdd(a: Matrix, b: Matrix, out: Matrix, _aIsSparse = false, scale = 1): void {
    checkShapes('matmulTransposeAAdd', a.rows === b.rows && out.rows === a.cols && out.cols === b.cols, a, b, out);
    const m = a.rows,
      k = a.cols,
      n = b.cols;
    const A = a.data,
      B = b.data;
    // Scaled, the product is summed in full first (in a scratch buffer), so that out + scale·Σ
    // rounds exactly as a gradient buffer followed by sgdStep does.
    const C = scale === 1 ? out.data : this.zeroedScratch(out.size);
    for (let i = 0; i < m; i++) {
      const bRow = i * n;
      for (let p = 0; p < k; p++) {
        const aip = A[i * k + p]!;
        if (aip === 0) continue;
        const cRow = p * n;
        for (let j = 0; j < n; j++) C[cRow + j] += aip * B[bRow + j]!;
      }
    }
    if (scale !== 1) addScaled(out.data, C, scale);
  }

  private scratch: FloatArray | null = null;

  private zeroedScratch(length: number): FloatArray {
    if (!this.scratch || this.scratch.length < length) this.scratch = this.allocate(length);
    const view = this.scratch.subarray(0, length);
    view.fill(0);
    return view;
  }

  matmulTransposeB(a: Matrix, b: Matrix, out: Matrix, _aZeros?: ZeroSkipping, outputMask?: Matrix): void {
    checkShapes('matmulTransposeB', a.cols === b.cols && out.rows === a.rows && out.cols === b.rows, a, b, out);
    if (outputMask) checkShapes('matmulTransposeB', outputMask.rows === out.rows && outputMask.cols === out.cols, a, b, out, outputMask);
    const m = a.rows,
      n = a.cols,
      k = b.rows;
    const A = a.data,
      B = b.data,
      C = out.data,
      mask = outputMask?.data;
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        if (mask && !(mask[i * k + p]! > 0)) {
          C[i * k + p] = 0;
          continue;
        }
        let sum = 0;
        for (let j = 0; j < n; j++) sum += A[i * n + j]! * B[p * n + j]!;
        C[i * k + p] = sum;
      }
    }
  }

  addRowVector(x: Matrix, v: Matrix): void {
    checkShapes('addRowVector', v.rows === 1 && v.cols === x.cols, x, v);
    const X = x.data,
      V = v.data,
      n = x.cols;
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < n; j++) X[i * n + j] += V[j]!;
  }

  addColumnSums(x: Matrix, out: Matrix): void {
    checkShapes('addColumnSums', out.rows === 1 && out.cols === x.cols, x, out);
    const X = x.data,
      O = out.data,
      n = x.cols;
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < n; j++) O[j] += X[i * n + j]!;
  }

  activationForward(kind: ActivationKind, x: Matrix, out: Matrix): void {
    checkShapes('activationForward', x.size === out.size, x, out);
    const X = x.data,
      Y = out.data,
      size = x.size;
    switch (kind) {
      case 'relu':
        // Not Math.max(x, 0): NaN must become 0 here as in the wasm kernel (x > 0 is false), and −0 must stay 0.
        // biome-ignore lint/complexity/useMathMinMax: the comparison is the semantics, as above
        for (let i = 0; i < size; i++) Y[i] = X[i]! > 0 ? X[i]! : 0;
        return;
      case 'sigmoid':
        for (let i = 0; i < size; i++) Y[i] = sigmoid(X[i]!);
        return;
      case 'tanh':
        for (let i = 0; i < size; i++) Y[i] = Math.tanh(X[i]!);
        return;
      case 'identity':
        if (X !== Y) Y.set(X);
        return;
      default:
        kind satisfies never;
        throw new Error(`unknown activation ${String(kind)}`);
    }
  }

  activationBackward(kind: ActivationKind, y: Matrix, dy: Matrix, dx: Matrix): void {
    checkShapes('activationBackward', y.size === dy.size && dy.size === dx.size, y, dy, dx);
    const Y = y.data,
      G = dy.data,
      D = dx.data,
      size = y.size;
    switch (kind) {
      case 'relu': // f'(x) = 1 where y > 0
        for (let i = 0; i < size; i++) D[i] = Y[i]! > 0 ? G[i]! : 0;
        return;
      case 'sigmoid': // f'(x) = y(1 − y)
        for (let i = 0; i < size; i++) D[i] = G[i]! * Y[i]! * (1 - Y[i]!);
        return;
      case 'tanh': // f'(x) = 1 − y²
        for (let i = 0; i < size; i++) D[i] = G[i]! * (1 - Y[i]! * Y[i]!);
        return;
      case 'identity':
        if (G !== D) D.set(G);
        return;
      default:
        kind satisfies never;
        throw new Error(`unknown activation ${String(kind)}`);
    }
  }

  batchNormForwardTrain(
    x: Matrix,
    eps: number,
    gamma: Matrix | null,
    beta: Matrix | null,
    mean: Matrix,
    variance: Matrix,
    invStd: Matrix,
    xhat: Matrix,
    y: Matrix,
  ): void {
    const m = x.rows,
      n = x.cols;
    checkShapes(
      'batchNormForwardTrain',
      mean.size === n && variance.size === n && invStd.size === n && xhat.size === x.size && y.size === x.size,
      x,
      mean,
      variance,
      invStd,
      xhat,
      y,
    );
    const X = x.data,
      M = mean.data,
      V = variance.data,
      S = invStd.data,
      H = xhat.data,
      Y = y.data;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < m; i++) sum += X[i * n + j]!;
      const mu = sum / m;
      let squares = 0;
      for (let i = 0; i < m; i++) {
        const centred = X[i * n + j]! - mu;
        squares += centred * centred;
      }
      const sigma2 = squares / m; // biased: divides by m, as the paper's training mode does
      const inv = 1 / Math.sqrt(sigma2 + eps);
      M[j] = mu;
      V[j] = sigma2;
      S[j] = inv;
      const g = gamma ? gamma.data[j]! : 1;
      const b = beta ? beta.data[j]! : 0;
      for (let i = 0; i < m; i++) {
        const h = (X[i * n + j]! - mu) * inv;
        H[i * n + j] = h;
        Y[i * n + j] = g * h + b;
      }
    }
  }

  batchNormBackward(dy: Matrix, xhat: Matrix, invStd: Matrix, gamma: Matrix | null, dx: Matrix, dGamma: Matrix | null, dBeta: Matrix | null): void {
    const m = dy.rows,
      n = dy.cols;
    checkShapes('batchNormBackward', xhat.size === dy.size && dx.size === dy.size && invStd.size === n, dy, xhat, invStd, dx);
    const G = dy.data,
      H = xhat.data,
      S = invStd.data,
      D = dx.data;
    for (let j = 0; j < n; j++) {
      let sumDy = 0,
        sumDyXhat = 0;
      for (let i = 0; i < m; i++) {
        sumDy += G[i * n + j]!;
        sumDyXhat += G[i * n + j]! * H[i * n + j]!;
      }
      if (dGamma) dGamma.data[j] += sumDyXhat;
      if (dBeta) dBeta.data[j] += sumDy;
      // With g = dy·γ: Σg = γΣdy and Σg·x̂ = γΣdy·x̂, so γ factors out of the bracket.
      const scale = ((gamma ? gamma.data[j]! : 1) * S[j]!) / m;
      for (let i = 0; i < m; i++) {
        D[i * n + j] = scale * (m * G[i * n + j]! - sumDy - H[i * n + j]! * sumDyXhat);
      }
    }
  }

  groupNormForward(
    x: Matrix,
    groups: number,
    centered: boolean,
    eps: number,
    gamma: Matrix | null,
    beta: Matrix | null,
    invStd: Matrix,
    xhat: Matrix,
    y: Matrix,
  ): void {
    const m = x.rows,
      n = x.cols,
      s = n / groups;
    checkShapes(
      'groupNormForward',
      Number.isInteger(s) &&
        invStd.rows === m &&
        invStd.cols === groups &&
        xhat.size === x.size &&
        y.size === x.size &&
        (gamma === null || gamma.size === n) &&
        (beta === null || beta.size === n),
      x,
      invStd,
      xhat,
      y,
    );
    const X = x.data,
      S = invStd.data,
      H = xhat.data,
      Y = y.data;
    const G = gamma?.data ?? null,
      B = beta?.data ?? null;
    for (let i = 0; i < m; i++) {
      for (let g = 0; g < groups; g++) {
        const start = i * n + g * s,
          end = start + s;
        let mu = 0;
        if (centered) {
          let sum = 0;
          for (let k = start; k < end; k++) sum += X[k]!;
          mu = sum / s;
        }
        let squares = 0;
        for (let k = start; k < end; k++) {
          const centred = X[k]! - mu;
          squares += centred * centred;
        }
        const inv = 1 / Math.sqrt(squares / s + eps);
        S[i * groups + g] = inv;
        for (let k = start, j = g * s; k < end; k++, j++) {
          const h = (X[k]! - mu) * inv;
          H[k] = h;
          Y[k] = (G ? G[j]! : 1) * h + (B ? B[j]! : 0);
        }
      }
    }
  }

  groupNormBackward(
    dy: Matrix,
    xhat: Matrix,
    invStd: Matrix,
    groups: number,
    centered: boolean,
    gamma: Matrix | null,
    dx: Matrix,
    dGamma: Matrix | null,
    dBeta: Matrix | null,
  ): void {
    const m = dy.rows,
      n = dy.cols,
      s = n / groups;
    checkShapes(
      'groupNormBackward',
      Number.isInteger(s) &&
        xhat.size === dy.size &&
        dx.size === dy.size &&
        invStd.rows === m &&
        invStd.cols === groups &&
        (gamma === null || gamma.size === n),
      dy,
      xhat,
      invStd,
      dx,
    );
    const D = dy.data,
      H = xhat.data,
      S = invStd.data,
      DX = dx.data;
    const G = gamma?.data ?? null,
      DG = dGamma?.data ?? null,
      DB = dBeta?.data ?? null;
    for (let i = 0; i < m; i++) {
      for (let g = 0; g < groups; g++) {
        const start = i * n + g * s,
          end = start + s;
        let sumG = 0,
          sumGXhat = 0;
        for (let k = start, j = g * s; k < end; k++, j++) {
          const grad = D[k]! * (G ? G[j]! : 1);
          sumG += grad;
          sumGXhat += grad * H[k]!;
          if (DG) DG[j] += D[k]! * H[k]!;
          if (DB) DB[j] += D[k]!;
        }
        if (!centered) sumG = 0;
        const scale = S[i * groups + g]! / s;
        for (let k = start, j = g * s; k < end; k++, j++) {
          DX[k] = scale * (s * D[k]! * (G ? G[j]! : 1) - sumG - H[k]! * sumGXhat);
        }
      }
    }
  }

  weightNormScale(v: Matrix, g: Matrix, norms: Matrix, scale: Matrix): void {
    const k = v.rows,
      n = v.cols;
    checkShapes('weightNormScale', g.size === n && norms.size === n && scale.size === n, v, g, norms, scale);
    const V = v.data,
      G = g.data,
      N = norms.data,
      S = scale.data;
    for (let j = 0; j < n; j++) {
      let squares = 0;
      for (let i = 0; i < k; i++) squares += V[i * n + j]! * V[i * n + j]!;
      N[j] = Math.sqrt(squares);
      S[j] = G[j]! / N[j]!; // from the stored norm: g = norms gives exactly 1
    }
  }

  weightNormBackward(dy: Matrix, t: Matrix, tMean: Matrix | null, norms: Matrix, scale: Matrix, g: Matrix, dt: Matrix, dg: Matrix, coefficient: Matrix): void {
    const m = dy.rows,
      n = dy.cols;
    checkShapes(
      'weightNormBackward',
      t.size === dy.size &&
        dt.size === dy.size &&
        norms.size === n &&
        scale.size === n &&
        g.size === n &&
        dg.size === n &&
        coefficient.size === n &&
        (tMean === null || tMean.size === n),
      dy,
      t,
      norms,
      scale,
      g,
      dt,
      dg,
      coefficient,
    );
    const D = dy.data,
      T = t.data,
      N = norms.data,
      S = scale.data,
      G = g.data,
      DT = dt.data,
      DG = dg.data,
      C = coefficient.data;
    const M = tMean?.data ?? null;
    for (let j = 0; j < n; j++) {
      const mu = M ? M[j]! : 0;
      let sumDy = 0,
        sumDyT = 0;
      for (let i = 0; i < m; i++) {
        sumDy += D[i * n + j]!;
        sumDyT += D[i * n + j]! * (T[i * n + j]! - mu);
      }
      const meanDy = M ? sumDy / m : 0;
      const grad = sumDyT / N[j]!;
      DG[j] = grad;
      C[j] = (G[j]! * DG[j]!) / (N[j]! * N[j]!);
      for (let i = 0; i < m; i++) DT[i * n + j] = S[j]! * (D[i * n + j]! - meanDy);
    }
  }

  addScaledColumns(v: Matrix, coefficient: Matrix, factor: number, out: Matrix): void {
    const n = v.cols;
    checkShapes('addScaledColumns', coefficient.size === n && out.rows === v.rows && out.cols === n, v, coefficient, out);
    const V = v.data,
      C = coefficient.data,
      O = out.data;
    for (let i = 0; i < v.rows; i++) for (let j = 0; j < n; j++) O[i * n + j] += factor * C[j]! * V[i * n + j]!;
  }

  scaleShiftColumns(x: Matrix, scale: Matrix, shift: Matrix, y: Matrix): void {
    const n = x.cols;
    checkShapes('scaleShiftColumns', scale.size === n && shift.size === n && y.size === x.size, x, scale, shift, y);
    const X = x.data,
      A = scale.data,
      B = shift.data,
      Y = y.data;
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < n; j++) Y[i * n + j] = X[i * n + j]! * A[j]! + B[j]!;
  }

  sgdStep(param: Matrix, grad: Matrix, learningRate: number): void {
    checkShapes('sgdStep', param.size === grad.size, param, grad);
    const P = param.data,
      G = grad.data;
    for (let i = 0; i < P.length; i++) P[i] -= learningRate * G[i]!;
  }

  softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number {
    if (dLogits) checkShapes('softmaxCrossEntropy', dLogits.rows === logits.rows && dLogits.cols === logits.cols, logits, dLogits);
    return softmaxCrossEntropy(logits, labels, dLogits);
  }
}

/** The logistic function, written so that neither branch overflows exp for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** out += scale·sums: a scaled product added once it is summed in full, as a gradient buffer and then sgdStep would. */
function addScaled(out: FloatArray, sums: FloatArray, scale: number): void {
  for (let i = 0; i < out.length; i++) out[i] += scale * sums[i]!;
}

function checkShapes(kernel: string, ok: boolean, ...matrices: Array<Pick<Matrix, 'rows' | 'cols'>>): void {
  if (!ok) throw new RangeError(`${kernel}: incompatible shapes ${matrices.map((m) => `${m.rows}x${m.cols}`).join(', ')}`);
}

/** Sparse rows on the JavaScript heap: rowStart [maxRows + 1], then each entry's column and value. */
class JsSparseRows implements SparseRows {
  rows = 0;
  entries = 0;
  readonly rowStart: Uint32Array;
  readonly indices: Uint32Array;

  constructor(
    readonly owner: JsKernels,
    readonly maxRows: number,
    readonly cols: number,
    readonly values: FloatArray,
  ) {
    if (!Number.isInteger(maxRows) || !Number.isInteger(cols) || maxRows < 0 || cols < 0) {
      throw new RangeError(`sparse rows need whole, non-negative dimensions, got ${maxRows}x${cols}`);
    }
    this.rowStart = new Uint32Array(maxRows + 1);
    this.indices = new Uint32Array(maxRows * cols);
  }

  fill(rows: number, entries: number): void {
    this.rows = rows;
    this.entries = entries;
  }
}
