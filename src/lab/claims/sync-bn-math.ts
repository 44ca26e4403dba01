/**
 * @file BatchNorm on one worker's shard of a batch, in phases separated by all-reduces, as
 * PyTorch's SyncBatchNorm does across GPUs: (1) Σx of the shard → all-reduce → μ; (2) Σ(x − μ)²
 * → all-reduce → σ²; normalize; (3) Σdy and Σdy·x̂ → all-reduce → ∂L/∂x, and ∂L/∂γ, ∂L/∂β summed
 * over the workers. Synchronized, the reduces sum over every worker (BN of the whole batch);
 * unsynchronized, statistics stay the shard's own (Ghost BN with virtual batch = shard) and only
 * the parameter gradients are summed, as data-parallel training does. Float64 math; pure, so a
 * Web Worker, a worker thread or one thread (`runShardsInProcess`) runs the same code.
 *
 * What runs the shards is a capability the edge injects (`ShardedBatchNorm`): worker threads in
 * Node (src/node/sharded-batch-norm.ts), or this file's in-process loop.
 */

export interface ShardRequest {
  /** The whole batch [rows, features] and ∂L/∂y of the same shape, row-major. */
  x: Float32Array;
  dy: Float32Array;
  rows: number;
  features: number;
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
  /** Workers, each taking rows/shards consecutive rows (shards must divide rows). */
  shards: number;
  synchronized: boolean;
}

export interface ShardResult {
  /** The shards' outputs and input gradients put back together [rows, features] (float32, as a layer returns them). */
  y: Float32Array;
  dx: Float32Array;
  /** ∂L/∂γ and ∂L/∂β summed over the shards. */
  dGamma: Float64Array;
  dBeta: Float64Array;
  /** Who ran the shards: "K worker threads" or "one thread". */
  runner: string;
}

/** Runs one request's shards and returns the batch's result. */
export interface ShardedBatchNorm {
  run(request: ShardRequest): Promise<ShardResult>;
}

/** One worker's shard, phase by phase; between phases the caller all-reduces what a phase returns. */
export class BatchNormShard {
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly xhat: Float64Array;
  private count = 0;

  constructor(
    private readonly x: Float32Array,
    private readonly dy: Float32Array,
    readonly rows: number,
    readonly features: number,
    private readonly gamma: Float32Array,
    private readonly beta: Float32Array,
    private readonly eps: number,
  ) {
    this.mean = new Float64Array(features);
    this.invStd = new Float64Array(features);
    this.xhat = new Float64Array(rows * features);
  }

  /** Phase 1: [Σ_i x_ij for every j, rows]. */
  sums(): Float64Array {
    const n = this.features,
      out = new Float64Array(n + 1);
    for (let i = 0; i < this.rows; i++) for (let j = 0; j < n; j++) out[j] += this.x[i * n + j]!;
    out[n] = this.rows;
    return out;
  }

  /** Phase 2, given phase 1 reduced: μ = Σx / count; returns [Σ_i (x_ij − μ_j)² for every j]. */
  squares(reducedSums: Float64Array): Float64Array {
    const n = this.features,
      out = new Float64Array(n);
    this.count = reducedSums[n]!;
    for (let j = 0; j < n; j++) this.mean[j] = reducedSums[j]! / this.count;
    for (let i = 0; i < this.rows; i++) for (let j = 0; j < n; j++) out[j] += (this.x[i * n + j]! - this.mean[j]!) ** 2;
    return out;
  }

