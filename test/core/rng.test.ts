/**
 * @file The seeded generator: xoshiro128** against the reference C implementation, determinism,
 * the portable logarithm against Math.log, and the normal sampler's moments within bounds that
 * follow from the sampling distribution of the mean and variance.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { portableLog, Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  test('xoshiro128** from state {1, 2, 3, 4} matches the reference C implementation', () => {
    // The first outputs of scripts/xoshiro-reference.c (Blackman & Vigna's code), built with gcc -O2.
    const reference = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849];
    const rng = Rng.fromState(1, 2, 3, 4);
    assert.deepEqual(
      reference.map(() => rng.nextUint32()),
      reference,
    );
  });

  test('equal seeds give equal streams; different seeds give different ones', () => {
    const a = new Rng(42),
      b = new Rng(42),
      c = new Rng(43);
    const draw = (rng: Rng): number[] => Array.from({ length: 1000 }, (_, i) => (i % 2 ? rng.nextUint32() : rng.normal()));
    const streamA = draw(a),
      streamB = draw(b),
      streamC = draw(c);
    assert.deepEqual(streamA, streamB);
    assert.notDeepEqual(streamA, streamC);
  });

  test('seed 0 does not give the all-zero state (a fixed point of xoshiro)', () => {
    const rng = new Rng(0);
    assert.ok(Array.from({ length: 4 }, () => rng.nextUint32()).some((v) => v !== 0));
  });

  test('portableLog agrees with Math.log to 1e-15 relative from 5e-324 to 1.8e308', () => {
    const rng = new Rng(7);
    const xs = [Number.MIN_VALUE, 1e-300, 0.5, 1 - 2 ** -53, 1, 1 + 2 ** -52, Math.SQRT1_2, Math.SQRT2, 2, 1e300, Number.MAX_VALUE];
    for (let i = 0; i < 5000; i++) xs.push(10 ** (-300 + 600 * rng.uniform())); // every binade
    for (let i = 0; i < 5000; i++) xs.push(rng.uniform()); // the polar method's range, s in (0, 1)
    for (let i = 0; i < 1000; i++) xs.push(1 + (rng.uniform() - 0.5) * 1e-6); // near 1, where ln → 0
    for (const x of xs) {
      const exact = Math.log(x);
      const error = exact === 0 ? Math.abs(portableLog(x)) : Math.abs(portableLog(x) - exact) / Math.abs(exact);
      assert.ok(error < 1e-15, `portableLog(${x}) = ${portableLog(x)}, Math.log gives ${exact}`);
    }
    assert.throws(() => portableLog(0), /positive/);
    assert.throws(() => portableLog(-1), /positive/);
  });

  test('200,000 normals have mean 0 and variance 1 within 5 standard errors', () => {
    const n = 200_000;
    const rng = new Rng(2024);
    let sum = 0,
      sumSquares = 0,
      withinOneSigma = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSquares += z * z;
      if (Math.abs(z) < 1) withinOneSigma++;
    }
    const mean = sum / n;
    const variance = (sumSquares - n * mean * mean) / (n - 1);
    // Standard errors for N(0, 1): of the mean 1/√n = 0.0022; of the sample variance √(2/(n−1)) =
    // 0.0032; of the fraction inside ±1, √(p(1−p)/n) = 0.0010 with p = 0.682689 (erf(1/√2)).
    // 5 standard errors: a correct sampler fails with probability below 1e-6 per bound, while a
    // wrong one (Box–Muller's factor off by √2, a uniform of variance 1) misses by far more.
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / (n - 1)), `variance ${variance}`);
    const p = 0.6826894921370859;
    assert.ok(Math.abs(withinOneSigma / n - p) < 5 * Math.sqrt((p * (1 - p)) / n), `fraction within ±1: ${withinOneSigma / n}`);
  });

  test('uniform lies in [0, 1) with mean 1/2 within 5 standard errors; int(n) covers 0..n−1 evenly', () => {
    const rng = new Rng(9);
    const n = 100_000;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1, `uniform gave ${u}`);
      sum += u;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${sum / n}`);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]!++;
    // Each count is Binomial(70000, 1/7): mean 10000, std √(70000·(1/7)·(6/7)) = 92.6.
    for (const count of counts) assert.ok(Math.abs(count - 10_000) < 5 * 92.6, `counts ${counts}`);
  });

  test('int(n) has no modulo bias even where 2^32 mod n is large', () => {
    // n = 3·2^30: a plain nextUint32() % n would return values below 2^30 twice as often (2 of
    // every 4 draws instead of 1 of 3). Over 30,000 draws the fraction's std is √(pq/N) = 0.0027.
    const rng = new Rng(11);
    const n = 3 * 2 ** 30,
      draws = 30_000;
    let low = 0;
    for (let i = 0; i < draws; i++) if (rng.int(n) < 2 ** 30) low++;
    assert.ok(Math.abs(low / draws - 1 / 3) < 5 * Math.sqrt(((1 / 3) * (2 / 3)) / draws), `fraction below 2^30: ${low / draws}`);
  });

  test('shuffle gives a permutation', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i);
    new Rng(3).shuffle(values);
    assert.deepEqual(
      Array.from(values).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.notDeepEqual(
      Array.from(values),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});
