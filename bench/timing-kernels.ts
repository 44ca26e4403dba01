/**
 * @file A `Kernels` wrapper that times every kernel call: it forwards each call to the real
 * backend and adds the performance.now() delta to that method's total. It can also record the
 * matrix-multiply calls of a step (method, operands, sparse flag) so they can be replayed alone.
 */
import type { ActivationKind, BackendName, ByteBuffer, Kernels, SparseRows, ZeroSkipping } from '../src/core/kernels.js';
import type { Matrix } from '../src/core/matrix.js';
import type { Labels } from '../src/core/softmax-cross-entropy.js';

/** Every computing method of the Kernels interface (allocation is passed through untimed). */
export type KernelMethod = Exclude<keyof Kernels, 'name' | 'variant' | 'reserveMemory' | 'matrix' | 'firstRows' | 'byteBuffer' | 'sparseRows'>;
export type MatmulMethod = 'matmul' | 'matmulTransposeAAdd' | 'matmulTransposeB' | 'matmulSparseRows' | 'matmulTransposeAAddSparseRows';

export interface MatmulCall {
  method: MatmulMethod;
  /** A SparseRows for the *SparseRows methods, a Matrix for the others. */
  a: Matrix | SparseRows;
  b: Matrix;
  out: Matrix;
  aIsSparse: ZeroSkipping;
  /** matmulTransposeAAdd's scale (−lr when the call is the fused SGD update). */
  scale?: number;
  /** matmulTransposeB's output mask (the ReLU output below: dY·Wᵀ summed only where it is > 0). */
  outputMask?: Matrix;
}

export class TimingKernels implements Kernels {
  readonly name: BackendName;
  readonly variant: string;
  /** Accumulated wall time per method since the last reset. */
  readonly elapsedMs: Record<KernelMethod, number> = emptyTotals();
  readonly callCounts: Record<KernelMethod, number> = emptyTotals();
  /** When not null, matmul-family calls are appended here. */
  recordedMatmuls: MatmulCall[] | null = null;

  constructor(readonly inner: Kernels) {
    this.name = inner.name;
    this.variant = inner.variant;
  }

  reset(): void {
    for (const method of Object.keys(this.elapsedMs) as KernelMethod[]) {
      this.elapsedMs[method] = 0;
      this.callCounts[method] = 0;
    }
  }

  reserveMemory(bytes: number): void {
    this.inner.reserveMemory(bytes);
  }

  firstRows(matrix: Matrix, rows: number): Matrix {
    return this.inner.firstRows(matrix, rows);
  }

  matrix(rows: number, cols: number): Matrix {
    return this.inner.matrix(rows, cols);
  }

  byteBuffer(length: number): ByteBuffer {
    return this.inner.byteBuffer(length);
  }

  bytesToFloats(bytes: Uint8Array, scale: number, out: Matrix): void {
    const started = performance.now();
    this.inner.bytesToFloats(bytes, scale, out);
    this.add('bytesToFloats', started);
  }

  gatherBytesToFloats(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: Matrix): void {
    const started = performance.now();
    this.inner.gatherBytesToFloats(bytes, rows, scale, out);
    this.add('gatherBytesToFloats', started);
  }

  sparseRows(maxRows: number, cols: number): SparseRows {
    return this.inner.sparseRows(maxRows, cols);
  }

  packRows(x: Matrix, out: SparseRows): void {
    const started = performance.now();
    this.inner.packRows(x, out);
    this.add('packRows', started);
  }

  gatherSparseRows(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: SparseRows): void {
    const started = performance.now();
    this.inner.gatherSparseRows(bytes, rows, scale, out);
    this.add('gatherSparseRows', started);
  }

  unpackRows(a: SparseRows, out: Matrix): void {
    const started = performance.now();
    this.inner.unpackRows(a, out);
    this.add('unpackRows', started);
  }

  matmulSparseRows(a: SparseRows, b: Matrix, out: Matrix): void {
    this.recordedMatmuls?.push({ method: 'matmulSparseRows', a, b, out, aIsSparse: true });
    const started = performance.now();
    this.inner.matmulSparseRows(a, b, out);
    this.add('matmulSparseRows', started);
  }

