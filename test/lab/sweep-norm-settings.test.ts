/**
 * @file The norms' shared settings and Weight Norm's as sweep settings: `normPlacement`,
 * `normAffine`, `wnInit`, `wnMeanOnly` on axes and fixed, their labels in run ids, the configs and
 * network specs their runs get (none and wn ignore placement and affine, as their flags do), and
 * errors that name the sweep key.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import { parseSweepSpec, SweepSpecError } from '../../src/lab/sweep/sweep-spec.js';
import { specFromConfig } from '../../src/train/config.js';

test('placement, affine and Weight Norm settings: run ids, configs and the specs they build', () => {
  const spec = parseSweepSpec({
    name: 'placement',
    seeds: 1,
    fixed: { steps: 10, wnMeanOnly: true },
    axes: { norm: ['bn', 'ln', 'wn'], normPlacement: ['pre', 'post'], normAffine: [true, false] },
  });
  const runs = sweepRuns(spec);
  assert.equal(runs.length, 12);
  assert.deepEqual(
    runs.slice(0, 4).map((run) => run.id),
    ['bn-pre-affine-s1', 'bn-pre-noaffine-s1', 'bn-post-affine-s1', 'bn-post-noaffine-s1'],
  );
  const byId = new Map(runs.map((run) => [run.id, run]));
  const network = (id: string) => specFromConfig(byId.get(id)!.config, 784, 10);
  assert.equal(network('bn-post-noaffine-s1').placement, 'post');
  assert.equal(network('bn-post-noaffine-s1').batchNorm!.scale, false);
  assert.equal(network('bn-post-noaffine-s1').hiddenBias, true);
  assert.equal(network('ln-pre-noaffine-s1').exampleNorm!.affine, false);
  assert.deepEqual(network('wn-post-noaffine-s1').weightNorm, { init: 'data', meanOnly: true, momentum: 0.99 });
  assert.equal(network('wn-post-noaffine-s1').placement, 'pre', 'Weight Norm has no place of its own');

  const init = sweepRuns(parseSweepSpec({ name: 'init', seeds: 1, fixed: { norm: 'wn' }, axes: { wnInit: ['data', 'none'] } }));
  assert.deepEqual(
    init.map((run) => run.id),
    ['initdata-s1', 'initnone-s1'],
  );
  assert.equal(init[1]!.config.wnInit, 'none');
});

test('a wrong value names the sweep key', () => {
  assert.throws(
    () => parseSweepSpec({ name: 'bad', seeds: 1, fixed: {}, axes: { normPlacement: ['pre', 'after'] } }),
    (error: unknown) => error instanceof SweepSpecError && /axes\.normPlacement\[1\]: must be one of pre, post, got "after"/.test(error.message),
  );
  assert.throws(
    () => parseSweepSpec({ name: 'bad', seeds: 1, fixed: { wnMeanOnly: 'yes' }, axes: { norm: ['wn'] } }),
    /fixed\.wnMeanOnly: must be true or false, got "yes"/,
  );
});
