/**
 * @file Saturation per hidden layer over training, both networks side by side: for sigmoid and
 * tanh the fraction of (image, unit) pairs whose derivative is below 0.01, for ReLU the fraction
 * of units dead on every probe image (the session's measure, as `bnlab explain saturation`'s).
 */
import type { ActivationKind } from '../../core/kernels.js';
import { drawLine, preparePlot } from './canvas-plot.js';
import { el } from './dom.js';
import { canvasesToPng, createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, type NormPair, networkLabel } from './network-style.js';
import type { NetworkTrace } from './network-trace.js';

/** One color per layer (the palette src/lab/charts gives names other than the two networks). */
const LAYER_COLORS = ['#54a24b', '#e45756', '#b279a2', '#72b7b2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'];

/** What the view measures for an activation, as its axis says it. */
function saturationLabel(activation: ActivationKind): string {
  return activation === 'relu' ? 'dead units' : activation === 'identity' ? 'never saturates' : "saturated (f'<0.01)";
}

const MEASURE =
  'With sigmoid or tanh: the fraction of units whose derivative is below 0.01, where almost no gradient passes. With ReLU: the fraction of ' +
  'units that output zero for every probe image (dead: their weights get no gradient). ';
const DEFAULT_NOTE = `${MEASURE}Without BN a wide initialization (std 10) saturates the sigmoid network from step 0; BN keeps each unit's input near the responsive middle.`;
const OTHER_NOTE =
  MEASURE +
  "Without a norm a wide initialization (std 10) saturates the sigmoid network from step 0; a norm that scales each unit's input " +
  '(BN and its successors, Layer, Group and RMS Norm) keeps it near the responsive middle.';

export class SaturationFigure {
  readonly figure: Figure;
  private readonly canvases: HTMLCanvasElement[];
  private activation: ActivationKind = 'relu';
  private drawnVersions = '';

  constructor() {
    this.figure = createFigure({
      id: 'saturation',
      title: 'Saturation per layer',
      note: DEFAULT_NOTE,
      claim: 'saturation',
    });
    this.canvases = DEFAULT_NORMS.map((norm) => el('canvas', { class: 'plot', 'aria-label': `${networkLabel(norm)}: saturation per layer over training` }));
    this.figure.body.append(el('div', { class: 'pair' }, ...this.canvases));
    this.figure.addSave('png', 'bnlab-saturation', () => canvasesToPng(this.canvases, 2), 'Save PNG (canvas)');
  }

  setActivation(activation: ActivationKind): void {
    this.activation = activation;
    this.drawnVersions = '';
  }

  /** The networks' norms, left and right (their titles and labels). */
  setNorms(norms: NormPair): void {
    this.canvases.forEach((canvas, i) => {
      canvas.setAttribute('aria-label', `${networkLabel(norms[i]!)}: saturation per layer over training`);
    });
    this.figure.setNote(norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1] ? DEFAULT_NOTE : OTHER_NOTE);
    this.drawnVersions = '';
  }

  draw(traces: readonly NetworkTrace[]): void {
    const versions = `${traces.map((trace) => `${trace.runId}.${trace.version}`).join()}/${this.figure.body.clientWidth}`;
    if (versions === this.drawnVersions) return;
    this.drawnVersions = versions;
    traces.forEach((trace, i) => {
      const canvas = this.canvases[i]!;
      const steps = trace.probes.map((sample) => sample.step);
      const layers = trace.probes[0]?.saturation.length ?? 0;
      const frame = preparePlot(canvas, {
        title: `${networkLabel(trace.norm)}: ${saturationLabel(this.activation)}`,
        xDomain: steps.length > 1 ? [steps[0]!, steps.at(-1)!] : [0, Math.max(1, trace.steps)],
        yDomain: [-0.03, 1.03], // a line at exactly 0 or 1 stays visible above the frame
        height: 170,
        xLabel: 'training step',
        xWhole: true,
        legend: Array.from({ length: layers }, (_, l) => ({ name: `layer ${l + 1}`, color: LAYER_COLORS[l % LAYER_COLORS.length]! })),
      });
      for (let l = 0; l < layers; l++) {
        drawLine(
          frame,
          steps,
          trace.probes.map((sample) => sample.saturation[l]!),
          LAYER_COLORS[l % LAYER_COLORS.length]!,
          2,
        );
      }
    });
  }
}
