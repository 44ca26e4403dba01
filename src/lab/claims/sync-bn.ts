/**
 * @file Claim `sync-bn`: a batch split across K workers. Synchronized BN (the workers all-reduce
 * their statistics, as PyTorch's SyncBatchNorm does across GPUs) equals BN on the whole batch, to
 * float rounding; unsynchronized BN (each worker its own statistics, only the parameter gradients
 * summed) is exactly Ghost BN with virtual batch = batch/K. Measured with the shards on real
 * worker threads when the edge provides them (`context.shardedBatchNorm`), against bnlab's own
 * BatchNorm and GhostBatchNorm layers on the whole batch.
 */
import { Rng } from '../../core/rng.js';
import { BatchNorm } from '../../nn/batch-norm.js';
import { GhostBatchNorm } from '../../nn/ghost-batch-norm.js';
import { TRAINING_PASS } from '../../nn/layer.js';
import { deriveSeed } from '../../train/seeds.js';
import { barChartSpec } from '../charts/bar-chart.js';
import type { Claim, ClaimContext, ClaimResult } from './claim.js';
import { elapsedSince, formatNumber, headOf, type NetworkChoice, networkPair } from './experiment-kit.js';
import { loadBatch } from './landscape-kit.js';
import { runShardsInProcess, type ShardRequest, type ShardResult } from './sync-bn-math.js';

export interface SyncBnBudget {
  network: NetworkChoice;
  /** Training images whose first hidden layer's x·W is the batch BN normalizes. */
  rows: number;
  workers: number[];
  eps: number;
}

const SYNC_BN_FULL: SyncBnBudget = {
  network: { hiddenSizes: [128, 128, 128], activation: 'relu', initStd: 0.05 },
  rows: 240,
  workers: [2, 4, 8],
  eps: 1e-3,
};
export const SYNC_BN_QUICK: SyncBnBudget = { ...SYNC_BN_FULL, workers: [2, 4] };

/** Float32 rounding, as a bound on the largest difference relative to the largest value. */
const SYNC_BN_BOUND = 1e-4;
/** Below this relative difference, synchronized and per-worker BN would not be told apart. */
const DISTINCT_ABOVE = 1e-3;

export const syncBnClaim: Claim = {
  name: 'sync-bn',
  title: 'BN across K workers: synchronized = BN on the whole batch, per-worker = Ghost BN',
  description: 'a batch on K worker threads: synchronized BN vs BN of the whole batch, per-worker BN vs Ghost BN (batch/K)',
  articleSays:
    "BN's statistics are the mini-batch's. When a batch is split across K devices, each device sees m/K examples: PyTorch's SyncBatchNorm all-reduces the statistics so that every device normalizes with the whole batch's; " +
    "without it each device normalizes with its own shard's, which is Ghost BN (Hoffer et al. 2017) with virtual batches of m/K.",
  run: (context) => runSyncBn(context, context.quick ? SYNC_BN_QUICK : SYNC_BN_FULL),
};

interface LayerResult {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
}

/** bnlab's own layer (BN, or Ghost BN with `virtualBatch`) on the whole batch: training forward, then backward. */
function engineLayer(context: ClaimContext, request: ShardRequest, virtualBatch: number | null): LayerResult {
  const { kernels } = context;
  const { rows, features, eps } = request;
  const layer =
    virtualBatch === null
      ? new BatchNorm(kernels, 'bn.0', features, { eps, momentum: 0.99, scale: true, center: true })
      : new GhostBatchNorm(kernels, 'ghost.0', features, { eps, momentum: 0.99, virtualBatch, affine: true });
  layer.gamma!.data.set(request.gamma);
  layer.beta!.data.set(request.beta);
  layer.allocate(rows, true);
  const x = kernels.matrix(rows, features),
    dy = kernels.matrix(rows, features);
  x.data.set(request.x);
  const y = layer.forward(x, TRAINING_PASS).data.slice() as Float32Array;
  dy.data.set(request.dy);
  const dx = layer.backward(x, dy)!.data.slice() as Float32Array;
  return { y, dx, dGamma: layer.gammaGrad!.data.slice() as Float32Array, dBeta: layer.betaGrad!.data.slice() as Float32Array };
}

