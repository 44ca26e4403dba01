/**
 * @file The page's link format (src/web/url-state.ts), in Node: a link restores every setting, a
 * bad value is ignored alone with a notice in the CLI's words, `model` sets the article's
 * configuration and explicit values override it, and settings -> query -> settings is the identity.
 * The norms: `norms=left,right` (none,bn when absent, and then not written), the settings of the
 * chosen norms only, and compare's checks of the norms with the settings.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveTrainConfig, TRAIN_DEFAULTS } from '../../src/train/config.js';
import {
  applyModel,
  checkNorms,
  defaultSettings,
  type LabSettings,
  parseConfigParameter,
  parseNorms,
  queryFromSettings,
  settingsFromQuery,
} from '../../src/web/url-state.js';

describe('url-state', () => {
  test('an empty query gives the defaults: the article model 1 for 3,000 steps', () => {
    const { settings, notices } = settingsFromQuery('');
    assert.deepEqual(notices, []);
    assert.deepEqual(settings, defaultSettings());
    assert.equal(settings.model, 1);
    assert.equal(settings.config.steps, TRAIN_DEFAULTS.steps);
    assert.equal(settings.config.batchNorm, true);
  });

  test('every parameter is read into its setting', () => {
    const { settings, notices } = settingsFromQuery(
      '?std=0.1&lr=0.5&act=tanh&batch=32&hidden=64,32&steps=700&every=50&seed=9&eps=0.00001&momentum=0.9&estimator=average&backend=js',
    );
    assert.deepEqual(notices, []);
    assert.deepEqual(settings, {
      config: resolveTrainConfig({
        batchNorm: true,
        initStd: 0.1,
        learningRate: 0.5,
        activation: 'tanh',
        batchSize: 32,
        hiddenSizes: [64, 32],
        steps: 700,
        validateEvery: 50,
        seed: 9,
        bnEps: 1e-5,
        bnMomentum: 0.9,
        bnEstimator: 'average',
      }),
      norms: ['none', 'bn'],
      model: null,
      backend: 'js',
    });
  });

  test('settings -> query -> settings gives the same settings', () => {
    const samples: LabSettings[] = [
      defaultSettings(),
      { config: applyModel(resolveTrainConfig({ batchNorm: true, steps: 500 }), 8), norms: ['none', 'bn'], model: 8, backend: 'auto' },
      {
        config: resolveTrainConfig({ batchNorm: true, hiddenSizes: [10, 20, 30, 40], bnEps: 0.25, learningRate: 1e-7 }),
        norms: ['ln', 'bn'],
        model: null,
        backend: 'js',
      },
    ];
    for (const settings of samples) {
      const query = queryFromSettings(settings);
      assert.deepEqual(settingsFromQuery(query), { settings, notices: [] }, query);
    }
    assert.match(queryFromSettings(samples[2]!), /hidden=10,20,30,40/);
  });

  test("an invalid value is ignored alone, with a notice that names it in the CLI's words", () => {
    const { settings, notices } = settingsFromQuery('?lr=abc&steps=250&batch=1&act=softmax&hidden=128,,4&momentum=1&model=9&backend=gpu&speed=3');
    assert.equal(settings.config.steps, 250, 'the valid parameter is kept');
    assert.equal(settings.config.learningRate, TRAIN_DEFAULTS.learningRate);
    assert.equal(settings.config.batchSize, TRAIN_DEFAULTS.batchSize);
    assert.deepEqual(settings.config.hiddenSizes, TRAIN_DEFAULTS.hiddenSizes);
    assert.equal(settings.backend, 'auto');
    assert.deepEqual(notices, [
      "Ignored model=9 in the link: model must be one of the article's models 1 to 8",
      'Ignored lr=abc in the link: --lr must be a positive number, got abc',
      'Ignored act=softmax in the link: --act must be one of relu, sigmoid, tanh in the page, got "softmax"',
      'Ignored batch=1 in the link: --batch-size must be at least 2 in training mode with BatchNorm: a single example has no variance (got 1)',
      'Ignored hidden=128,,4 in the link: --hidden must be a comma-separated list of layer widths such as 128,128,128, got 128,,4',
      'Ignored momentum=1 in the link: --bn-momentum must be in [0, 1) (a decay: new = momentum·old + (1 − momentum)·batch), got 1',
      'Ignored backend=gpu in the link: --backend must be one of js, wasm, auto',
      'Ignored speed=3 in the link: the page has no setting "speed"',
    ]);
  });

  test("model sets the article's configuration; explicit values override it, and a changed one drops the model", () => {
    const model3 = settingsFromQuery('?model=3&steps=200').settings;
    assert.equal(model3.model, 3);
    assert.deepEqual([model3.config.initStd, model3.config.learningRate, model3.config.activation, model3.config.batchSize], [0.05, 2, 'relu', 60]);
    assert.equal(model3.config.steps, 200);
    const changed = settingsFromQuery('?model=3&lr=0.5').settings;
    assert.equal(changed.model, null, 'lr 0.5 is no longer model 3');
    assert.equal(changed.config.learningRate, 0.5);
    // Without a model parameter, settings that are a model are recognized as it.
    assert.equal(settingsFromQuery('?std=10&lr=2&act=sigmoid').settings.model, 8);
  });

  test('parseConfigParameter checks one value against the defaults of the others', () => {
    assert.deepEqual(parseConfigParameter('hidden', ' 256, 128 '), { ok: true, patch: { hiddenSizes: [256, 128] } });
    assert.deepEqual(parseConfigParameter('every', '1e2'), { ok: true, patch: { validateEvery: 100 } });
    assert.deepEqual(parseConfigParameter('steps', ''), { ok: false, message: '--steps needs a value' });
    assert.deepEqual(parseConfigParameter('seed', '1.5'), { ok: false, message: '--seed must be a whole number of at least 0, got 1.5' });
    assert.deepEqual(parseConfigParameter('estimator', 'median'), { ok: false, message: '--bn-estimator must be one of ema, average, batch, got "median"' });
  });

  test('the default link is as it always was: no norms parameter, none,bn', () => {
    const query = queryFromSettings(defaultSettings());
    assert.equal(query, '?model=1&std=0.05&lr=0.01&act=relu&batch=60&hidden=128,128,128&steps=3000&every=500&seed=1&eps=0.001&momentum=0.99&estimator=ema');
    assert.deepEqual(settingsFromQuery('?norms=none,bn').settings, defaultSettings());
  });

  test('norms and the settings of the chosen norms go into the link and back', () => {
    const samples: LabSettings[] = [
      { ...defaultSettings(), norms: ['bn', 'ln'] },
      { ...defaultSettings(), norms: ['none', 'gn'], config: resolveTrainConfig({ batchNorm: true, normGroups: 4 }) },
      { ...defaultSettings(), norms: ['bn', 'ghost'], config: resolveTrainConfig({ batchNorm: true, batchSize: 64, ghostBatch: 16 }), model: null },
      {
        ...defaultSettings(),
        norms: ['brn', 'bn'],
        config: resolveTrainConfig({ batchNorm: true, batchSize: 4, renormRmax: 2, renormDmax: 1, renormWarmup: 0.1 }),
        model: null,
      },
    ];
    for (const settings of samples) {
      const query = queryFromSettings(settings);
      assert.deepEqual(settingsFromQuery(query), { settings, notices: [] }, query);
    }
    assert.match(queryFromSettings(samples[0]!), /^\?model=1&norms=bn,ln&std=/);
    assert.match(queryFromSettings(samples[1]!), /&groups=4$/);
    assert.doesNotMatch(queryFromSettings(samples[1]!), /ghost=|rmax=/, "only the chosen norms' settings");
    assert.match(queryFromSettings(samples[2]!), /&ghost=16$/);
    assert.match(queryFromSettings(samples[3]!), /&rmax=2&dmax=1&warmup=0.1$/);
  });

  test("bad norms are ignored with a notice in the CLI's words, and the page keeps none,bn", () => {
    const cases: Array<[string, string]> = [
      ['?norms=none,xn', 'Ignored norms=none,xn in the link: --norms must be one of '],
      ['?norms=bn,bn', 'Ignored norms=bn,bn in the link: --norms lists bn twice: name each norm once'],
      ['?norms=ln', 'Ignored norms=ln in the link: --norms names 1 norm, but the page trains two networks: give two, such as none,bn'],
      ['?norms=none,bn,ln', 'Ignored norms=none,bn,ln in the link: --norms names 3 norms, but the page trains two networks: give two, such as none,bn'],
      ['?norms=none,gn&hidden=100', 'Ignored norms=none,gn in the link: --norm-groups 32 does not divide the hidden layer width 100'],
    ];
    for (const [query, notice] of cases) {
      const { settings, notices } = settingsFromQuery(query);
      assert.deepEqual(settings.norms, ['none', 'bn'], query);
      assert.equal(notices.length, 1, query);
      assert.ok(notices[0]!.startsWith(notice), `${query}: ${notices[0]}`);
    }
  });

  test("a norm's setting that compare refuses is ignored alone; one for a norm not chosen is ignored", () => {
    const groups = settingsFromQuery('?norms=none,gn&groups=5');
    assert.deepEqual(groups.settings.norms, ['none', 'gn']);
    assert.equal(groups.settings.config.normGroups, TRAIN_DEFAULTS.normGroups);
    assert.deepEqual(groups.notices, [
      'Ignored groups=5 in the link: --norm-groups 5 does not divide the hidden layer width 128: Group Norm needs groups of equal size (choose a divisor of every --hidden width)',
    ]);
    const ghost = settingsFromQuery('?norms=bn,ghost&ghost=7');
    assert.deepEqual(ghost.settings.norms, ['bn', 'ghost']);
    assert.equal(ghost.settings.config.ghostBatch, TRAIN_DEFAULTS.ghostBatch);
    assert.match(ghost.notices[0]!, /^Ignored ghost=7 in the link: --ghost-batch 7 does not divide the batch size 60/);
    const estimator = settingsFromQuery('?norms=none,brn&estimator=average');
    assert.deepEqual(estimator.settings.norms, ['none', 'brn']);
    assert.equal(estimator.settings.config.bnEstimator, 'ema');
    assert.deepEqual(estimator.notices, [
      'Ignored estimator=average in the link: --bn-estimator average applies to bn only: brn infers with its moving averages (ema)',
    ]);
    const unused = settingsFromQuery('?groups=4&ghost=1');
    assert.equal(unused.settings.config.normGroups, TRAIN_DEFAULTS.normGroups);
    assert.deepEqual(unused.notices, [
      'Ignored groups=4 in the link: --norm-groups applies to Group Norm only: choose gn as one of the two networks (norms=none,gn)',
      'Ignored ghost=1 in the link: --ghost-batch applies to Ghost Batch Norm only: choose ghost as one of the two networks (norms=none,ghost)',
    ]);
  });

  test('parseNorms and checkNorms speak as compare does', () => {
    assert.deepEqual(parseNorms(' ln , rms '), { ok: true, norms: ['ln', 'rms'] });
    assert.throws(() => checkNorms(resolveTrainConfig({ batchNorm: true }), ['ln', 'ln']), /^ConfigError: --norms lists ln twice: name each norm once$/);
    assert.throws(
      () => checkNorms(resolveTrainConfig({ batchNorm: true, hiddenSizes: [10] }), ['none', 'gn']),
      /--norm-groups 32 does not divide the hidden layer width 10/,
    );
    assert.doesNotThrow(() => checkNorms(resolveTrainConfig({ batchNorm: true, hiddenSizes: [10], normGroups: 5 }), ['gn', 'ln']));
  });
});
