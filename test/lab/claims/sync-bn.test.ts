/**
 * @file The sync-bn claim's two identities, on real worker threads (src/node's capability) and in
 * one thread, on every backend: synchronized BN over K shards = BN of the whole batch, per-worker
 * BN = Ghost BN with virtual batch = batch/K, each to float32 rounding, and the two clearly apart;
 * the threads' per-worker results are bit for bit the one-thread run's.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSyncBn, SYNC_BN_QUICK, syncBnClaim } from '../../../src/lab/claims/sync-bn.js';
import { runShardsInProcess } from '../../../src/lab/claims/sync-bn-math.js';
import { workerThreadShardedBatchNorm } from '../../../src/node/sharded-batch-norm.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { assertFiguresRender, assertWellFormed, testData } from './claim-test-kit.js';

for (const kernels of await backendsUnderTest()) {
  describe(`claim sync-bn [${kernels.name}: ${kernels.variant}]`, () => {
    test('worker threads: synchronized = BN, per-worker = Ghost BN (< 1e-5 relative), the two apart (> 1e-2)', async () => {
      const result = await runSyncBn(
        { kernels, data: await testData(), quick: true, seed: 1, shardedBatchNorm: workerThreadShardedBatchNorm },
        { ...SYNC_BN_QUICK, workers: [2, 4, 8] },
      );
      assertWellFormed(result, syncBnClaim.name);
      for (const k of [2, 4, 8]) {
        assert.equal(result.numbers[`runner@K${k}`], `${k} worker threads`);
        assert.ok((result.numbers[`syncVsBn@K${k}`] as number) < 1e-5, `K ${k}: ${result.numbers[`syncVsBn@K${k}`]}`);
        assert.ok((result.numbers[`syncVsFloat64@K${k}`] as number) < 1e-6);
        assert.ok((result.numbers[`unsyncVsGhost@K${k}`] as number) < 1e-5, `K ${k}: ${result.numbers[`unsyncVsGhost@K${k}`]}`);
        assert.ok((result.numbers[`syncVsUnsync@K${k}`] as number) > 1e-2);
        assert.equal(result.numbers[`unsyncThreadsEqualOneThread@K${k}`], 'yes');
      }
      assert.equal(result.verdict.holds, true);
    });
  });
}

test('claim sync-bn without worker threads runs its shards in one thread, with the same verdict; the figure renders', async () => {
  const [kernels] = await backendsUnderTest();
  const result = await runSyncBn({ kernels: kernels!, data: await testData(), quick: true, seed: 1 }, SYNC_BN_QUICK);
  assert.equal(result.numbers['runner@K2'], 'one thread');
  assert.equal(result.verdict.holds, true);
  await assertFiguresRender(result);
});

test('synchronized shards on threads give the same bits as in one thread (the all-reduce sums in worker order)', async () => {
  const rows = 64,
    features = 8;
  const x = Float32Array.from({ length: rows * features }, (_, i) => Math.sin(i) * 3 + (i % 5));
  const dy = Float32Array.from({ length: rows * features }, (_, i) => Math.cos(i * 0.7));
  const request = {
    x,
    dy,
    rows,
    features,
    gamma: new Float32Array(features).fill(1.5),
    beta: new Float32Array(features).fill(-0.5),
    eps: 1e-3,
    shards: 4,
    synchronized: true,
  };
  const threads = await workerThreadShardedBatchNorm.run(request);
  const one = await runShardsInProcess.run(request);
  assert.deepEqual(threads.y, one.y);
  assert.deepEqual(threads.dx, one.dx);
  assert.deepEqual(threads.dGamma, one.dGamma);
  await assert.rejects(runShardsInProcess.run({ ...request, shards: 3 }), /do not divide/);
});
