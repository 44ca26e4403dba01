/**
 * @file Tests for the chart spec builders (src/lab/charts) and their Node renderer
 * (src/node/render-chart.ts): specs compile as Vega-Lite, carry the right rows, colors and notes;
 * the SVG and PNG come out whole, deterministic, the right size, and are written atomically.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { textMetrics } from 'vega';
import { barChartSpec, lineChartSpec, type Point, panelGridSpec, type Series, type VegaLiteSpec } from '../../src/lab/charts/index.js';
import { dejaVuSansTextWidth } from '../../src/lab/charts/text-width.js';
import { chartFontFiles, compileChart, renderSvg, svgToPng, writeChart } from '../../src/node/render-chart.js';

/** A saturating learning curve, like a validation-accuracy curve: top * (1 - exp(-i / rate)). */
function curve(rate: number, top: number, count = 20, stepsBetween = 50): Point[] {
  return Array.from({ length: count }, (_, index) => ({ x: index * stepsBetween, y: top * (1 - Math.exp(-index / rate)) }));
}

const comparison: Series[] = [
  { name: 'without BN', points: curve(8, 0.9) },
  { name: 'with BN', points: curve(3, 0.98) },
];

/** The data rows an inline-data spec (or one panel of it) carries. */
function inlineRows(spec: { data?: unknown }): Array<Record<string, unknown>> {
  const data = spec.data as { values?: unknown } | undefined;
  assert.ok(data !== undefined && Array.isArray(data.values), 'the spec should carry inline data values');
  return data.values as Array<Record<string, unknown>>;
}

/** Compiles with vega-lite and fails the test on any error or warning. */
function assertCompilesCleanly(spec: VegaLiteSpec): void {
  const { vegaSpec, warnings } = compileChart(spec);
  assert.deepEqual(warnings, [], 'vega-lite should compile the spec without warnings');
  assert.ok(Array.isArray(vegaSpec.marks) && vegaSpec.marks.length > 0, 'the compiled Vega spec should have marks');
}

/** How many drawn line paths (one per series with points) an SVG holds. */
function linePathCount(svg: string): number {
  return svg.match(/aria-roledescription="line mark"/g)?.length ?? 0;
}

/** The stroke color of the line path of a series, read from the SVG. */
function strokeOfSeries(svg: string, seriesName: string): string | undefined {
  const path = svg.match(new RegExp(`<path aria-label="[^"]*series: ${seriesName}"[^>]*aria-roledescription="line mark"[^>]*>`))?.[0];
  return path?.match(/stroke="([^"]+)"/)?.[1];
}