  matmulTransposeAAddSparseRows(a: SparseRows, b: Matrix, out: Matrix, scale = 1, bZeros: ZeroSkipping = false): void {
    this.recordedMatmuls?.push({ method: 'matmulTransposeAAddSparseRows', a, b, out, aIsSparse: true, scale });
    const started = performance.now();
    this.inner.matmulTransposeAAddSparseRows(a, b, out, scale, bZeros);
    this.add('matmulTransposeAAddSparseRows', started);
  }

  matmul(a: Matrix, b: Matrix, out: Matrix, aIsSparse: ZeroSkipping = false): void {
    this.recordedMatmuls?.push({ method: 'matmul', a, b, out, aIsSparse });
    const started = performance.now();
    this.inner.matmul(a, b, out, aIsSparse);
    this.add('matmul', started);
  }

  matmulTransposeAAdd(a: Matrix, b: Matrix, out: Matrix, aIsSparse: ZeroSkipping = false, scale = 1, bZeros: ZeroSkipping = false): void {
    this.recordedMatmuls?.push({ method: 'matmulTransposeAAdd', a, b, out, aIsSparse, scale });
    const started = performance.now();
    this.inner.matmulTransposeAAdd(a, b, out, aIsSparse, scale, bZeros);
    this.add('matmulTransposeAAdd', started);
  }

  matmulTransposeB(a: Matrix, b: Matrix, out: Matrix, aZeros: ZeroSkipping = false, outputMask?: Matrix): void {
    this.recordedMatmuls?.push({ method: 'matmulTransposeB', a, b, out, aIsSparse: false, outputMask });
    const started = performance.now();
    this.inner.matmulTransposeB(a, b, out, aZeros, outputMask);
    this.add('matmulTransposeB', started);
  }

  addRowVector(x: Matrix, v: Matrix): void {
    const started = performance.now();
    this.inner.addRowVector(x, v);
    this.add('addRowVector', started);
  }

  addColumnSums(x: Matrix, out: Matrix): void {
    const started = performance.now();
    this.inner.addColumnSums(x, out);
    this.add('addColumnSums', started);
  }

  activationForward(kind: ActivationKind, x: Matrix, out: Matrix): void {
    const started = performance.now();
    this.inner.activationForward(kind, x, out);
    this.add('activationForward', started);
  }

  activationBackward(kind: ActivationKind, y: Matrix, dy: Matrix, dx: Matrix): void {
    const started = performance.now();
    this.inner.activationBackward(kind, y, dy, dx);
    this.add('activationBackward', started);
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
    const started = performance.now();
    this.inner.batchNormForwardTrain(x, eps, gamma, beta, mean, variance, invStd, xhat, y);
    this.add('batchNormForwardTrain', started);
  }

  batchNormBackward(dy: Matrix, xhat: Matrix, invStd: Matrix, gamma: Matrix | null, dx: Matrix, dGamma: Matrix | null, dBeta: Matrix | null): void {
    const started = performance.now();
    this.inner.batchNormBackward(dy, xhat, invStd, gamma, dx, dGamma, dBeta);
    this.add('batchNormBackward', started);
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
    const started = performance.now();
    this.inner.groupNormForward(x, groups, centered, eps, gamma, beta, invStd, xhat, y);
    this.add('groupNormForward', started);
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
    const started = performance.now();
    this.inner.groupNormBackward(dy, xhat, invStd, groups, centered, gamma, dx, dGamma, dBeta);
    this.add('groupNormBackward', started);
  }

  weightNormScale(v: Matrix, g: Matrix, norms: Matrix, scale: Matrix): void {
    const started = performance.now();
    this.inner.weightNormScale(v, g, norms, scale);
    this.add('weightNormScale', started);
  }

  weightNormBackward(dy: Matrix, t: Matrix, tMean: Matrix | null, norms: Matrix, scale: Matrix, g: Matrix, dt: Matrix, dg: Matrix, coefficient: Matrix): void {
    const started = performance.now();
    this.inner.weightNormBackward(dy, t, tMean, norms, scale, g, dt, dg, coefficient);
    this.add('weightNormBackward', started);
  }

  addScaledColumns(v: Matrix, coefficient: Matrix, factor: number, out: Matrix): void {
    const started = performance.now();
    this.inner.addScaledColumns(v, coefficient, factor, out);
    this.add('addScaledColumns', started);
  }

  scaleShiftColumns(x: Matrix, scale: Matrix, shift: Matrix, y: Matrix): void {
    const started = performance.now();
    this.inner.scaleShiftColumns(x, scale, shift, y);
    this.add('scaleShiftColumns', started);
  }

