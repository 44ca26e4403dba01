/**
 * @file Both HTML reports (reproduce's grid report and explain's) opened in Debian's Chromium, as
 * a reader opens them from disk: every chart's clip paths resolve inside its own SVG (vega names
 * them clip1, clip2… in each chart; a browser resolves url(#clip1) to the page's first, which cut
 * the curves of models 1-8 to the overview's small panel), and each curve spans its plot's width.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../src/cli/commands/report.js';
import { lineChartSpec } from '../../src/lab/charts/line-chart.js';
import { explainReportHtml } from '../../src/lab/explain-report.js';
import { renderSvg } from '../../src/node/render-chart.js';
import { RunStore } from '../../src/node/run-store.js';
import { FIXTURE_SETTINGS, fixtureRecord } from '../lab/run-record-fixture.js';
import { type LabBrowser, launchBrowser } from '../web-support/lab-browser.js';

/** What the browser resolves, per chart: [clip-path references resolved outside their own SVG, curves narrower than 90% of their clip]. */
interface DrawnCharts {
  charts: number;
  clipped: number;
  strayReferences: string[];
  narrowCurves: string[];
}

/** Runs in the page: resolves each url(#id) as the browser does (the document's first element with that id). */
function inspectCharts(): DrawnCharts {
  const svgs = Array.from(document.querySelectorAll('svg'));
  const strayReferences: string[] = [];
  const narrowCurves: string[] = [];
  let clipped = 0;
  svgs.forEach((svg, chart) => {
    for (const element of Array.from(svg.querySelectorAll('[clip-path]'))) {
      const id = /url\(#([^)]+)\)/.exec(element.getAttribute('clip-path') ?? '')?.[1];
      if (!id) continue;
      clipped++;
      const clip = document.getElementById(id);
      if (!clip || clip.closest('svg') !== svg) {
        strayReferences.push(`chart ${chart}: url(#${id}) resolves ${clip ? 'into another chart' : 'to nothing'}`);
        continue;
      }
      const clipWidth = (clip.querySelector('rect, path') as SVGGraphicsElement | null)?.getBBox().width ?? 0;
      for (const line of Array.from(element.querySelectorAll('path[stroke]:not([stroke="none"])')) as SVGGraphicsElement[]) {
        const width = Math.min(line.getBBox().width, clipWidth);
        if (clipWidth > 0 && line.getBBox().width > 0 && width < 0.9 * clipWidth)
          narrowCurves.push(`chart ${chart}: a curve ${width.toFixed(0)} of ${clipWidth.toFixed(0)} px wide`);
      }
    }
  });
  return { charts: svgs.length, clipped, strayReferences, narrowCurves };
}

describe('the HTML reports in Chromium', { timeout: 120_000 }, () => {
  let browser: LabBrowser;
  const folder = mkdtempSync(join(tmpdir(), 'bnlab-html-reports-'));
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const open = async (path: string): Promise<DrawnCharts> => {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(path).href);
    const drawn = await page.evaluate(inspectCharts);
    await page.close();
    return drawn;
  };

  test("reproduce's report: the overview and every model's chart draw their own curves whole", async () => {
    const store = await RunStore.open(join(folder, 'runs'), { sweep: 'article', pinned: FIXTURE_SETTINGS, dataDir: null, force: false });
    for (const configId of [1, 2, 3] as const) {
      for (const batchNorm of [false, true]) await store.writeRecord(fixtureRecord(configId, batchNorm, 1, 0.9, 0.9));
    }
    const written = await writeReport(store, { write: () => true } as unknown as NodeJS.WritableStream);
    const drawn = await open(written.htmlPath);
    assert.equal(drawn.charts, 4, 'the overview and models 1-3');
    assert.ok(drawn.clipped >= 4, `clip paths found: ${drawn.clipped}`);
    assert.deepEqual(drawn.strayReferences, []);
    assert.deepEqual(drawn.narrowCurves, []);
  });

  test("explain's report: two figures of two claims, each clipped by its own chart", async () => {
    const figure = async (name: string, width: number) => {
      const spec = lineChartSpec({
        title: name,
        xTitle: 'step',
        yTitle: 'y',
        series: [
          {
            name: 'with BN',
            points: [
              { x: 0, y: 0.1 },
              { x: 50, y: 0.5 },
              { x: 100, y: 0.9 },
            ],
          },
        ],
        yDomain: [0, 1],
        width,
      });
      return { name, caption: name, svgFile: `${name}.svg`, pngFile: `${name}.png`, svg: await renderSvg(spec) };
    };
    const result = (name: string) => ({
      name,
      title: name,
      articleSays: '',
      method: '',
      numbers: {},
      tables: [],
      verdict: { holds: true, text: 'holds' },
      figures: [],
      lines: [],
      elapsedMs: 0,
    });
    const html = explainReportHtml({
      results: [
        { result: result('small'), figures: [await figure('small', 200)] },
        { result: result('wide'), figures: [await figure('wide', 600)] },
      ],
      bnlabVersion: 'test',
      backend: 'test',
      dataSource: 'test',
      quick: true,
      seed: 1,
    });
    const path = join(folder, 'explain.html');
    writeFileSync(path, html);
    const drawn = await open(path);
    assert.equal(drawn.charts, 2);
    assert.deepEqual(drawn.strayReferences, []);
    assert.deepEqual(drawn.narrowCurves, []);
  });
});