/** max |a − b| / max |b|. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return difference / scale;
}

function compare(shards: ShardResult, layer: LayerResult): { y: number; dx: number; dGamma: number; dBeta: number; worst: number } {
  const y = relativeDifference(shards.y, layer.y),
    dx = relativeDifference(shards.dx, layer.dx);
  const dGamma = relativeDifference(shards.dGamma, layer.dGamma),
    dBeta = relativeDifference(shards.dBeta, layer.dBeta);
  return { y, dx, dGamma, dBeta, worst: Math.max(y, dx, dGamma, dBeta) };
}

function bitIdentical(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

export async function runSyncBn(context: ClaimContext, budget: SyncBnBudget): Promise<ClaimResult> {
  const started = performance.now();
  const { kernels, data, seed } = context;
  const runner = context.shardedBatchNorm ?? runShardsInProcess;
  // The batch: x·W of the first hidden layer for `rows` training images, the article's initial weights.
  const { withBn: net } = networkPair(kernels, budget.network, seed);
  const { x: input } = loadBatch(net, headOf(data.train, budget.rows), 0, budget.rows);
  net.forward(input, 'train');
  const linear = net.hiddenBuffers(budget.rows)[0]!.linear;
  const features = linear.cols;
  const rng = new Rng(deriveSeed(seed, 'experiment'));
  const normal = (n: number, std: number, mean: number): Float32Array => {
    const v = new Float32Array(n);
    rng.fillNormal(v, std);
    return v.map((value) => value + mean);
  };
  const base = {
    x: linear.data.slice() as Float32Array,
    dy: normal(budget.rows * features, 1, 0),
    rows: budget.rows,
    features,
    gamma: normal(features, 0.2, 1),
    beta: normal(features, 0.2, 0),
    eps: budget.eps,
  };
  const bn = engineLayer(context, { ...base, shards: 1, synchronized: true }, null);
  const reference64 = await runShardsInProcess.run({ ...base, shards: 1, synchronized: true });

  const rows: Array<{
    workers: number;
    runner: string;
    syncVsBn: ReturnType<typeof compare>;
    syncVs64: number;
    unsyncVsGhost: ReturnType<typeof compare>;
    unsyncSameAsOneThread: boolean;
    syncVsUnsync: number;
  }> = [];
  for (const workers of budget.workers) {
    context.onProgress?.(`sync-bn: ${workers} workers, synchronized and not`);
    const sync = await runner.run({ ...base, shards: workers, synchronized: true });
    const unsync = await runner.run({ ...base, shards: workers, synchronized: false });
    const unsyncOneThread = await runShardsInProcess.run({ ...base, shards: workers, synchronized: false });
    const ghost = engineLayer(context, { ...base, shards: workers, synchronized: false }, budget.rows / workers);
    rows.push({
      workers,
      runner: sync.runner,
      syncVsBn: compare(sync, bn),
      syncVs64: Math.max(relativeDifference(sync.y, reference64.y), relativeDifference(sync.dx, reference64.dx)),
      unsyncVsGhost: compare(unsync, ghost),
      unsyncSameAsOneThread: bitIdentical(unsync.y, unsyncOneThread.y) && bitIdentical(unsync.dx, unsyncOneThread.dx),
      syncVsUnsync: Math.max(relativeDifference(unsync.y, sync.y), relativeDifference(unsync.dx, sync.dx)),
    });
  }
  const syncHolds = rows.every((r) => r.syncVsBn.worst < SYNC_BN_BOUND);
  const ghostHolds = rows.every((r) => r.unsyncVsGhost.worst < SYNC_BN_BOUND);
  const distinct = rows.every((r) => r.syncVsUnsync > DISTINCT_ABOVE);
  const holds = syncHolds && ghostHolds && distinct;
  const worst = (pick: (r: (typeof rows)[number]) => number): string => {
    const value = Math.max(...rows.map(pick));
    return value === 0 ? '0, the same float32 bits' : formatNumber(value, 8);
  };
  const digits = (relative: number): number => (relative > 0 ? -Math.log10(relative) : 16);

  const lines = [
    `a batch of ${budget.rows} × ${features}: x·W of the first hidden layer for ${budget.rows} training images, γ ~ N(1, 0.2²), β ~ N(0, 0.2²), ∂L/∂y ~ N(0, 1); shards on ${rows[0]?.runner.replace(/^\d+ /, 'K ') ?? runner}`,
    ...rows.map(
      (r) =>
        `K = ${r.workers} (${budget.rows / r.workers} rows each): synchronized vs BN of the whole batch: y ${formatNumber(r.syncVsBn.y, 8)}, ∂x ${formatNumber(r.syncVsBn.dx, 8)}, ∂γ ${formatNumber(r.syncVsBn.dGamma, 8)}, ∂β ${formatNumber(r.syncVsBn.dBeta, 8)} (relative); ` +
        `per-worker vs Ghost BN (virtual batch ${budget.rows / r.workers}): worst ${formatNumber(r.unsyncVsGhost.worst, 8)}; synchronized vs per-worker: ${formatNumber(r.syncVsUnsync, 4)}`,
    ),
  ];
  const verdictText = holds
    ? `holds: on ${rows.map((r) => r.runner).join(', ')}, synchronized BN equals bnlab's BN of the whole batch to float32 rounding (worst relative difference over y, ∂L/∂x, ∂L/∂γ, ∂L/∂β: ${worst((r) => r.syncVsBn.worst)}; against a float64 BN of the whole batch ${worst((r) => r.syncVs64)}), ` +
      `and per-worker BN equals Ghost BN with virtual batch = batch/K (worst ${worst((r) => r.unsyncVsGhost.worst)}), while the two differ from each other by ${rows.map((r) => `${formatNumber(r.syncVsUnsync, 3)} at K = ${r.workers}`).join(', ')}.`
    : `does not hold: synchronized vs BN ${worst((r) => r.syncVsBn.worst)}, per-worker vs Ghost BN ${worst((r) => r.unsyncVsGhost.worst)} (bound ${SYNC_BN_BOUND}); synchronized vs per-worker ${worst((r) => r.syncVsUnsync)} (must exceed ${DISTINCT_ABOVE}).`;
  return {
    name: syncBnClaim.name,
    title: syncBnClaim.title,
    articleSays: syncBnClaim.articleSays,
    method:
      `The batch: x·W of the first hidden layer (784-${budget.network.hiddenSizes.join('-')}-10, N(0, ${budget.network.initStd}²) weights) for the first ${budget.rows} training images, with random γ, β and ∂L/∂y (seeded). ` +
      `For K ∈ {${budget.workers.join(', ')}}, the batch is cut into K shards of consecutive rows, each on its own ${context.shardedBatchNorm ? 'worker thread' : 'turn in one thread (no worker threads in this context)'}. ` +
      'Each worker computes in float64: Σx of its shard, all-reduce, μ; Σ(x − μ)², all-reduce, σ² (biased); x̂ and y = γx̂ + β; Σ∂y and Σ∂y·x̂, all-reduce; ∂L/∂x. ' +
      'The all-reduce is through shared memory: every worker writes its sums into its slot, waits at a barrier (Atomics), then sums all slots in worker order, so every worker holds the same bits. ' +
      "Per-worker BN skips the statistics' all-reduce; ∂L/∂γ and ∂L/∂β are summed over the workers in both (the gradient all-reduce of data-parallel training). " +
      `Compared with bnlab's own layers on the whole batch (float32 kernels): BatchNorm, and GhostBatchNorm with virtual batch ${budget.rows}/K; the verdict needs every relative difference (max |Δ| / max |value|) below ${SYNC_BN_BOUND}, and synchronized and per-worker BN to differ by more than ${DISTINCT_ABOVE}.` +
      `${context.quick ? ' Quick budget: fewer values of K than the full run.' : ''}`,
    numbers: Object.fromEntries(
      rows.flatMap((r) => [
        [`syncVsBn@K${r.workers}`, r.syncVsBn.worst],
        [`syncVsFloat64@K${r.workers}`, r.syncVs64],
        [`unsyncVsGhost@K${r.workers}`, r.unsyncVsGhost.worst],
        [`syncVsUnsync@K${r.workers}`, r.syncVsUnsync],
        [`unsyncThreadsEqualOneThread@K${r.workers}`, r.unsyncSameAsOneThread ? 'yes' : 'no'],
        [`runner@K${r.workers}`, r.runner],
      ]),
    ),
    tables: [
      {
        title: 'Largest relative difference (max |Δ| / max |value|) over y, ∂L/∂x, ∂L/∂γ, ∂L/∂β',
        columns: [
          'K',
          'rows per worker',
          'ran on',
          'synchronized vs BN (whole batch)',
          'synchronized vs float64 BN',
          'per-worker vs Ghost BN (batch/K)',
          'synchronized vs per-worker',
        ],
        rows: rows.map((r) => [
          r.workers,
          budget.rows / r.workers,
          r.runner,
          formatNumber(r.syncVsBn.worst, 8),
          formatNumber(r.syncVs64, 8),
          formatNumber(r.unsyncVsGhost.worst, 8),
          formatNumber(r.syncVsUnsync, 4),
        ]),
      },
    ],
    verdict: { holds, text: verdictText },
    figures: [
      {
        name: 'agreement',
        caption:
          'Decimal digits of agreement (−log10 of the largest relative difference): synchronized BN with BN of the whole batch and per-worker BN with Ghost BN agree to float32 precision (about 7 digits); synchronized and per-worker BN do not.',
        spec: barChartSpec({
          title: 'BN across K workers: digits of agreement',
          xTitle: 'workers K',
          yTitle: 'digits of agreement (−log10 relative difference)',
          barWidth: 36,
          bars: rows.flatMap((r) => [
            { category: `K = ${r.workers}`, group: 'synchronized vs BN', value: digits(r.syncVsBn.worst) },
            { category: `K = ${r.workers}`, group: 'per-worker vs Ghost BN', value: digits(r.unsyncVsGhost.worst) },
            { category: `K = ${r.workers}`, group: 'synchronized vs per-worker', value: digits(r.syncVsUnsync) },
          ]),
        }),
      },
    ],
    lines,
    elapsedMs: elapsedSince(started),
  };
}
