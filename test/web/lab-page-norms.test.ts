/**
 * @file The lab page with other norms than without/with BN, in Debian's Chromium (as
 * lab-page.test.ts): `?norms=none,ln` ends with `bnlab compare --norms none,ln`'s numbers for the
 * same settings, and everything that names a network follows the norms (status cards, chart
 * series, layer views, the BN figure's explanation, the inference panel); BN against Batch Renorm
 * at batch 4 shows both in the BN figure, downloads `bnlab-with-brn.safetensors`, loads it back
 * into the right network and refuses a checkpoint of a norm neither network has in one sentence;
 * the form's norm menus and Group Norm's groups follow compare's checks and write the link; a
 * screenshot of BN against Layer Norm training is saved with each network's steps/s (reported,
 * never asserted). One server and one browser serve every test of this file.
 */

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CompareRecord } from '../../src/lab/run-summary.js';
import { runCli } from '../cli/run-cli.js';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { labFixture, openLab, playToEnd, watchErrors } from '../web-support/lab-browser.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../bnlab-out/screenshots/', import.meta.url));

describe('the lab page with any two norms, in Chromium', { timeout: 240_000 }, () => {
  const lab = labFixture();

  test("none against Layer Norm: the page ends with bnlab compare --norms none,ln's numbers, and every view names LN", async () => {
    const out = scratchFolder('bnlab-cli-norms-');
    const cli = await runCli(['compare', '--norms', 'none,ln', '--steps', '300', '--validate-every', '100', '--json', '--out', out]);
    assert.equal(cli.code, 0, cli.stderr);
    const expected = JSON.parse(cli.stdout) as CompareRecord;
    const page = await lab.browser.context.newPage();
    const errors = watchErrors(page);
    await openLab(page, lab.server.url, '/?norms=none,ln&steps=300&every=100');
    assert.deepEqual(await page.evaluate(() => window.bnlabLab.settings.norms), ['none', 'ln']);
    await playToEnd(page);
    const record = (await page.evaluate(() => window.bnlabLab.compareRecord()))!;
    assert.deepEqual(record.config, expected.config, 'the same settings');
    assert.equal(record.data, expected.data);
    assert.equal(record.runs.length, 2);
    for (const i of [0, 1]) {
      const [mine, theirs] = [record.runs[i]!, expected.runs[i]!];
      assert.equal(mine.label, theirs.label);
      assert.equal(mine.network, theirs.network);
      assert.equal(mine.norm, theirs.norm);
      assert.equal(mine.validationAccuracy, theirs.validationAccuracy, `${mine.label}: validation accuracy`);
      assert.equal(mine.testAccuracy, theirs.testAccuracy, `${mine.label}: test accuracy`);
      assert.deepEqual(
        mine.curve.map((point) => point.validationAccuracy),
        theirs.curve.map((point) => point.validationAccuracy),
        `${mine.label}: validation curve`,
      );
      assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort(), 'the same record fields as compare.json');
    }
    assert.deepEqual(
      record.runs.map((run) => run.label),
      ['Without Batch Norm', 'With Layer Norm'],
    );

    // The names follow the norms: cards, layer views, charts, the BN figure's sentence, the inference panel.
    assert.equal(await page.locator('#status-without-bn h2').textContent(), 'Without Batch Norm');
    assert.equal(await page.locator('#status-with-ln h2').textContent(), 'With Layer Norm');
    assert.equal(await page.locator('#status-with-ln [data-field=test-accuracy]').textContent(), record.runs[1]!.testAccuracy.toFixed(4));
    assert.equal(await page.locator('#status-with-bn').count(), 0);
    assert.equal(await page.locator('#layers canvas[aria-label*="with LN"]').count(), 6, 'percentiles and histograms of three layers');
    assert.equal(await page.locator('#saturation canvas[aria-label^="with LN"]').count(), 1);
    assert.match((await page.locator('#lede-pair').textContent())!, /one without Batch Norm and one with Layer Norm/);
    const noBatchNorm = page.locator('#batch-norm [data-field=no-batch-norm]');
    assert.equal(await noBatchNorm.isVisible(), true);
    assert.match((await noBatchNorm.textContent())!, /Neither network has BatchNorm's batch statistics/);
    assert.equal(await page.locator('#batch-norm canvas').count(), 0);
    assert.equal(await page.locator('#download-with-ln').textContent(), 'Download network with LN');
    await page.locator('#accuracy').scrollIntoViewIfNeeded();
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#accuracy button:text("Save accuracy SVG")')]);
    const chart = readFileSync(await svg.path(), 'utf8');
    assert.match(chart, /with LN/, 'the legend names the network with LN');
    assert.match(chart, /#54a24b/i, "in LN's reserved green");
    await page.click('#random-test-image');
    await page.waitForFunction(() => window.bnlabLab.inference?.source === 'test');
    assert.deepEqual(
      await page.locator('[data-field=predictions] .prediction').evaluateAll((spans) => spans.map((span) => (span as HTMLElement).dataset.network)),
      ['without-bn', 'with-ln'],
    );
    assert.match((await page.locator('[data-field=estimator-scope]').textContent())!, /Neither network has batch statistics/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('BN against Batch Renorm at batch 4: both in the BN figure; a checkpoint goes back to its network, one of neither norm is refused', async () => {
    const page = await lab.browser.context.newPage();
    const errors = watchErrors(page);
    await openLab(page, lab.server.url, '/?norms=bn,brn&batch=4&steps=200&every=100');
    await playToEnd(page);
    const results = await page.evaluate(() => window.bnlabLab.results);
    assert.ok(results.left && results.right);
    assert.deepEqual(
      await page.locator('#batch-norm .layer-block').evaluateAll((blocks) => blocks.map((block) => (block as HTMLElement).dataset.norm)),
      ['bn', 'brn', 'bn', 'brn', 'bn', 'brn'],
      'one row per layer of each network',
    );
    assert.equal(await page.locator('#batch-norm h3').first().textContent(), 'BN layer 1');
    assert.equal(await page.locator('#batch-norm h3').nth(1).textContent(), 'Batch Renorm layer 1');
    assert.equal(await page.locator('#batch-norm [data-field=no-batch-norm]').isVisible(), false);
    assert.match((await page.locator('[data-field=estimator-scope]').textContent())!, /apply to both networks/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-with-brn')]);
    assert.equal(download.suggestedFilename(), 'bnlab-with-brn.safetensors');
    await page.setInputFiles('#load-network', await download.path());
    const loaded = page.locator('#status-with-brn [data-field=loaded]');
    await loaded.waitFor({ state: 'visible' });
    assert.match(
      (await loaded.textContent())!,
      new RegExp(`with Batch Renorm\\): validation ${results.right.validationAccuracy.toFixed(4)}, test ${results.right.testAccuracy.toFixed(4)}`),
    );
    assert.equal(await page.locator('#status-with-bn [data-field=loaded]').isVisible(), false, 'the other network is untouched');

    // A network without a norm: neither of this page's networks.
    const checkpoint = join(scratchFolder('bnlab-page-norms-'), 'plain.safetensors');
    const trainedByCli = await runCli(['train', '--no-bn', '--steps', '20', '--save', checkpoint, '--json']);
    assert.equal(trainedByCli.code, 0, trainedByCli.stderr);
    await page.setInputFiles('#load-network', checkpoint);
    const alert = page.locator('#alert');
    await alert.waitFor({ state: 'visible' });
    assert.equal(
      await alert.locator('[data-field=alert]').textContent(),
      'plain.safetensors holds a network without Batch Norm, but the page trains the one with Batch Norm and the one with Batch Renorm: choose none for the left or the right network, then load it again.',
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("the norm menus and Group Norm's groups: compare's checks beside the field, the link follows", async () => {
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?norms=bn,bn&steps=40');
    assert.match((await page.locator('#notices').textContent())!, /Ignored norms=bn,bn in the link: --norms lists bn twice: name each norm once/);
    assert.equal(await page.locator('#setting-groups').isVisible(), false, "Group Norm's setting shows only with Group Norm");
    await page.selectOption('#setting-right', 'gn');
    await page.waitForFunction(() => window.bnlabLab.settings.norms[1] === 'gn' && window.bnlabLab.ready);
    assert.match(page.url(), /norms=none,gn/);
    assert.match(page.url(), /groups=32/);
    assert.equal(await page.locator('#setting-groups').isVisible(), true);
    assert.equal(await page.locator('#status-with-gn h2').textContent(), 'With Group Norm');

    await page.fill('#setting-groups', '5');
    await page.press('#setting-groups', 'Tab');
    assert.match((await page.locator('#setting-groups-error').textContent())!, /--norm-groups 5 does not divide the hidden layer width 128/);
    assert.match(page.url(), /groups=32/, 'the run and the link keep their groups');
    await page.fill('#setting-groups', '4');
    await page.press('#setting-groups', 'Tab');
    await page.waitForFunction(() => window.bnlabLab.settings.config.normGroups === 4 && window.bnlabLab.ready);
    assert.match(page.url(), /groups=4/);

    // Choosing for the left the norm the right has swaps them (a norm is named once).
    await page.selectOption('#setting-left', 'gn');
    await page.waitForFunction(() => window.bnlabLab.settings.norms.join() === 'gn,none' && window.bnlabLab.ready);
    assert.equal(await page.inputValue('#setting-right'), 'none');
    await page.reload();
    await page.waitForFunction(() => window.bnlabLab?.ready === true);
    assert.deepEqual(await page.evaluate(() => window.bnlabLab.settings.norms), ['gn', 'none']);
    assert.equal(await page.evaluate(() => window.bnlabLab.settings.config.normGroups), 4);
    await page.close();
  });

  test("a screenshot of BN against Layer Norm training (model 1), with each network's steps/s", async (t) => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?model=1&norms=bn,ln&steps=50000');
    await page.click('#play');
    await page.waitForFunction(() => window.bnlabLab.stats.step.left >= 2500 && window.bnlabLab.stats.step.right >= 2500, null, { polling: 50 });
    await page.waitForTimeout(700);
    const file = join(SCREENSHOTS, 'page-bn-ln-1280x800.png');
    await page.screenshot({ path: file });
    const { stepsPerSecond, state } = await page.evaluate(() => window.bnlabLab.stats);
    t.diagnostic(`steps/s in this page: with BN ${stepsPerSecond.left.toFixed(0)}, with LN ${stepsPerSecond.right.toFixed(0)} (reported, not asserted)`);
    assert.deepEqual(state, { left: 'running', right: 'running' });
    assert.deepEqual([...readFileSync(file).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    await page.click('#pause');
    await page.close();
  });
});
