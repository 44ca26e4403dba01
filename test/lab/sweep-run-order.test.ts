/**
 * @file The order a sweep's runs go to the threads (src/lab/sweep/run-order.ts): longest expected
 * first from steps and the runs dir's records, ties in the sweep's order; and, on a simulated
 * 2-thread pool, what that order does to the time the last thread ends.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedRunTimes, longestFirst, type RunCost, tailMayStart, tailThreads } from '../../src/lab/sweep/run-order.js';
import { type SweepRun, sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import type { SweepSpec } from '../../src/lab/sweep/sweep-spec.js';
import { resolveTrainConfig } from '../../src/train/config.js';

function run(id: string, steps = 1000): SweepRun {
  return { id, seed: Number(/-s(\d+)$/.exec(id)![1]), axes: [], config: resolveTrainConfig({ steps, validateEvery: 100 }) };
}

const ids = (runs: readonly SweepRun[]): string[] => runs.map((one) => one.id);

/** When the last of `threads` threads ends, each taking the next run as it is free (the pool's rule), runs taking `times`. */
function lastEnd(order: readonly SweepRun[], times: ReadonlyMap<string, number>, threads = 2): number {
  const free = Array.from({ length: threads }, () => 0);
  for (const one of order) {
    const next = free.indexOf(Math.min(...free));
    free[next]! += times.get(one.id)!;
  }
  return Math.max(...free);
}

describe('longest expected first', () => {
  test('without records: the sweep order where steps are equal, more steps first where they differ', () => {
    const same = [run('a-s1'), run('b-s1'), run('c-s1'), run('a-s2')];
    assert.deepEqual(ids(longestFirst(same, [])), ['a-s1', 'b-s1', 'c-s1', 'a-s2']);
    const mixed = [run('short-s1', 100), run('long-s1', 5000), run('mid-s1', 1000), run('long2-s1', 5000)];
    assert.deepEqual(ids(longestFirst(mixed, [])), ['long-s1', 'long2-s1', 'mid-s1', 'short-s1']);
    assert.deepEqual(ids(mixed), ['short-s1', 'long-s1', 'mid-s1', 'long2-s1'], 'the input is left as it was');
  });

  test("a run's own record (--force) gives its time per step, scaled to its steps now", () => {
    const runs = [run('a-s1'), run('b-s1'), run('c-s1')];
    const known: RunCost[] = [
      { id: 'a-s1', steps: 500, durationMs: 1000 }, // 2 ms a step: 2000 ms at 1000 steps
      { id: 'b-s1', steps: 1000, durationMs: 5000 },
      { id: 'c-s1', steps: 1000, durationMs: 3000 },
    ];
    assert.deepEqual(
      expectedRunTimes(runs, known),
      new Map([
        ['a-s1', 2000],
        ['b-s1', 5000],
        ['c-s1', 3000],
      ]),
    );
    assert.deepEqual(ids(longestFirst(runs, known)), ['b-s1', 'c-s1', 'a-s1']);
  });

  test("other seeds' records give a run without one the mean of theirs; a run with none gets the median of all", () => {
    const runs = [run('fast-s1'), run('slow-s1'), run('fresh-s1'), run('fast-s2'), run('slow-s2'), run('fresh-s2')];
    const known: RunCost[] = [
      { id: 'fast-s1', steps: 1000, durationMs: 100 }, // diverged early, say
      { id: 'slow-s1', steps: 1000, durationMs: 3000 },
      { id: 'slow-s3', steps: 1000, durationMs: 5000 },
    ];
    const expected = expectedRunTimes(runs, known);
    assert.equal(expected.get('fast-s2'), 100);
    assert.equal(expected.get('slow-s2'), 4000, 'the mean of seeds 1 and 3');
    assert.equal(expected.get('fresh-s1'), 3000, 'the median of 100, 3000 and 5000 ms');
    assert.deepEqual(ids(longestFirst(runs, known)), ['slow-s2', 'slow-s1', 'fresh-s1', 'fresh-s2', 'fast-s1', 'fast-s2']);
  });

  test('records that say nothing (no steps, a non-finite time) are not used', () => {
    const runs = [run('a-s1'), run('b-s1')];
    const known: RunCost[] = [
      { id: 'a-s1', steps: 0, durationMs: 100 },
      { id: 'b-s1', steps: 1000, durationMs: Number.NaN },
    ];
    assert.deepEqual(
      expectedRunTimes(runs, known),
      new Map([
        ['a-s1', 1000],
        ['b-s1', 1000],
      ]),
    );
  });

  test("the article's grid: every run keeps its place without records; records of earlier seeds order the next ones", () => {
    const spec: SweepSpec = {
      name: 'article',
      fixed: { steps: 1000, batchSize: 60, validateEvery: 500 },
      axes: [
        {
          name: 'config',
          values: [1, 3, 7].map((id) => ({ label: `c${id}`, settings: { initStd: id === 7 ? 10 : 0.05, learningRate: id === 1 ? 0.01 : 2 }, numeric: null })),
        },
        {
          name: 'norm',
          values: [
            { label: 'nobn', settings: { norm: 'none' }, numeric: null },
            { label: 'bn', settings: { norm: 'bn' }, numeric: null },
          ],
        },
      ],
      seeds: [1, 2],
    };
    const runs = sweepRuns(spec);
    assert.deepEqual(ids(longestFirst(runs, [])), ids(runs));
    const seedOne: RunCost[] = runs.filter((one) => one.seed === 1).map((one) => ({ id: one.id, steps: 1000, durationMs: one.id === 'c7-nobn-s1' ? 5 : 1000 }));
    const seedTwo = runs.filter((one) => one.seed === 2);
    assert.deepEqual(ids(longestFirst(seedTwo, seedOne)), ['c1-nobn-s2', 'c1-bn-s2', 'c3-nobn-s2', 'c3-bn-s2', 'c7-bn-s2', 'c7-nobn-s2']);
  });
});

