/**
 * @file Sweep specs (src/lab/sweep/): every error names the offending key; the runs are the axes'
 * product × the seeds, with ids from the values' labels; a combination that is not a valid config
 * is named by the key that set it; the bounds hold before anything is expanded.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepRuns } from '../../src/lab/sweep/sweep-runs.js';
import { parseSweepSpec, SweepSpecError } from '../../src/lab/sweep/sweep-spec.js';
import { sweepSpecFromText } from '../../src/node/sweep-files.js';
import { TRAIN_DEFAULTS } from '../../src/train/config.js';

const refused = (document: unknown, key: string, pattern: RegExp) =>
  assert.throws(
    () => sweepRuns(parseSweepSpec(document)),
    (error: Error) => error instanceof SweepSpecError && error.key === key && pattern.test(error.message),
  );

describe('runs', () => {
  test('the product of the axes × the seeds, seed by seed, the last axis fastest; ids from labels', () => {
    const runs = sweepRuns(parseSweepSpec({ seeds: 2, fixed: { steps: 100 }, axes: { norm: ['none', 'bn'], batchSize: [8, 32], hiddenSizes: [[64, 64]] } }));
    assert.deepEqual(
      runs.map((run) => run.id),
      [
        'none-b8-h64x64-s1',
        'none-b32-h64x64-s1',
        'bn-b8-h64x64-s1',
        'bn-b32-h64x64-s1',
        'none-b8-h64x64-s2',
        'none-b32-h64x64-s2',
        'bn-b8-h64x64-s2',
        'bn-b32-h64x64-s2',
      ],
    );
    const run = runs[3]!;
    assert.equal(run.config.batchNorm, true);
    assert.equal(run.config.batchSize, 32);
    assert.deepEqual(run.config.hiddenSizes, [64, 64]);
    assert.equal(run.config.steps, 100);
    assert.equal(run.config.learningRate, TRAIN_DEFAULTS.learningRate, 'what the spec does not set is the default');
    assert.equal(run.config.stopOnDivergence, false, 'a sweep trains every run to the end');
    assert.deepEqual(
      run.axes.map((value) => [value.axis, value.label, value.numeric]),
      [
        ['norm', 'bn', null],
        ['batchSize', 'b32', 32],
        ['hiddenSizes', 'h64x64', null],
      ],
    );
  });

  test("the norms beyond BN on an axis, Group Norm's groups as a setting", () => {
    const runs = sweepRuns(parseSweepSpec({ fixed: { normGroups: 4 }, axes: { norm: ['none', 'bn', 'ln', 'gn', 'rms'] } }));
    assert.deepEqual(
      runs.map((run) => run.id),
      ['none-s1', 'bn-s1', 'ln-s1', 'gn-s1', 'rms-s1'],
    );
    assert.deepEqual(
      runs.map((run) => [run.config.norm, run.config.batchNorm]),
      [
        ['none', false],
        ['bn', true],
        ['ln', false],
        ['gn', false],
        ['rms', false],
      ],
    );
    assert.equal(runs[3]!.config.normGroups, 4);
    assert.throws(() => sweepRuns(parseSweepSpec({ fixed: { normGroups: 5 }, axes: { norm: ['gn'] } })), /does not divide the hidden layer width 128/);
  });

  test('Batch Renormalization and Ghost BN on an axis, their settings with short labels; errors name the sweep key', () => {
    const runs = sweepRuns(
      parseSweepSpec({ fixed: { renormWarmup: 0.1 }, axes: { norm: ['bn', 'brn', 'ghost'], renormRmax: [1, 3], renormDmax: [0, 5], ghostBatch: [5, 20] } }),
    );
    assert.equal(runs[0]!.id, 'bn-rmax1-dmax0-gb5-s1');
    const brn = runs.find((run) => run.id === 'brn-rmax3-dmax5-gb20-s1')!;
    assert.deepEqual([brn.config.norm, brn.config.batchNorm, brn.config.renormRmax, brn.config.renormDmax, brn.config.renormWarmup], ['brn', false, 3, 5, 0.1]);
    assert.equal(runs.find((run) => run.id === 'ghost-rmax1-dmax0-gb20-s1')!.config.ghostBatch, 20);
    assert.equal(sweepRuns(parseSweepSpec({ axes: { renormWarmup: [0.25] } }))[0]!.id, 'rw0.25-s1');
    refused(
      { fixed: { batchSize: 60 }, axes: { norm: ['ghost'], ghostBatch: [20, 7] } },
      'axes.ghostBatch[1]',
      /ghostBatch 7 does not divide the batch size 60/,
    );
    refused({ fixed: { renormRmax: 0.5 }, axes: { norm: ['brn'] } }, 'fixed', /renormRmax must be a number of at least 1/);
  });

  test('named values set several settings under one label; a list of seeds', () => {
    const runs = sweepRuns(
      parseSweepSpec({ seeds: [7, 3], axes: { model: [{ label: 'deep', hiddenSizes: [32, 32, 32, 32], learningRate: 0.1 }, { initStd: 1 }] } }),
    );
    assert.deepEqual(
      runs.map((run) => run.id),
      ['deep-s7', 'std1-s7', 'deep-s3', 'std1-s3'],
    );
    assert.equal(runs[0]!.config.learningRate, 0.1);
    assert.equal(runs[1]!.axes[0]!.numeric, 1, 'a value that sets one number is plotted at it');
  });

  test('the same spec gives the same ids and configs (stable, so a resumed sweep finds its records)', () => {
    const document = { seeds: 2, axes: { learningRate: [0.01, 0.1], activation: ['relu', 'sigmoid'] } };
    assert.deepEqual(sweepRuns(parseSweepSpec(document)), sweepRuns(parseSweepSpec(structuredClone(document))));
  });
});

describe('errors name the offending key', () => {
  test('types, names and values', () => {
    refused([], '', /a sweep spec is an object/);
    refused({ axes: {}, extra: 1 }, 'extra', /is not a key of a sweep spec/);
    refused({ axes: {} }, 'axes', /has no axis/);
    refused({ axes: { lr: [0.1] } }, 'axes.lr[0]', /axis "lr" is not a setting.*learningRate/);
    refused({ axes: { learningRate: 0.1 } }, 'axes.learningRate', /must be a non-empty list/);
    refused({ axes: { learningRate: [0.1, 'fast'] } }, 'axes.learningRate[1]', /must be a number, got "fast"/);
    refused({ axes: { activation: ['relu', 'swish'] } }, 'axes.activation[1]', /must be one of relu, sigmoid, tanh, identity/);
    refused({ fixed: { momentum: 0.9 }, axes: { norm: ['bn'] } }, 'fixed.momentum', /"momentum" is not a setting/);
    refused({ axes: { m: [{ label: 'a b', initStd: 1 }] } }, 'axes.m[0].label', /letters, digits/);
    refused({ axes: { learningRate: [0.1, 0.1] } }, 'axes.learningRate[1]', /has the label "lr0.1" of axes.learningRate\[0\]/);
    refused({ fixed: { learningRate: 0.1 }, axes: { learningRate: [0.5] } }, 'axes.learningRate', /sets "learningRate", which fixed sets too/);
    refused({ seeds: 0, axes: { norm: ['bn'] } }, 'seeds', /from 1 to 1000/);
    refused({ seeds: [1, 1], axes: { norm: ['bn'] } }, 'seeds', /lists a seed twice/);
  });

  test('a value out of range, and a combination that is not a valid config, named where it was set', () => {
    refused({ axes: { learningRate: [0.1, -1] } }, 'axes.learningRate[1]', /learningRate must be a positive number, got -1/);
    refused({ fixed: { steps: -5 }, axes: { norm: ['bn'] } }, 'fixed', /steps must be a whole number of at least 0/);
    refused({ axes: { batchSize: [1], norm: ['none', 'bn'] } }, 'axes.batchSize[0]', /at least 2 in training mode with BatchNorm.*\(in the run b1-bn-s1\)/);
  });

  test('bounds hold before any run is expanded', () => {
    const many = Array.from({ length: 1001 }, (_, i) => i + 1);
    refused({ axes: { batchSize: many } }, 'axes.batchSize', /at most 1000/);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 2);
    refused({ seeds: 11, axes: { batchSize: hundred, validateEvery: hundred } }, 'axes', /make 110,000 runs with the seeds; a sweep may have at most 100,000/);
  });

  test('files: JSON and YAML read alike; a syntax error names the file and the line', () => {
    const yaml = sweepSpecFromText('axes:\n  norm: [none, bn]\n', 'a.yaml');
    assert.deepEqual(yaml, sweepSpecFromText('{"axes": {"norm": ["none", "bn"]}}', 'a.json'));
    assert.throws(() => sweepSpecFromText('axes: {norm: [bn}\n', 'b.yaml'), /b\.yaml is not valid YAML at line 1, column \d+: /);
    assert.throws(() => sweepSpecFromText('{"axes": ', 'c.json'), /c\.json is not valid JSON/);
    assert.throws(
      () => sweepSpecFromText('axes:\n  norm: [xn]\n', 'd.yaml'),
      /sweep spec d\.yaml: axes\.norm\[0\]: must be one of none, bn, brn, ghost, ln, gn, rms, wn, got "xn"/,
    );
  });
});
