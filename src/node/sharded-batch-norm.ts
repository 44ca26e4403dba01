/**
 * @file The worker-thread capability of `bnlab explain sync-bn`: a batch's shards on K real
 * worker threads that exchange BatchNorm statistics through shared memory (synchronized BN, as
 * PyTorch's SyncBatchNorm across GPUs) or keep their own (per-worker BN). The claim in lab/ gets
 * it injected through its context; lab/ itself stays free of Node.
 */
import { Worker } from 'node:worker_threads';
import { assemble, checkRequest, type ShardedBatchNorm, type ShardRequest, shardOf } from '../lab/claims/sync-bn-math.js';
import type { ShardWorkerData } from './sharded-batch-norm-worker.js';

export const workerThreadShardedBatchNorm: ShardedBatchNorm = {
  async run(request: ShardRequest) {
    checkRequest(request);
    const { shards: workers, features } = request;
    const slot = 2 * features + 1;
    const exchange = new SharedArrayBuffer(workers * slot * Float64Array.BYTES_PER_ELEMENT);
    const barrier = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const url = new URL('./sharded-batch-norm-worker.js', import.meta.url);
    const results = await Promise.all(
      Array.from({ length: workers }, (_, worker) => {
        const { x, dy, rows } = shardOf(request, worker);
        const workerData: ShardWorkerData = {
          worker,
          workers,
          synchronized: request.synchronized,
          x: x.slice(),
          dy: dy.slice(),
          rows,
          features,
          gamma: request.gamma,
          beta: request.beta,
          eps: request.eps,
          exchange,
          slot,
          barrier,
        };
        return new Promise<{ y: Float32Array; dx: Float32Array; gradientSums: Float64Array }>((resolve, reject) => {
          const thread = new Worker(url, { workerData });
          thread.once('message', (message) => {
            resolve(message as { y: Float32Array; dx: Float32Array; gradientSums: Float64Array });
            void thread.terminate();
          });
          thread.once('error', reject);
          thread.once('exit', (code) => {
            if (code !== 0) reject(new Error(`a sync-bn worker thread exited with code ${code}`));
          });
        });
      }),
    );
    return assemble(
      request,
      results.map((r) => r.y),
      results.map((r) => r.dx),
      results.map((r) => r.gradientSums),
      `${workers} worker threads`,
    );
  },
};