describe('what the order does on two threads (simulated, each thread taking the next run when free)', () => {
  test('runs of different lengths: longest first ends sooner than the sweep order when the long one comes last', () => {
    const runs = [run('a-s1'), run('b-s1'), run('c-s1'), run('d-s1'), run('e-s1')];
    const times = new Map([
      ['a-s1', 10],
      ['b-s1', 10],
      ['c-s1', 10],
      ['d-s1', 10],
      ['e-s1', 20],
    ]);
    const known: RunCost[] = [...times].map(([id, durationMs]) => ({ id, steps: 1000, durationMs }));
    assert.equal(lastEnd(runs, times), 40, 'one thread runs the long one alone at the end');
    assert.deepEqual(ids(longestFirst(runs, known)), ['e-s1', 'a-s1', 'b-s1', 'c-s1', 'd-s1']);
    assert.equal(lastEnd(longestFirst(runs, known), times), 30, 'both threads end together');
  });

  test("the article's 16 runs with three runs 4× shorter and one that diverges at once: no gain to be had (equal lengths dominate)", () => {
    const labels = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((id) => [`c${id}-nobn-s1`, `c${id}-bn-s1`]);
    const times = new Map(labels.map((id) => [id, id === 'c7-nobn-s1' ? 0 : ['c3-nobn-s1', 'c5-nobn-s1', 'c7-bn-s1'].includes(id) ? 7.5 : 30]));
    const runs = labels.map((id) => run(id));
    const known: RunCost[] = [...times].map(([id, durationMs]) => ({ id, steps: 1000, durationMs }));
    assert.equal(lastEnd(runs, times), 195);
    assert.equal(lastEnd(longestFirst(runs, known), times), 195, '6 long runs and 2 short ones on one thread either way');
  });
});

/**
 * When the last run ends on `cores` cores shared equally by the runs in flight: `regular` threads
 * take the next run as they are free; `tail` more threads start one as soon as tailMayStart says so.
 */
function lastEndSharing(order: readonly SweepRun[], times: ReadonlyMap<string, number>, cores: number, regular: number, tail: number): number {
  const queue = [...order];
  const active: Array<{ left: number; regular: boolean }> = [];
  let now = 0;
  const fill = (): void => {
    for (;;) {
      const regularBusy = active.filter((one) => one.regular).length;
      const tailBusy = active.length - regularBusy;
      if (queue.length > 0 && regularBusy < regular) active.push({ left: times.get(queue.shift()!.id)!, regular: true });
      else if (tailBusy < tail && tailMayStart({ regularBusy, regular, unstarted: queue.length, tail: tail - tailBusy }))
        active.push({ left: times.get(queue.shift()!.id)!, regular: false });
      else return;
    }
  };
  fill();
  while (active.length > 0) {
    const rate = Math.min(1, cores / active.length);
    const step = Math.min(...active.map((one) => one.left)) / rate;
    now += step;
    for (const one of active) one.left -= step * rate;
    for (let i = active.length - 1; i >= 0; i--) if (active[i]!.left <= 1e-9) active.splice(i, 1);
    fill();
  }
  return now;
}

describe('threads for the last runs', () => {
  test('only when the sweep takes every core, one fewer than its threads', () => {
    assert.equal(tailThreads(2, 2), 1);
    assert.equal(tailThreads(4, 4), 3);
    assert.equal(tailThreads(1, 1), 0);
    assert.equal(tailThreads(1, 2), 0, '--jobs 1 on two cores: the other core is not ours');
    assert.equal(tailThreads(3, 4), 0);
  });

  test('a tail thread starts a run only once every regular thread is busy and few enough runs are left', () => {
    assert.equal(tailMayStart({ regularBusy: 2, regular: 2, unstarted: 1, tail: 1 }), true);
    assert.equal(tailMayStart({ regularBusy: 2, regular: 2, unstarted: 2, tail: 1 }), false, 'two left: a regular thread will take one');
    assert.equal(tailMayStart({ regularBusy: 1, regular: 2, unstarted: 1, tail: 1 }), false, 'a regular thread is free for it');
    assert.equal(tailMayStart({ regularBusy: 2, regular: 2, unstarted: 0, tail: 1 }), false);
  });

  test("the article's grid on 2 cores: the last run shares the cores (7.5 run-lengths instead of 8); with shorter dead runs, 6.375 instead of 6.5", () => {
    const labels = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((id) => [`c${id}-nobn-s1`, `c${id}-bn-s1`]);
    const runs = labels.map((id) => run(id));
    const equal = new Map(labels.map((id) => [id, id === 'c7-nobn-s1' ? 0 : 1]));
    assert.equal(lastEndSharing(runs, equal, 2, 2, 0), 8);
    assert.equal(lastEndSharing(runs, equal, 2, 2, 1), 7.5);
    const sparse = new Map(labels.map((id) => [id, id === 'c7-nobn-s1' ? 0 : ['c3-nobn-s1', 'c5-nobn-s1', 'c7-bn-s1'].includes(id) ? 0.25 : 1]));
    assert.equal(lastEndSharing(runs, sparse, 2, 2, 0), 6.5);
    assert.equal(lastEndSharing(runs, sparse, 2, 2, 1), 6.375, 'the lower bound: 12.75 run-lengths of work on 2 cores');
  });
});
