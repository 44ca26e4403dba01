/**
 * @file The kernel interface: every floating-point loop a training step runs, behind one small
 * surface. `js-kernels.ts` is the readable reference; the WebAssembly SIMD backend implements the
 * same contract and is tested against it. Layers in nn/ call only these functions on Matrices
 * that the same backend allocated.
 *
 * Shapes in comments are [rows, cols]; m = batch, k = inputs, n = outputs. "Add" in a name means
 * the kernel accumulates into `out` (gradients), otherwise it overwrites.
 */
import type { Matrix } from './matrix.js';
import type { Labels } from './softmax-cross-entropy.js';

export type BackendName = 'js' | 'wasm';

/**
 * Bytes in a backend's memory (a batch of raw pixels). Like `Matrix.data`, `data` is rebound when
 * that memory grows: read it at each use rather than keeping the array.
 */
export interface ByteBuffer {
  data: Uint8Array;
}
/**
 * A batch of rows kept as their nonzeros only (compressed sparse rows), in a backend's memory: a
 * training batch of MNIST pixels (81% zeros) drawn straight into this form (`gatherSparseRows`),
 * so that both products of the first layer, x·W and xᵀ·dY, read its nonzeros instead of finding
 * them again each. Made by `sparseRows`, filled by `packRows` or `gatherSparseRows`.
 */
export interface SparseRows {
  /** Rows it has room for. */
  readonly maxRows: number;
  /** Columns of every row (a network's input width). */
  readonly cols: number;
  /** Rows it holds now (0 until filled). */
  readonly rows: number;
  /** Nonzero entries it holds now. */
  readonly entries: number;
}

/** A batch as a network takes it: floats, or the nonzeros of mostly-zero floats. */
export type InputRows = Matrix | SparseRows;

/** Bytes of a backend's memory that `sparseRows(maxRows, cols)` takes at most, and the products on it use as scratch. */
export function sparseRowsBytes(maxRows: number, cols: number): number {
  const entries = maxRows * cols + 4;
  return 4 * (maxRows + 1) + 8 * entries + 2 * 64 + 4 * (cols + 4) + 8 * entries;
}

export type ActivationKind = 'relu' | 'sigmoid' | 'tanh' | 'identity';

/**
 * What a product does with the zeros of its left factor: multiply them (false); skip them (true:
 * raw MNIST pixels, 81% zeros); or count them first and skip them only where that is faster
 * ('measure': ReLU outputs, 30-100% zeros depending on the network, chosen per call). Skipping
 * never changes a result: a skipped term would have added a zero product to a sum kept in the
 * same order (see each backend for the one exception: a zero against an infinite weight).
 */
export type ZeroSkipping = boolean | 'measure';

export interface Kernels {
  readonly name: BackendName;
  /** What this instance runs on, e.g. "float32", "float64", "wasm simd128", "wasm relaxed-simd". */
  readonly variant: string;

  /**
   * Makes room now for `bytes` more of this backend's memory, so that allocations and kernel
   * calls within them never grow it later: growing wasm memory detaches every array a caller
   * holds (a Matrix is rebound, a `const data = matrix.data` kept aside is not). A network calls
   * it once, sized from its spec and its largest batch, before it allocates (js: nothing to do).
   */
  reserveMemory(bytes: number): void;
  /** A zeroed [rows, cols] matrix in this backend's memory; its `data` is rebound if memory grows. */
  matrix(rows: number, cols: number): Matrix;
  /**
   * The first `rows` rows of `matrix` (one this backend allocated), sharing its memory and rebound
   * with it: a buffer sized for the largest batch serves every smaller one without allocating.
   */
  firstRows(matrix: Matrix, rows: number): Matrix;
  /** `length` zeroed bytes in this backend's memory, for inputs stored as bytes (MNIST pixels). */
  byteBuffer(length: number): ByteBuffer;

