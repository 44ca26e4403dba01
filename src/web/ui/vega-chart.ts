/**
 * @file A Vega-Lite spec drawn in the page by vega's own runtime (canvas renderer), with its data
 * in named datasets so that a live chart is updated by replacing rows (`view.data(...)`)
 * instead of compiling and parsing its spec again.
 */
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { VegaLiteSpec } from '../../lab/charts/types.js';

export class VegaChart {
  private view: View | null = null;

  constructor(readonly container: HTMLElement) {}

  /** Draws `spec`, replacing what was drawn before. */
  async show(spec: VegaLiteSpec): Promise<void> {
    this.view?.finalize();
    // resize: the axes grow when the first rows arrive; without it the canvas keeps the empty chart's size.
    const runtime = parse(compile({ ...spec, autosize: { type: 'pad', resize: true } }).spec);
    this.view = new View(runtime, { renderer: 'canvas', container: this.container, hover: false });
    await this.view.runAsync();
  }

  /** Replaces the rows of the dataset called `name`, then redraws. */
  async setData(rowsByName: Record<string, object[]>): Promise<void> {
    const view = this.view;
    if (!view) return;
    for (const [name, rows] of Object.entries(rowsByName)) view.data(name, rows);
    await view.runAsync();
  }

  get ready(): boolean {
    return this.view !== null;
  }

  /** The chart as a PNG or SVG data URL. */
  async toImageURL(format: 'png' | 'svg'): Promise<string> {
    if (!this.view) throw new Error('the chart has not been drawn yet');
    return this.view.toImageURL(format, format === 'png' ? 2 : 1);
  }
}

/** `spec` (one view of a builder in src/lab/charts) with its inline rows replaced by the named dataset `name`. */
export function withNamedData(spec: VegaLiteSpec, name: string): VegaLiteSpec {
  return { ...spec, data: { name } };
}