  sgdStep(param: Matrix, grad: Matrix, learningRate: number): void {
    const started = performance.now();
    this.inner.sgdStep(param, grad, learningRate);
    this.add('sgdStep', started);
  }

  softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number {
    const started = performance.now();
    const loss = this.inner.softmaxCrossEntropy(logits, labels, dLogits);
    this.add('softmaxCrossEntropy', started);
    return loss;
  }

  private add(method: KernelMethod, startedMs: number): void {
    this.elapsedMs[method] += performance.now() - startedMs;
    this.callCounts[method]++;
  }
}

function emptyTotals(): Record<KernelMethod, number> {
  return {
    matmul: 0,
    matmulTransposeAAdd: 0,
    matmulTransposeB: 0,
    addRowVector: 0,
    addColumnSums: 0,
    activationForward: 0,
    activationBackward: 0,
    batchNormForwardTrain: 0,
    batchNormBackward: 0,
    scaleShiftColumns: 0,
    groupNormForward: 0,
    groupNormBackward: 0,
    weightNormScale: 0,
    weightNormBackward: 0,
    addScaledColumns: 0,
    sgdStep: 0,
    bytesToFloats: 0,
    gatherBytesToFloats: 0,
    packRows: 0,
    gatherSparseRows: 0,
    unpackRows: 0,
    matmulSparseRows: 0,
    matmulTransposeAAddSparseRows: 0,
    softmaxCrossEntropy: 0,
  };
}

/** Dense-equivalent floating-point operations of one matmul-family call (2·m·k·n). */
export function matmulFlops(call: MatmulCall): number {
  const { a, b } = call;
  switch (call.method) {
    case 'matmul':
    case 'matmulSparseRows':
      return 2 * a.rows * a.cols * b.cols; // a[m,k]·b[k,n]
    case 'matmulTransposeAAdd':
    case 'matmulTransposeAAddSparseRows':
      return 2 * a.rows * a.cols * b.cols; // a[m,k]ᵀ·b[m,n]
    case 'matmulTransposeB':
      return 2 * a.rows * a.cols * b.rows; // a[m,n]·b[k,n]ᵀ
    default:
      return call.method satisfies never;
  }
}

/** e.g. "matmul [60x784]·[784x128] sparse". */
export function describeMatmul(call: MatmulCall): string {
  const { a, b } = call;
  const sparse = call.aIsSparse ? ' sparse' : '';
  switch (call.method) {
    case 'matmul':
      return `x·W    [${a.rows}x${a.cols}]·[${b.rows}x${b.cols}]${sparse}`;
    case 'matmulSparseRows':
      return `x·W    [${a.rows}x${a.cols}]·[${b.rows}x${b.cols}] packed`;
    case 'matmulTransposeAAdd':
      return `xᵀ·dY  [${a.cols}x${a.rows}]·[${b.rows}x${b.cols}]${sparse}`;
    case 'matmulTransposeAAddSparseRows':
      return `xᵀ·dY  [${a.cols}x${a.rows}]·[${b.rows}x${b.cols}] packed`;
    case 'matmulTransposeB':
      return `dY·Wᵀ  [${a.rows}x${a.cols}]·[${b.cols}x${b.rows}]${call.outputMask ? ' masked' : ''}`;
    default:
      return call.method satisfies never;
  }
}

/** Runs one recorded call again on the given backend. */
export function replayMatmul(kernels: Kernels, call: MatmulCall): void {
  switch (call.method) {
    case 'matmul':
      kernels.matmul(call.a as Matrix, call.b, call.out, call.aIsSparse);
      return;
    case 'matmulSparseRows':
      kernels.matmulSparseRows(call.a as SparseRows, call.b, call.out);
      return;
    case 'matmulTransposeAAdd':
      kernels.matmulTransposeAAdd(call.a as Matrix, call.b, call.out, call.aIsSparse, call.scale);
      return;
    case 'matmulTransposeAAddSparseRows':
      kernels.matmulTransposeAAddSparseRows(call.a as SparseRows, call.b, call.out, call.scale);
      return;
    case 'matmulTransposeB':
      kernels.matmulTransposeB(call.a as Matrix, call.b, call.out, false, call.outputMask);
      return;
    default:
      call.method satisfies never;
  }
}