  /**
   * out[i] = f32(bytes[i]) · f32(scale), one float32 rounding of the product (TensorFlow's pixel
   * scaling, `images.astype(float32) * float32(1/255)`), over bytes[length] and out of the same
   * size. `bytes` may live anywhere; from a `byteBuffer` of this backend it is not copied first.
   */
  bytesToFloats(bytes: Uint8Array, scale: number, out: Matrix): void;
  /**
   * out[i, :] = bytesToFloats of row rows[i] of `bytes` read as rows of out.cols bytes: a batch
   * picked by example index from a dataset, converted in one call, the same floats as copying the
   * rows together and calling bytesToFloats. Meant for a dataset kept in this backend's memory (a
   * `byteBuffer`; data/resident-pixels.ts), read in place; from bytes elsewhere the wasm backend
   * copies in just the picked rows. Every index must be a whole number below bytes.length / out.cols.
   */
  gatherBytesToFloats(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: Matrix): void;

  /** An empty SparseRows with room for `maxRows` rows of `cols` columns, in this backend's memory. */
  sparseRows(maxRows: number, cols: number): SparseRows;
  /** out = the nonzeros of x (NaN counts as nonzero), in column order within each row. */
  packRows(x: Matrix, out: SparseRows): void;
  /**
   * out = the nonzeros of what gatherBytesToFloats(bytes, rows, scale, ·) would write (rows.length
   * rows of out.cols bytes), packed straight from the bytes, without those floats in between.
   */
  gatherSparseRows(bytes: Uint8Array, rows: ArrayLike<number>, scale: number, out: SparseRows): void;
  /** out = the rows of a as a dense [a.rows, a.cols] matrix, zeros filled in (for tests and inspection). */
  unpackRows(a: SparseRows, out: Matrix): void;

  /** out[m,n] = a[m,k] · b[k,n]: forward x·W, skipping the zeros of a as `aZeros` says (default: multiply them). */
  matmul(a: Matrix, b: Matrix, out: Matrix, aZeros?: ZeroSkipping): void;
  /**
   * out[k,n] += scale · (a[m,k]ᵀ · b[m,n]): the weight gradient xᵀ·dY (scale 1, the default), or
   * with out = W and scale = −lr the SGD update W −= lr·xᵀ·dY itself, without a gradient buffer.
   * The product is summed in full before it is scaled, so W + (−lr)·g rounds as W − lr·g does.
   * With `bZeros` 'measure', a b of zeros only (a dead ReLU layer's dY) leaves out as it is.
   */
  matmulTransposeAAdd(a: Matrix, b: Matrix, out: Matrix, aZeros?: ZeroSkipping, scale?: number, bZeros?: ZeroSkipping): void;
  /**
   * out[m,k] = a[m,n] · b[k,n]ᵀ: input gradient dY·Wᵀ. With `aZeros` 'measure', an a of zeros only
   * (the gradient of a dead ReLU layer) gives zeros without multiplying. With `outputMask` [m,k]
   * (the output y of the ReLU below), out only where y > 0 and +0 elsewhere, which is what that
   * ReLU's backward makes of the whole product: the kept outputs have the bits of the whole one
   * (out may not alias outputMask).
   */
  matmulTransposeB(a: Matrix, b: Matrix, out: Matrix, aZeros?: ZeroSkipping, outputMask?: Matrix): void;

  /** matmul(x, b, out, true) for x the dense form of a: the same bits, from the nonzeros already packed. */
  matmulSparseRows(a: SparseRows, b: Matrix, out: Matrix): void;
  /** matmulTransposeAAdd(x, b, out, true, scale, bZeros) for x the dense form of a: the same bits. */
  matmulTransposeAAddSparseRows(a: SparseRows, b: Matrix, out: Matrix, scale?: number, bZeros?: ZeroSkipping): void;

  /** x[i,:] += v[1,n] for every row i: adding a bias. */
  addRowVector(x: Matrix, v: Matrix): void;
  /** out[1,n] += Σ_i x[i,:]: the bias gradient. */
  addColumnSums(x: Matrix, out: Matrix): void;

  /** out = f(x) element-wise (may alias x). */
  activationForward(kind: ActivationKind, x: Matrix, out: Matrix): void;
  /** dx = dy ⊙ f'(x), with f' written through the forward output y = f(x) (dx may alias dy). */
  activationBackward(kind: ActivationKind, y: Matrix, dy: Matrix, dx: Matrix): void;

