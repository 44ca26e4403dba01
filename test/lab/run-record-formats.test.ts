/**
 * @file Run records across formats: a record of bnlab-run/1 (the article's grid before sweeps,
 * without sweep, axes or last-half fields) still loads, its axes read from its id and its
 * last-half mean from its curve; the last-half mean is the mean of the points at step ≥ steps/2.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastHalfMean } from '../../src/lab/report/last-half.js';
import { makeRunRecord, parseRunRecord, runRecordJson } from '../../src/lab/report/run-record.js';
import { sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import { parseSweepSpec } from '../../src/lab/sweep/sweep-spec.js';
import { fixtureRecord } from './run-record-fixture.js';

describe('the last-half mean', () => {
  test('averages the validations at step ≥ steps/2, the half point included', () => {
    const curve = [0, 100, 200, 300, 400].map((step, i) => ({ step, validationAccuracy: [0.1, 0.5, 0.84, 0.95, 0.86][i]! }));
    assert.equal(lastHalfMean(curve, 400), (0.84 + 0.95 + 0.86) / 3);
    assert.equal(lastHalfMean(curve.slice(0, 1), 400), 0.1, 'a curve without a point in its last half: its last point');
  });
});

describe('formats', () => {
  test('a bnlab-run/1 record loads: axes from its id, the last-half mean from its curve', () => {
    const current = JSON.parse(runRecordJson(fixtureRecord(8, true, 3, 0.9, 0.9))) as Record<string, unknown>;
    const { sweep: _sweep, axes: _axes, lastHalfValidation: _lastHalf, ...legacy } = current;
    legacy.format = 'bnlab-run/1';
    const parsed = parseRunRecord(JSON.stringify(legacy), 'c8-bn-s3');
    assert.equal(parsed.sweep, 'article');
    assert.deepEqual(parsed.axes, [
      { axis: 'config', label: 'c8', numeric: null },
      { axis: 'norm', label: 'bn', numeric: null },
    ]);
    assert.equal(parsed.configId, 8);
    assert.equal(parsed.lastHalfValidation, (0.5 + 0.9) / 2);
  });

  test("a sweep run's record names its sweep and axis values, and its id is made of them", () => {
    const [run] = sweepRuns(parseSweepSpec({ name: 'lr', fixed: { steps: 10, validateEvery: 5 }, axes: { learningRate: [0.5], norm: ['bn'] } }));
    const result = {
      curve: [0, 5, 10].map((step) => ({ step, validationAccuracy: step / 20, validationLoss: 1, trainingLoss: 1 })),
      validation: { accuracy: 0.5, loss: 1, count: 5000 },
      test: { accuracy: 0.4, loss: 1, count: 10000 },
      steps: 10,
      divergedAtStep: null,
      stepsPerSecond: 100,
      stopReason: 'completed',
    } as unknown as Parameters<typeof makeRunRecord>[2]['result'];
    const record = makeRunRecord('lr', run!, {
      result,
      backend: 'float32',
      durationMs: 5,
      bnlab: '0.1.0',
      data: 'x',
      dataHash: 'ab',
      finishedAt: '2026-11-30T00:00:00Z',
    });
    assert.equal(record.id, 'lr0.5-bn-s1');
    assert.equal(record.configId, null, "lr 0.5 is none of the article's configurations");
    assert.equal(record.lastHalfValidation, (0.25 + 0.5) / 2);
    assert.deepEqual(parseRunRecord(runRecordJson(record), 'lr0.5-bn-s1'), record);
  });

  test("a record written before a setting existed reads with that setting's default, so its run is not run again", () => {
    const record = fixtureRecord(1, true, 1, 0.98, 0.98);
    const stored = JSON.parse(runRecordJson(record)) as { config: Record<string, unknown> };
    delete stored.config.evalBatchSize;
    const parsed = parseRunRecord(JSON.stringify(stored), 'c1-bn-s1');
    assert.deepEqual(parsed.config, record.config);
  });
});
