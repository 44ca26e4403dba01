/**
 * @file The lab page in a real browser: the built page (dist/web) served by `bnlab serve`, driven
 * in Debian's Chromium by playwright-core. It loads without a console error; model 1 trains 500
 * steps and BN passes 0.85 validation accuracy; the page's numbers are the CLI's; the link keeps
 * the settings; a drawn digit is classified; batch statistics one example at a time collapse the
 * BN network as the article warns; a checkpoint goes out and back in; charts save as SVG and
 * PNG; a corrupt file changes nothing but the alert; a diverging network says so and the page
 * goes on; the server refuses paths that climb out; screenshots are saved. One server and one
 * browser serve every test of this file.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { CompareRecord } from '../../src/lab/run-summary.js';
import { runCli } from '../cli/run-cli.js';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { labFixture, openLab, playToEnd, watchErrors } from '../web-support/lab-browser.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../bnlab-out/screenshots/', import.meta.url));

describe('the lab page in Chromium', { timeout: 180_000 }, () => {
  const lab = labFixture();
  /** The page that trained model 1 for 500 steps; later tests classify and load with its networks. */
  let trained: Page;

  test('loads with no console error and both networks configured on WebAssembly', async () => {
    const page = await lab.browser.context.newPage();
    const errors = watchErrors(page);
    await openLab(page, lab.server.url, '/');
    await page.waitForTimeout(300); // a first redraw
    assert.deepEqual(errors, []);
    const backends = await page.evaluate(() => window.bnlabLab.backends);
    assert.match(backends.left ?? '', /^wasm /);
    assert.match(backends.right ?? '', /^wasm /);
    assert.equal(await page.locator('#status-with-bn [data-field=backend]').textContent(), 'WebAssembly relaxed SIMD');
    // Nothing to report: no alert, no notice.
    assert.equal(await page.locator('#alert').isVisible(), false);
    assert.equal(await page.locator('#notices').isVisible(), false);
    await page.close();
  });

  test('model 1 trains 500 steps and the network with BN passes 0.85 validation accuracy', async () => {
    trained = await lab.browser.context.newPage();
    const errors = watchErrors(trained);
    await openLab(trained, lab.server.url, '/?steps=500');
    await trained.click('button[data-model="1"]'); // the article's model 1, and a reset
    await trained.waitForFunction(() => window.bnlabLab.ready && window.bnlabLab.settings.model === 1);
    await playToEnd(trained);
    const results = await trained.evaluate(() => window.bnlabLab.results);
    assert.ok(results.right && results.left, 'both networks report results');
    assert.ok(results.right.validationAccuracy > 0.85, `with BN: validation accuracy ${results.right.validationAccuracy} after 500 steps`);
    // The article's point at this length: BN is well ahead (measured: 0.90 against 0.43).
    assert.ok(results.right.validationAccuracy > results.left.validationAccuracy + 0.2);
    // The status cards show the same numbers, as the CLI prints them.
    assert.equal(await trained.locator('#status-with-bn [data-field=validation-accuracy]').textContent(), results.right.validationAccuracy.toFixed(4));
    assert.equal(await trained.locator('#status-without-bn [data-field=test-accuracy]').textContent(), results.left.testAccuracy.toFixed(4));
    assert.equal(await trained.locator('#status-with-bn [data-field=step]').textContent(), '500 / 500');
    assert.deepEqual(errors, []);
  });

  test('a drawn digit gets ten class probabilities from both networks', async () => {
    await trained.locator('#draw-pad').scrollIntoViewIfNeeded(); // the mouse reaches only what is on screen
    const pad = (await trained.locator('#draw-pad').boundingBox())!;
    // A "1": one vertical stroke, off-centre on purpose (the page centres it as MNIST does).
    await trained.mouse.move(pad.x + 100, pad.y + 40);
    await trained.mouse.down();
    for (let k = 1; k <= 12; k++) await trained.mouse.move(pad.x + 100 + k, pad.y + 40 + k * 16);
    await trained.mouse.up();
    await trained.waitForFunction(() => window.bnlabLab.inference?.source === 'drawn');
    const answer = (await trained.evaluate(() => window.bnlabLab.inference))!;
    assert.equal(answer.probabilities.length, 2);
    for (const probabilities of answer.probabilities) {
      assert.equal(probabilities.length, 10);
      assert.ok(probabilities.every((p) => p >= 0 && p <= 1));
      assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    }
    assert.equal(await trained.locator('[data-field=predictions] .prediction').count(), 2);
  });

  test("the confusion matrix under the moving average gives each network's test accuracy", async () => {
    const results = await trained.evaluate(() => window.bnlabLab.results);
    await trained.click('#confusion');
    await trained.waitForFunction(() => window.bnlabLab.confusion !== null, null, { timeout: 60_000 });
    const confusion = (await trained.evaluate(() => window.bnlabLab.confusion))!;
    assert.deepEqual(confusion.inference, { estimator: 'ema', oneAtATime: false });
    // The same images, weights and statistics as the run's final test evaluation.
    assert.deepEqual(confusion.accuracy, [results.left!.testAccuracy, results.right!.testAccuracy]);
  });

  test("the batch's own statistics one example at a time: the network with BN answers every image alike", async () => {
    const withBnAnswers = async (): Promise<number[][]> => {
      const answers: number[][] = [];
      for (let k = 0; k < 2; k++) {
        await trained.evaluate(() => {
          (window as unknown as { previous: unknown }).previous = window.bnlabLab.inference;
        });
        await trained.click('#random-test-image');
        await trained.waitForFunction(
          () => window.bnlabLab.inference !== (window as unknown as { previous: unknown }).previous && window.bnlabLab.inference?.source === 'test',
        );
        answers.push(await trained.evaluate(() => window.bnlabLab.inference!.probabilities[1]!));
      }
      return answers;
    };
    const [first, second] = await withBnAnswers();
    assert.notDeepEqual(first, second, 'under the moving average two test images get different answers');
    await trained.check('#inference-batch');
    await trained.check('#one-at-a-time');
    assert.equal(await trained.locator('[data-field=batch-warning]').isVisible(), true);
    const [alone1, alone2] = await withBnAnswers();
    // One example: its variance is 0, x̂ = 0, and BN outputs β whatever the image.
    assert.deepEqual(alone1, alone2);
    await trained.check('#inference-ema');
    await trained.uncheck('#one-at-a-time');
  });

  test('a downloaded network loads back (by its header, into the network with BN) with its accuracy', async () => {
    const results = await trained.evaluate(() => window.bnlabLab.results);
    const [download] = await Promise.all([trained.waitForEvent('download'), trained.click('#download-with-bn')]);
    assert.equal(download.suggestedFilename(), 'bnlab-with-bn.safetensors');
    const path = await download.path();
    await trained.setInputFiles('#load-network', path);
    const loaded = trained.locator('#status-with-bn [data-field=loaded]');
    await loaded.waitFor({ state: 'visible' });
    assert.match(
      (await loaded.textContent())!,
      new RegExp(`validation ${results.right!.validationAccuracy.toFixed(4)}, test ${results.right!.testAccuracy.toFixed(4)}`),
    );
    // The CLI reads the page's file and finds the same accuracy.
    const evaluated = await runCli(['eval', path, '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const record = JSON.parse(evaluated.stdout) as { validation: { accuracy: number }; test: { accuracy: number } };
    assert.equal(record.validation.accuracy, results.right!.validationAccuracy);
    assert.equal(record.test.accuracy, results.right!.testAccuracy);
  });

  test("a network saved by bnlab train --save evaluates in the page to the CLI's numbers", async () => {
    const checkpoint = join(scratchFolder('bnlab-page-load-'), 'cli.safetensors');
    const trainedByCli = await runCli(['train', '--steps', '200', '--validate-every', '100', '--seed', '3', '--save', checkpoint, '--json']);
    assert.equal(trainedByCli.code, 0, trainedByCli.stderr);
    const run = (JSON.parse(trainedByCli.stdout) as { run: { validationAccuracy: number; testAccuracy: number } }).run;
    await trained.setInputFiles('#load-network', checkpoint);
    const loaded = trained.locator('#status-with-bn [data-field=loaded]');
    await trained.waitForFunction(
      (name) => document.querySelector('#status-with-bn [data-field=loaded]')?.textContent?.includes(name) === true,
      'cli.safetensors',
    );
    assert.match((await loaded.textContent())!, new RegExp(`validation ${run.validationAccuracy.toFixed(4)}, test ${run.testAccuracy.toFixed(4)}`));
  });

  test('a chart saves as SVG, a canvas view as PNG', async () => {
    await trained.locator('#accuracy').scrollIntoViewIfNeeded();
    const [svg] = await Promise.all([trained.waitForEvent('download'), trained.click('#accuracy button:text("Save accuracy SVG")')]);
    assert.equal(svg.suggestedFilename(), 'bnlab-accuracy.svg');
    assert.match(readFileSync(await svg.path(), 'utf8'), /^<svg[^>]*>[\s\S]*validation accuracy/);
    const [png] = await Promise.all([trained.waitForEvent('download'), trained.click('#saturation button:text("Save PNG (canvas)")')]);
    assert.equal(png.suggestedFilename(), 'bnlab-saturation.png');
    assert.deepEqual([...readFileSync(await png.path()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  });

  test('a corrupt file shows its message in the alert and nothing else changes', async () => {
    const snapshot = (): Promise<unknown> =>
      trained.evaluate(() => ({
        url: location.href,
        stats: window.bnlabLab.stats.step,
        results: window.bnlabLab.results,
        settings: window.bnlabLab.settings,
        status: document.querySelector('#status')!.textContent,
        fields: Array.from(document.querySelectorAll('#settings input')).map((input) => (input as HTMLInputElement).value),
      }));
    const before = await snapshot();
    await trained.setInputFiles('#load-network', { name: 'corrupt.safetensors', mimeType: 'application/octet-stream', buffer: randomBytes(4096) });
    const alert = trained.locator('#alert');
    await alert.waitFor({ state: 'visible' });
    assert.match((await alert.textContent())!, /corrupt\.safetensors is not a readable safetensors file/);
    assert.deepEqual(await snapshot(), before);
  });

  test('the link restores the settings after a reload; a bad value is ignored with a notice, a bad field keeps the run', async () => {
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?lr=abc&steps=40');
    assert.match((await page.locator('#notices').textContent())!, /Ignored lr=abc in the link: --lr must be a positive number, got abc/);
    await page.selectOption('#setting-act', 'tanh');
    await page.fill('#setting-hidden', '64,32');
    await page.press('#setting-hidden', 'Tab');
    await page.fill('#setting-seed', '7');
    await page.press('#setting-seed', 'Tab');
    await page.waitForFunction(() => window.bnlabLab.settings.config.seed === 7 && window.bnlabLab.ready);
    const url = page.url();
    assert.match(url, /act=tanh/);
    assert.match(url, /hidden=64,32/);
    assert.match(url, /seed=7/);
    assert.doesNotMatch(url, /lr=abc/);

    // A wrong value in a field: its message beside it, and neither the run nor the link changes.
    await page.fill('#setting-batch', '1');
    await page.press('#setting-batch', 'Tab');
    assert.match((await page.locator('#setting-batch-error').textContent())!, /--batch-size must be at least 2 in training mode with BatchNorm/);
    assert.equal(page.url(), url);

    const settings = await page.evaluate(() => window.bnlabLab.settings);
    await page.reload();
    await page.waitForFunction(() => window.bnlabLab?.ready === true);
    assert.deepEqual(await page.evaluate(() => window.bnlabLab.settings), settings);
    assert.equal(await page.inputValue('#setting-hidden'), '64,32');
    assert.equal(await page.inputValue('#setting-act'), 'tanh');
    assert.equal(await page.locator('#notices').isVisible(), false);
    await page.close();
  });

  test('a diverging network shows "diverged at step N" and both runs go on to their end', async () => {
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?lr=50&steps=40');
    await playToEnd(page);
    const results = await page.evaluate(() => window.bnlabLab.results);
    assert.ok(results.left!.divergedAtStep !== null, 'at lr 50 the network without BN diverges');
    assert.equal(
      await page.locator('#status-without-bn [data-field=diverged]').textContent(),
      `diverged at step ${results.left!.divergedAtStep} (loss NaN or infinite)`,
    );
    assert.equal(await page.locator('#status-without-bn [data-field=step]').textContent(), '40 / 40');
    await page.close();
  });

  test("the page ends a run with the CLI's validation and test accuracy (compare, 300 steps)", async () => {
    const out = scratchFolder('bnlab-cli-');
    const cli = await runCli(['compare', '--steps', '300', '--validate-every', '100', '--json', '--out', out]);
    assert.equal(cli.code, 0, cli.stderr);
    const expected = JSON.parse(cli.stdout) as CompareRecord;
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?steps=300&every=100');
    await playToEnd(page);
    const record = (await page.evaluate(() => window.bnlabLab.compareRecord()))!;
    assert.deepEqual(record.config, expected.config, 'the same settings');
    assert.equal(record.command, 'compare');
    assert.equal(record.data, expected.data);
    for (const i of [0, 1]) {
      const [mine, theirs] = [record.runs[i]!, expected.runs[i]!];
      assert.equal(mine.label, theirs.label);
      assert.equal(mine.validationAccuracy.toFixed(4), theirs.validationAccuracy.toFixed(4), `${mine.label}: validation accuracy`);
      assert.equal(mine.testAccuracy.toFixed(4), theirs.testAccuracy.toFixed(4), `${mine.label}: test accuracy`);
      assert.deepEqual(
        mine.curve.map((point) => point.validationAccuracy),
        theirs.curve.map((point) => point.validationAccuracy),
        `${mine.label}: validation curve`,
      );
      assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort(), 'the same record fields as compare.json');
    }
    await page.close();
  });

  test('screenshots at 1280×800 and 375×812 while both networks train', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await lab.browser.context.newPage();
    await openLab(page, lab.server.url, '/?model=1&steps=50000');
    await page.click('#play');
    // Far enough for the curves and the layers' percentiles to show a trend.
    await page.waitForFunction(() => window.bnlabLab.stats.step.right >= 2500 && window.bnlabLab.stats.step.left >= 2500, null, { polling: 50 });
    await page.waitForTimeout(700); // a redraw with the latest numbers
    const wide = join(SCREENSHOTS, 'page-1280x800.png');
    await page.screenshot({ path: wide });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(1000);
    const narrow = join(SCREENSHOTS, 'page-375x812.png');
    await page.screenshot({ path: narrow });
    const state = await page.evaluate(() => window.bnlabLab.stats.state);
    // Taken while training (the article's 50,000 steps last about a minute); nothing wider than the phone.
    assert.deepEqual(state, { left: 'running', right: 'running' }, 'the screenshots show both networks training');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'at 375 px nothing overflows sideways');
    for (const file of [wide, narrow]) assert.deepEqual([...readFileSync(file).subarray(1, 4)], [0x50, 0x4e, 0x47], `${file} is a PNG`);
    await page.click('#pause');
    await page.close();
  });

  test('the server refuses paths that climb out of the page folder', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json', '/..%5Cpackage.json']) {
      const { status, body } = await rawGet(lab.server.url, path);
      assert.ok(status >= 400 && status < 500, `${path}: HTTP ${status}`);
      assert.doesNotMatch(body, /"devDependencies"/, `${path} must not serve the package's own files`);
    }
    assert.equal((await rawGet(lab.server.url, '/index.html')).status, 200);
  });
});

/** GET `path` exactly as written (no URL normalization on the way, unlike fetch). */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