  /** Phase 3, given phase 2 reduced: σ² = Σ(x − μ)² / count (biased, as BN in training), x̂, y; returns [Σ dy for every j, Σ dy·x̂ for every j]. */
  gradientSums(reducedSquares: Float64Array): { y: Float32Array; sums: Float64Array } {
    const n = this.features,
      y = new Float32Array(this.rows * n),
      sums = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) this.invStd[j] = 1 / Math.sqrt(reducedSquares[j]! / this.count + this.eps);
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < n; j++) {
        const k = i * n + j,
          xhat = (this.x[k]! - this.mean[j]!) * this.invStd[j]!;
        this.xhat[k] = xhat;
        y[k] = this.gamma[j]! * xhat + this.beta[j]!;
        sums[j] += this.dy[k]!;
        sums[n + j] += this.dy[k]! * xhat;
      }
    }
    return { y, sums };
  }

  /** Phase 4, given phase 3 reduced over the workers that share statistics: ∂L/∂x = γ·invStd/N·(N·dy − Σdy − x̂·Σdy·x̂). */
  inputGradient(reducedGradientSums: Float64Array): Float32Array {
    const n = this.features,
      dx = new Float32Array(this.rows * n),
      N = this.count;
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < n; j++) {
        const k = i * n + j;
        dx[k] = ((this.gamma[j]! * this.invStd[j]!) / N) * (N * this.dy[k]! - reducedGradientSums[j]! - this.xhat[k]! * reducedGradientSums[n + j]!);
      }
    }
    return dx;
  }
}

/** The rows of shard `k` of `shards` (views). */
export function shardOf(request: ShardRequest, k: number): { x: Float32Array; dy: Float32Array; rows: number } {
  const rows = request.rows / request.shards,
    size = rows * request.features;
  return { x: request.x.subarray(k * size, (k + 1) * size), dy: request.dy.subarray(k * size, (k + 1) * size), rows };
}

/** Element-wise sum of the workers' vectors, in worker order (every worker sums in the same order, so all get the same bits). */
function sumInOrder(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts[0]!.length);
  for (const part of parts) for (let i = 0; i < out.length; i++) out[i] += part[i]!;
  return out;
}

export function checkRequest(request: ShardRequest): void {
  const { rows, features, shards } = request;
  if (!Number.isInteger(shards) || shards < 1 || rows % shards !== 0) throw new RangeError(`${shards} shards do not divide a batch of ${rows} rows`);
  if (rows / shards < 2) throw new RangeError(`a shard of ${rows / shards} row has no variance`);
  if (request.x.length !== rows * features || request.dy.length !== rows * features) throw new RangeError('x and dy must be [rows, features]');
}

/** The shards run one after the other in this thread, phase by phase, with the same reduces a set of workers does. */
export const runShardsInProcess: ShardedBatchNorm = {
  async run(request) {
    checkRequest(request);
    const { shards, features, synchronized } = request;
    const parts = Array.from({ length: shards }, (_, k) => {
      const { x, dy, rows } = shardOf(request, k);
      return new BatchNormShard(x, dy, rows, features, request.gamma, request.beta, request.eps);
    });
    const reduce = (values: Float64Array[]): Float64Array[] => (synchronized ? values.map(() => sumInOrder(values)) : values);
    const sums = reduce(parts.map((p) => p.sums()));
    const squares = reduce(parts.map((p, k) => p.squares(sums[k]!)));
    const phase3 = parts.map((p, k) => p.gradientSums(squares[k]!));
    const gradientSums = reduce(phase3.map((r) => r.sums));
    const dxs = parts.map((p, k) => p.inputGradient(gradientSums[k]!));
    return assemble(
      request,
      phase3.map((r) => r.y),
      dxs,
      phase3.map((r) => r.sums),
      'one thread',
    );
  },
};

/** Puts shard results together; the parameter gradients are every shard's summed (the data-parallel all-reduce). */
export function assemble(
  request: ShardRequest,
  ys: readonly Float32Array[],
  dxs: readonly Float32Array[],
  gradientSums: readonly Float64Array[],
  runner: string,
): ShardResult {
  const n = request.features,
    size = (request.rows / request.shards) * n;
  const y = new Float32Array(request.rows * n),
    dx = new Float32Array(request.rows * n);
  ys.forEach((part, k) => {
    y.set(part, k * size);
  });
  dxs.forEach((part, k) => {
    dx.set(part, k * size);
  });
  const total = sumInOrder(gradientSums);
  return { y, dx, dBeta: total.slice(0, n), dGamma: total.slice(n), runner };
}