/** Width and height from a PNG's IHDR chunk (big-endian, bytes 16..23). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('lineChartSpec', () => {
  test('compiles as Vega-Lite and carries one row per point, with both series named', () => {
    const spec = lineChartSpec({ title: 'Validation accuracy', xTitle: 'step', yTitle: 'accuracy', series: comparison, yDomain: [0, 1] });
    assertCompilesCleanly(spec);
    const rows = inlineRows(spec);
    assert.equal(rows.length, 40);
    assert.equal(rows.filter((row) => row.series === 'without BN').length, 20);
    assert.equal(rows.filter((row) => row.series === 'with BN').length, 20);
    assert.deepEqual((spec.usermeta as { droppedPoints: number }).droppedPoints, 0);
  });

  test('drops NaN and infinite points, counts them, and says so in the subtitle', async () => {
    const diverged: Series = {
      name: 'without BN',
      points: curve(8, 2.3).map((point, index) => (index >= 15 ? { x: point.x, y: index === 19 ? Infinity : NaN } : point)),
    };
    const spec = lineChartSpec({ title: 'Loss', xTitle: 'step', yTitle: 'loss', series: [diverged, comparison[1] as Series] });
    assertCompilesCleanly(spec);
    assert.equal(inlineRows(spec).length, 15 + 20);
    assert.ok(inlineRows(spec).every((row) => Number.isFinite(row.y)));
    assert.equal((spec.usermeta as { droppedPoints: number }).droppedPoints, 5);
    const subtitle = (spec.title as { subtitle?: string }).subtitle;
    assert.equal(subtitle, 'not drawn: 5 NaN or infinite points (without BN 5)');
    const svg = await renderSvg(spec);
    assert.ok(svg.includes(subtitle));
    assert.equal(linePathCount(svg), 2);
  });

  test('on a log x axis, drops x <= 0 and uses a log scale', () => {
    const batchSizes = [0, 2, 8, 32, 128];
    const spec = lineChartSpec({
      title: 'Accuracy per batch size',
      xTitle: 'batch size',
      yTitle: 'accuracy',
      xScale: 'log',
      series: [{ name: 'with BN', points: batchSizes.map((size) => ({ x: size, y: 0.9 })) }],
    });
    assertCompilesCleanly(spec);
    assert.equal(inlineRows(spec).length, 4);
    assert.match((spec.title as { subtitle?: string }).subtitle ?? '', /1 point at or below 0 on a log axis \(with BN 1\)/);
    const scales = compileChart(spec).vegaSpec.scales ?? [];
    assert.equal(scales.find((scale) => scale.name === 'x')?.type, 'log');
  });

  test('rejects two series with one name, and a reversed y domain', () => {
    assert.throws(
      () => lineChartSpec({ title: 't', xTitle: 'x', yTitle: 'y', series: [comparison[0] as Series, comparison[0] as Series] }),
      /"without BN" appears twice/,
    );
    assert.throws(() => lineChartSpec({ title: 't', xTitle: 'x', yTitle: 'y', series: comparison, yDomain: [1, 0] }), /low < high/);
  });

  test('an empty chart and an all-NaN chart still render', async () => {
    const empty = await renderSvg(lineChartSpec({ title: 'Nothing yet', xTitle: 'x', yTitle: 'y', series: [] }));
    assert.ok(empty.includes('Nothing yet'));
    const allNaN = lineChartSpec({
      title: 'Diverged',
      xTitle: 'x',
      yTitle: 'y',
      series: [
        {
          name: 'without BN',
          points: [
            { x: 0, y: NaN },
            { x: 1, y: NaN },
          ],
        },
      ],
    });
    assert.equal(inlineRows(allNaN).length, 0);
    assert.equal(linePathCount(await renderSvg(allNaN)), 0);
  });
});

describe('series colors', () => {
  test('"without BN" and "with BN" keep their colors whatever the order; other names take the palette', async () => {
    const forward = await renderSvg(lineChartSpec({ title: 'a', xTitle: 'x', yTitle: 'y', series: comparison }));
    const reversed = await renderSvg(
      lineChartSpec({
        title: 'b',
        xTitle: 'x',
        yTitle: 'y',
        series: [comparison[1] as Series, { name: 'p50', points: curve(4, 0.5) }, comparison[0] as Series],
      }),
    );
    for (const svg of [forward, reversed]) {
      assert.equal(strokeOfSeries(svg, 'without BN'), '#f58518');
      assert.equal(strokeOfSeries(svg, 'with BN'), '#4c78a8');
    }
    const otherColor = strokeOfSeries(reversed, 'p50');
    assert.ok(otherColor !== undefined && otherColor !== '#f58518' && otherColor !== '#4c78a8', `p50 got ${otherColor}`);
  });
});

describe('panelGridSpec', () => {
  const configurations = Array.from({ length: 8 }, (_, index) => ({
    title: `${index + 1}: std ${index % 2 === 0 ? 0.05 : 0.5}, lr ${index % 4 < 2 ? 0.01 : 0.1}, ${index < 4 ? 'relu' : 'sigmoid'}`,
    series: [
      { name: 'without BN', points: curve(2 + index, 0.8) },
      { name: 'with BN', points: curve(2, 0.97) },
    ],
  }));

  test('one panel per configuration with its own title and rows, one shared legend', async () => {
    const spec = panelGridSpec({ title: 'The eight configurations', xTitle: 'step', yTitle: 'accuracy', panels: configurations, columns: 4, yDomain: [0, 1] });
    assertCompilesCleanly(spec);
    const panels = (spec as { concat: Array<{ title: { text: string }; data?: unknown }> }).concat;
    assert.equal(panels.length, 8);
    panels.forEach((panel, index) => {
      assert.equal(panel.title.text, configurations[index]?.title);
      assert.equal(inlineRows(panel).length, 40);
    });
    const svg = await renderSvg(spec);
    assert.ok(svg.includes('1: std 0.05, lr 0.01, relu') && svg.includes('8: std 0.5, lr 0.1, sigmoid'));
    assert.equal(linePathCount(svg), 16);
    assert.equal(svg.match(/class="mark-group role-legend"/g)?.length, 1, 'the grid should have exactly one legend');
  });

  test('a panel whose points were all dropped keeps its place, and the note names it', () => {
    const panels = configurations.slice(0, 3).map((panel) => ({ ...panel, series: panel.series.map((series) => ({ ...series })) }));
    (panels[1]?.series[0] as Series).points = curve(3, 1).map((point) => ({ x: point.x, y: NaN }));
    const spec = panelGridSpec({ title: 'g', xTitle: 'x', yTitle: 'y', panels, columns: 2 });
    assertCompilesCleanly(spec);
    const concat = (spec as { concat: Array<{ data?: unknown }> }).concat;
    assert.deepEqual(
      concat.map((panel) => inlineRows(panel).length),
      [40, 20, 40],
    );
    assert.equal((spec.title as { subtitle?: string }).subtitle, 'not drawn: 20 NaN or infinite points (2: std 0.5, lr 0.01, relu / without BN 20)');
  });

  test('rejects columns < 1 and duplicate panel titles', () => {
    assert.throws(() => panelGridSpec({ title: 't', xTitle: 'x', yTitle: 'y', panels: configurations, columns: 0 }), /columns must be/);
    assert.throws(() => panelGridSpec({ title: 't', xTitle: 'x', yTitle: 'y', panels: [configurations[0]!, configurations[0]!], columns: 2 }), /appears twice/);
  });
});

describe('barChartSpec', () => {
  const bars = ['2', '8', '60'].flatMap((size, index) => [
    { category: size, group: 'without BN', value: 0.9 + index / 100 },
    { category: size, group: 'with BN', value: 0.95 + index / 100 },
  ]);

  test('compiles, one row and one drawn bar per value, colored by group', async () => {
    const spec = barChartSpec({ title: 'Accuracy per batch size', xTitle: 'batch size', yTitle: 'accuracy', bars, yDomain: [0, 1] });
    assertCompilesCleanly(spec);
    assert.equal(inlineRows(spec).length, 6);
    const svg = await renderSvg(spec);
    const barPaths = svg.match(/<path aria-label="[^"]*"[^>]*aria-roledescription="bar"[^>]*>/g) ?? [];
    assert.equal(barPaths.length, 6);
    assert.equal(barPaths.filter((path) => path.includes('group: with BN') && path.includes('fill="#4c78a8"')).length, 3);
    assert.equal(barPaths.filter((path) => path.includes('group: without BN') && path.includes('fill="#f58518"')).length, 3);
  });

  test('drops a NaN value with a note, and rejects a repeated (category, group)', async () => {
    const withNaN = bars.map((bar, index) => (index === 1 ? { ...bar, value: NaN } : bar));
    const spec = barChartSpec({ title: 'b', xTitle: 'x', yTitle: 'y', bars: withNaN });
    assert.equal(inlineRows(spec).length, 5);
    assert.equal((spec.title as { subtitle?: string }).subtitle, 'not drawn: 1 NaN or infinite value (2 / with BN)');
    assert.equal((await renderSvg(spec)).match(/aria-roledescription="bar"/g)?.length, 5);
    assert.throws(() => barChartSpec({ title: 'b', xTitle: 'x', yTitle: 'y', bars: [...bars, bars[0]!] }), /given twice/);
  });
});

describe('renderSvg and svgToPng', () => {
  const spec = lineChartSpec({ title: 'Validation accuracy without and with BN', xTitle: 'step', yTitle: 'accuracy', series: comparison, yDomain: [0, 1] });

  test('the SVG holds the title and one line path per series, and the same spec gives the same bytes', async () => {
    const first = await renderSvg(spec);
    assert.ok(first.startsWith('<svg'));
    assert.ok(first.includes('>Validation accuracy without and with BN</text>'));
    assert.equal(linePathCount(first), 2);
    assert.ok(first.includes('font-family="DejaVu Sans, Verdana, sans-serif"'));
    // Render something else in between: vega's clip-path counter moves on, our output must not.
    await renderSvg(barChartSpec({ title: 'other', xTitle: 'x', yTitle: 'y', bars: [{ category: 'a', group: 'g', value: 1 }] }));
    assert.equal(await renderSvg(spec), first);
  });

  test('the PNG starts with the PNG signature and is the SVG size times the scale', async () => {
    const svg = await renderSvg(spec);
    const svgWidth = Number(svg.match(/^<svg[^>]* width="(\d+)"/)?.[1]);
    const svgHeight = Number(svg.match(/^<svg[^>]* height="(\d+)"/)?.[1]);
    assert.ok(svgWidth > 480 && svgHeight > 300, `the SVG should be larger than its 480x300 plot area, got ${svgWidth}x${svgHeight}`);
    for (const scale of [1, 2]) {
      const png = svgToPng(svg, scale);
      assert.deepEqual([...png.subarray(0, 8)], pngSignature);
      assert.deepEqual(pngSize(png), { width: svgWidth * scale, height: svgHeight * scale });
    }
    assert.throws(() => svgToPng(svg, 0), /positive number/);
  });

  test('text is measured as DejaVu Sans draws it (checked against resvg drawing the glyphs)', {
    skip: chartFontFiles().length === 0 ? 'DejaVu Sans is not installed' : false,
  }, () => {
    // resvg turns text into glyph outlines. The ink width of "|T|" less that of "||" is exactly
    // the advance width of T (the bars' side bearings cancel), which is what layout needs.
    const fontSizePx = 100;
    const inkWidth = (text: string, bold: boolean): number => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="200"><text x="10" y="150" font-family="DejaVu Sans" font-size="${fontSizePx}" font-weight="${bold ? 'bold' : 'normal'}">${text}</text></svg>`;
      return new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: chartFontFiles(), defaultFontFamily: 'DejaVu Sans' } }).getBBox()?.width ?? 0;
    };
    for (const [text, bold] of [
      ['validation accuracy', false],
      ['1: std 0.05, lr 0.01, relu', true],
      ['without BN (0.976)', false],
    ] as const) {
      const drawnWidth = inkWidth(`|${text}|`, bold) - inkWidth('||', bold);
      const predicted = dejaVuSansTextWidth(text, fontSizePx, bold);
      // Within 0.5% (it is exact for these strings): kerning, which the measure ignores, is the only expected difference.
      assert.ok(Math.abs(predicted - drawnWidth) < 0.005 * predicted, `${text}: predicted ${predicted.toFixed(1)} px, resvg drew ${drawnWidth.toFixed(1)} px`);
      // And vega lays text out with this measure, not its headless guess of 0.8 em per character.
      const vegaWidth = textMetrics.width({ fontSize: fontSizePx, fontWeight: bold ? 'bold' : 'normal' }, text);
      assert.ok(Math.abs(vegaWidth - drawnWidth) < 0.005 * drawnWidth, `${text}: vega measures ${vegaWidth.toFixed(1)} px`);
    }
  });
});

describe('writeChart', () => {
  test('writes the SVG and the PNG, creates the folder, and leaves no temporary file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'bnlab-charts-'));
    try {
      const spec = lineChartSpec({ title: 'Written chart', xTitle: 'step', yTitle: 'accuracy', series: comparison });
      const basePath = join(folder, 'figures', 'compare');
      const { svgPath, pngPath } = await writeChart(spec, basePath);
      assert.equal(svgPath, `${basePath}.svg`);
      assert.equal(pngPath, `${basePath}.png`);
      assert.equal(await readFile(svgPath, 'utf8'), await renderSvg(spec));
      assert.deepEqual([...(await readFile(pngPath)).subarray(0, 8)], pngSignature);
      assert.deepEqual((await readdir(join(folder, 'figures'))).sort(), ['compare.png', 'compare.svg']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

test('the spec builders import nothing from Node, so a web page can use them', () => {
  const folder = new URL('../../../src/lab/charts/', import.meta.url);
  const sources = readdirSync(folder).filter((name) => name.endsWith('.ts'));
  assert.ok(sources.length >= 5, `found only ${sources.length} sources in ${folder.pathname}`);
  for (const name of sources) {
    const source = readFileSync(new URL(name, folder), 'utf8');
    assert.doesNotMatch(source, /from ['"]node:|require\(/, `${name} imports from Node`);
    assert.doesNotMatch(source, /^import (?!type )[^;]*from ['"](vega|vega-lite|@resvg)/m, `${name} imports a renderer at run time`);
  }
});
