/**
 * @file One worker thread of `bnlab explain sync-bn`: BatchNorm on its shard of the batch
 * (lab/claims/sync-bn-math.ts), exchanging its statistics with the other workers through shared
 * memory: each writes its partial sums into its slot, waits at a barrier, and sums every slot in
 * worker order, so all workers hold the same bits (an all-reduce without a coordinator).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchNormShard, type ShardRequest } from '../lab/claims/sync-bn-math.js';

/** The request (the whole batch; this worker takes its shard of it), and where the workers meet. */
export interface ShardWorkerData extends Omit<ShardRequest, 'shards'> {
  worker: number;
  workers: number;
  /** [workers × slot] float64 slots for the exchange, and [arrived, generation] for the barrier. */
  exchange: SharedArrayBuffer;
  slot: number;
  barrier: SharedArrayBuffer;
}

const data = workerData as ShardWorkerData;
const exchange = new Float64Array(data.exchange);
const control = new Int32Array(data.barrier);

/** Every worker waits here until all have arrived (a generation counter, so it can be reused). */
function barrier(): void {
  const generation = Atomics.load(control, 1);
  if (Atomics.add(control, 0, 1) === data.workers - 1) {
    Atomics.store(control, 0, 0);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  } else {
    while (Atomics.load(control, 1) === generation) Atomics.wait(control, 1, generation);
  }
}

function allReduce(local: Float64Array): Float64Array {
  if (!data.synchronized) return local;
  exchange.set(local, data.worker * data.slot);
  barrier();
  const out = new Float64Array(local.length);
  for (let w = 0; w < data.workers; w++) for (let i = 0; i < local.length; i++) out[i] += exchange[w * data.slot + i]!;
  barrier(); // every worker has read before any writes the next round
  return out;
}

const shard = new BatchNormShard(data.x, data.dy, data.rows, data.features, data.gamma, data.beta, data.eps);
const sums = allReduce(shard.sums());
const squares = allReduce(shard.squares(sums));
const { y, sums: gradientSums } = shard.gradientSums(squares);
const dx = shard.inputGradient(allReduce(gradientSums));
parentPort!.postMessage({ y, dx, gradientSums });