  /**
   * BatchNorm in training mode, per column j over the m rows of x[m,n]:
   * mean[j] = Σx/m; variance[j] = Σ(x−mean)²/m (biased); invStd[j] = 1/√(variance+eps);
   * xhat = (x−mean)·invStd; y = gamma·xhat + beta (gamma, beta null = 1 and 0).
   */
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
  ): void;
  /**
   * The full BatchNorm backward, through mean and variance (not the shortcut that treats them
   * as constants). With g = dy·gamma:
   * dx = invStd/m · (m·g − Σg − xhat·Σ(g·xhat)); dGamma += Σ dy·xhat; dBeta += Σ dy.
   */
  batchNormBackward(dy: Matrix, xhat: Matrix, invStd: Matrix, gamma: Matrix | null, dx: Matrix, dGamma: Matrix | null, dBeta: Matrix | null): void;
  /**
   * Group Norm (Wu & He 2018) and its special cases, per example: each row i of x[m,n] in `groups`
   * consecutive groups of s = n/groups units, each with its own mean μ (0 when not `centered`),
   * σ² = Σ(x−μ)²/s (the mean square when not centered), invStd[i,g] = 1/√(σ² + eps) into
   * invStd[m, groups], xhat = (x−μ)·invStd and y = gamma[j]·xhat + beta[j] (null: 1 and 0).
   * Layer Norm is one centered group; RMSNorm one uncentered group without beta.
   */
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
  ): void;
  /**
   * Its full backward, through each example's μ and σ². With g = dy·gamma (γ varies along the
   * normalized units, so unlike BatchNorm it does not factor out), per row and group of s units:
   * dx = invStd/s · (s·g − Σg − xhat·Σ(g·xhat)), without the Σg term when not centered.
   * dGamma[j] += Σ_i dy·xhat; dBeta[j] += Σ_i dy.
   */
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
  ): void;
  /**
   * Weight Norm's per-unit factor (Salimans & Kingma 2016, w = g·v/‖v‖ per column of v[k,n]):
   * norms[j] = ‖v[:,j]‖ (rounded to the backend's float, so that g = norms gives scale exactly 1)
   * and scale[j] = g[j]/norms[j]. The layer computes y = scale·(x·v) + b, never w itself.
   */
  weightNormScale(v: Matrix, g: Matrix, norms: Matrix, scale: Matrix): void;
  /**
   * Weight Norm's backward through y = scale·(t − tMean) + b, t = x·v[m,n] (tMean null: 0; given,
   * the mean-only BN's batch mean of t, whose gradient flows as BN's mean does). With
   * dy' = dy − Σ_i dy/m when tMean is given (else dy):
   * dg[j] = Σ_i dy[i,j]·(t[i,j] − tMean[j]) / norms[j] (overwritten; = Σ_k ∇w[k,j]·v[k,j]/‖v_j‖ as
   * ∇w = xᵀ·dy'), dt[i,j] = scale[j]·dy'[i,j] (so ∇v = xᵀ·dt − coefficient·v and dx = dt·vᵀ) and
   * coefficient[j] = g[j]·dg[j]/norms[j]²: ∇v = g/‖v‖·∇w − g·∇g/‖v‖²·v.
   */
  weightNormBackward(dy: Matrix, t: Matrix, tMean: Matrix | null, norms: Matrix, scale: Matrix, g: Matrix, dt: Matrix, dg: Matrix, coefficient: Matrix): void;
  /** out[i,j] += factor·coefficient[j]·v[i,j] (out may be v): Weight Norm's −c·v term of ∇v, or, with out = v, its SGD step. */
  addScaledColumns(v: Matrix, coefficient: Matrix, factor: number, out: Matrix): void;
  /** y[i,j] = x[i,j]·scale[j] + shift[j]: inference-mode BatchNorm with population statistics folded in. */
  scaleShiftColumns(x: Matrix, scale: Matrix, shift: Matrix, y: Matrix): void;

  /** param −= learningRate · grad (plain SGD). */
  sgdStep(param: Matrix, grad: Matrix, learningRate: number): void;

  /**
   * The mean softmax cross-entropy of logits[m,classes] against m labels (class indices), as
   * `softmaxCrossEntropy` in softmax-cross-entropy.ts defines it to the bit; with dLogits[m,classes],
   * also ∂(mean loss)/∂logits into it. A label outside 0..classes−1 is a RangeError.
   */
  softmaxCrossEntropy(logits: Matrix, labels: Labels, dLogits: Matrix | null): number;
}
