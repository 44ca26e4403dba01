/**
 * @file The Node edge of the charts: compiles a Vega-Lite spec, renders it to SVG with vega's
 * headless string renderer (no browser, no canvas package), rasterizes the SVG to PNG with
 * resvg, and writes both files atomically.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse, textMetrics, type Spec as VegaSpec, View } from 'vega';
import { compile } from 'vega-lite';
import { dejaVuSansTextWidth } from '../lab/charts/text-width.js';
import type { VegaLiteSpec } from '../lab/charts/types.js';
import { writeFileAtomic } from './atomic-write.js';

// vega exports textMetrics at run time (vega-scenegraph's text measure) but its typings omit it.
declare module 'vega' {
  export const textMetrics: { width: (item: TextItem, text: unknown) => number };
}

/** The fields of a vega text scene item that its width depends on. */
interface TextItem {
  fontSize?: number | string | null;
  fontWeight?: number | string | null;
  limit?: number | null;
}

/**
 * Measures text as DejaVu Sans draws it (the font resvg is given), in place of vega's headless
 * guess of 0.8 em per character. Replacing textMetrics.width is the hook vega's own source
 * names for this (vl-convert uses it); it applies to every vega view in this process. A width over the item's limit is reported as the limit: vega truncates such
 * text with an ellipsis to fit, and its truncation search still sees the text as too wide.
 */
function measureChartText(item: TextItem, text: unknown): number {
  const line = text === null || text === undefined ? '' : String(text).trim();
  const fontSizePx = item.fontSize === null || item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
  const weight = item.fontWeight;
  const bold =
    weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && Number(weight) >= 600);
  const width = dejaVuSansTextWidth(line, fontSizePx, bold);
  const limit = item.limit ?? 0;
  return limit > 0 ? Math.min(width, limit) : width;
}
textMetrics.width = measureChartText;

/** The result of compiling a Vega-Lite spec: the Vega spec, and vega-lite's warnings. */
export interface CompiledChart {
  vegaSpec: VegaSpec;
  warnings: string[];
}

/**
 * A vega logger (vega-util's LoggerInterface) that keeps warnings and errors instead of printing
 * them. Its methods are arrow functions because vega calls them detached from the object.
 */
class CollectingLogger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  private currentLevel = 0;

  readonly level = ((newLevel?: number): number | this => {
    if (newLevel === undefined) return this.currentLevel;
    this.currentLevel = newLevel;
    return this;
  }) as { (): number; (newLevel: number): CollectingLogger };

  readonly error = (...args: unknown[]): this => {
    this.errors.push(args.map(describeLogArgument).join(' '));
    return this;
  };

  readonly warn = (...args: unknown[]): this => {
    this.warnings.push(args.map(describeLogArgument).join(' '));
    return this;
  };

  readonly info = (): this => this;

  readonly debug = (): this => this;
}

function describeLogArgument(argument: unknown): string {
  return argument instanceof Error ? argument.message : String(argument);
}

/** Compiles Vega-Lite to Vega; throws on an invalid spec, returns the warnings. */
export function compileChart(spec: VegaLiteSpec): CompiledChart {
  const logger = new CollectingLogger();
  const vegaSpec = compile(spec, { logger }).spec;
  if (logger.errors.length > 0) throw new Error(`The chart spec did not compile: ${logger.errors.join('; ')}`);
  return { vegaSpec, warnings: logger.warnings };
}

/**
 * Vega numbers clip paths with a counter that lives as long as the process, so the second render
 * of a spec would say clip2 where the first said clip1. Renumbering them (and gradients) in
 * order of appearance makes the same spec give the same bytes.
 */
function renumberDefinitionIds(svg: string): string {
  const newIdByOld = new Map<string, string>();
  const countByKind = new Map<string, number>();
  return svg.replace(/(id="|url\(#)(p_)?(clip|gradient_)(\d+)/g, (_match, lead: string, patternPrefix: string | undefined, kind: string, number: string) => {
    const oldId = kind + number;
    let newId = newIdByOld.get(oldId);
    if (newId === undefined) {
      const count = (countByKind.get(kind) ?? 0) + 1;
      countByKind.set(kind, count);
      newId = kind + String(count);
      newIdByOld.set(oldId, newId);
    }
    return lead + (patternPrefix ?? '') + newId;
  });
}

/** Renders a Vega-Lite spec to an SVG document string (1 SVG unit = 1 CSS pixel). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vegaSpec } = compileChart(spec);
  const logger = new CollectingLogger();
  const view = new View(parse(vegaSpec), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    if (logger.errors.length > 0) throw new Error(`The chart failed to render: ${logger.errors.join('; ')}`);
    return renumberDefinitionIds(svg);
  } finally {
    view.finalize();
  }
}

/** Where the DejaVu Sans files are on common systems (Debian's fonts-dejavu-core first). */
const dejaVuDirectories = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF', '/usr/local/share/fonts', '/Library/Fonts'];
const dejaVuFileNames = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'];

let cachedFontOptions: ResvgRenderOptions['font'] | undefined;

/** The DejaVu Sans font files found on this machine; empty if none (PNG text would then fall back to any system font, or be missing). */
export function chartFontFiles(): string[] {
  for (const directory of dejaVuDirectories) {
    const files = dejaVuFileNames.map((name) => join(directory, name)).filter((path) => existsSync(path));
    if (files.length > 0) return files;
  }
  return [];
}

function fontOptions(): ResvgRenderOptions['font'] {
  if (cachedFontOptions === undefined) {
    const files = chartFontFiles();
    cachedFontOptions =
      files.length > 0
        ? // Only the files we use: faster than scanning every system font, and the same on every machine that has them.
          { loadSystemFonts: false, fontFiles: files, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }
        : // No DejaVu: let resvg use whatever the system has; with no fonts at all, text is left out rather than failing.
          { loadSystemFonts: true };
  }
  return cachedFontOptions;
}

/** Rasterizes an SVG to PNG bytes; `scale` 2 gives a sharp image on high-density screens and in documents. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`The PNG scale must be a positive number, got ${scale}.`);
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: fontOptions(), logLevel: 'off' });
  return resvg.render().asPng();
}

/**
 * Renders a chart and writes `basePath.svg` and `basePath.png` (creating the folder if needed),
 * each atomically. Returns the two paths.
 */
export async function writeChart(spec: VegaLiteSpec, basePath: string): Promise<{ svgPath: string; pngPath: string }> {
  const svg = await renderSvg(spec);
  const png = svgToPng(svg);
  const svgPath = `${basePath}.svg`;
  const pngPath = `${basePath}.png`;
  await writeFileAtomic(svgPath, svg);
  await writeFileAtomic(pngPath, png);
  return { svgPath, pngPath };
}
