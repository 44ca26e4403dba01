/**
 * @file Inside each hidden layer, both networks side by side (whatever their norms: these read the
 * activation's input): the 15th/50th/85th percentiles of one unit's input over training (the BN
 * paper's Figure 1b-c) and a histogram of the whole layer's pre-activations at the latest probe.
 * A unit selector chooses the unit both follow.
 */

import { drawBand, drawBars, drawLine, extent, preparePlot } from './canvas-plot.js';
import { el } from './dom.js';
import { canvasesToPng, createFigure, type Figure } from './figure.js';
import { DEFAULT_NORMS, type NormPair, networkColor, networkFill, networkLabel, networkPhrase } from './network-style.js';
import type { NetworkTrace } from './network-trace.js';

const PLOT_HEIGHT = 150;

const DEFAULT_NOTE =
  "Left of each pair the network without BN, right the one with BN. The band is the 15th to 85th percentile of one unit's input over " +
  'a fixed set of 256 validation images, the line its median: without BN it drifts as the layers below change (internal covariate shift), ' +
  "with BN it stays put. The histograms show every unit's input at the latest probe.";

/** The note for another pair than the default one. */
function noteFor(norms: NormPair): string {
  return (
    `Left of each pair the network ${networkPhrase(norms[0])}, right the one ${networkPhrase(norms[1])}. The band is the 15th to 85th percentile ` +
    "of one unit's input over a fixed set of 256 validation images, the line its median: without a norm it drifts as the layers below change " +
    "(internal covariate shift); BN and its successors hold it in place with the batch's statistics, Layer, Group and RMS Norm with each example's own. " +
    "The histograms show every unit's input at the latest probe."
  );
}

interface LayerBlock {
  percentiles: HTMLCanvasElement[]; // [left, right]
  histograms: HTMLCanvasElement[];
  heading: HTMLElement;
}

export class LayersFigure {
  readonly figure: Figure;
  private readonly unitInput: HTMLInputElement;
  private readonly blocksContainer: HTMLElement;
  private blocks: LayerBlock[] = [];
  private norms: NormPair = DEFAULT_NORMS;
  private drawnVersions = '';

  /** `onWatchUnit` is told the unit the user picked (both workers must be asked). */
  constructor(onWatchUnit: (unit: number) => void) {
    this.figure = createFigure({
      id: 'layers',
      title: 'Inside the hidden layers',
      note: DEFAULT_NOTE,
      claim: 'covariate-shift',
    });
    this.unitInput = el('input', { type: 'number', id: 'watched-unit', min: 0, step: 1, value: 0, inputmode: 'numeric' });
    this.unitInput.addEventListener('change', () => {
      const unit = Math.max(0, Math.floor(Number(this.unitInput.value) || 0));
      this.unitInput.value = String(unit);
      onWatchUnit(unit);
    });
    this.blocksContainer = el('div', { class: 'layer-blocks' });
    this.figure.body.append(
      el('p', { class: 'inline-control' }, el('label', { for: 'watched-unit' }, 'Watched unit (from 0): '), this.unitInput),
      this.blocksContainer,
    );
    this.figure.addSave(
      'png',
      'bnlab-layers',
      () =>
        canvasesToPng(
          this.blocks.flatMap((block) => [...block.percentiles, ...block.histograms]),
          4,
        ),
      'Save PNG (canvas)',
    );
  }

  /** Lays out one block per hidden layer of `hiddenSizes` for the networks with `norms` (after a reset with other sizes or norms). */
  setLayers(hiddenSizes: readonly number[], norms: NormPair): void {
    this.unitInput.max = String(Math.max(0, Math.min(...hiddenSizes) - 1));
    const sameNorms = norms[0] === this.norms[0] && norms[1] === this.norms[1];
    if (sameNorms && this.blocks.length === hiddenSizes.length && this.blocks.every((block, l) => block.heading.dataset.width === String(hiddenSizes[l])))
      return;
    this.norms = norms;
    this.figure.setNote(norms[0] === DEFAULT_NORMS[0] && norms[1] === DEFAULT_NORMS[1] ? DEFAULT_NOTE : noteFor(norms));
    this.blocksContainer.replaceChildren();
    this.blocks = hiddenSizes.map((width, l) => {
      const heading = el('h3', { 'data-width': width }, `Hidden layer ${l + 1} (${width} units)`);
      const percentiles = norms.map((norm) =>
        el('canvas', { class: 'plot', 'aria-label': `layer ${l + 1}, ${networkLabel(norm)}: percentiles of the watched unit's input over training` }),
      );
      const histograms = norms.map((norm) =>
        el('canvas', { class: 'plot', 'aria-label': `layer ${l + 1}, ${networkLabel(norm)}: histogram of the layer's pre-activations` }),
      );
      this.blocksContainer.append(
        el('div', { class: 'layer-block' }, heading, el('div', { class: 'pair' }, ...percentiles), el('div', { class: 'pair' }, ...histograms)),
      );
      return { percentiles, histograms, heading };
    });
    this.drawnVersions = '';
  }

  draw(traces: readonly NetworkTrace[]): void {
    const versions = `${traces.map((trace) => `${trace.runId}.${trace.version}`).join()}/${this.figure.body.clientWidth}`;
    if (versions === this.drawnVersions) return;
    this.drawnVersions = versions;
    this.blocks.forEach((block, l) => {
      traces.forEach((trace, index) => {
        this.drawPercentiles(block.percentiles[index]!, trace, l);
        this.drawHistogram(block.histograms[index]!, trace, l);
      });
    });
    const unit = traces[0]?.watchedUnit;
    if (unit !== undefined && document.activeElement !== this.unitInput) this.unitInput.value = String(unit);
  }

  private drawPercentiles(canvas: HTMLCanvasElement, trace: NetworkTrace, layer: number): void {
    const samples = trace.probes.filter((sample) => sample.percentiles[layer] !== undefined);
    const steps = samples.map((sample) => sample.step);
    const [p15, p50, p85] = [0, 1, 2].map((k) => samples.map((sample) => sample.percentiles[layer]![k]!));
    const frame = preparePlot(canvas, {
      title: `${networkLabel(trace.norm)}: unit ${trace.watchedUnit}'s input, 15/50/85th pct`,
      xDomain: steps.length > 1 ? [steps[0]!, steps.at(-1)!] : [0, Math.max(1, trace.steps)],
      yDomain: extent([...p15!, ...p85!]),
      height: PLOT_HEIGHT,
      xLabel: 'training step',
      xWhole: true,
    });
    drawBand(frame, steps, p15!, p85!, networkFill(trace.norm, 0.25));
    drawLine(frame, steps, p15!, networkColor(trace.norm), 0.75);
    drawLine(frame, steps, p85!, networkColor(trace.norm), 0.75);
    drawLine(frame, steps, p50!, networkColor(trace.norm), 2);
  }

  private drawHistogram(canvas: HTMLCanvasElement, trace: NetworkTrace, layer: number): void {
    const histogram = trace.layers?.[layer]?.histogram;
    const counts = histogram?.counts ?? [];
    const start = histogram?.start ?? 0;
    const binWidth = histogram && histogram.binWidth > 0 ? histogram.binWidth : 1;
    const frame = preparePlot(canvas, {
      title: `${networkLabel(trace.norm)}: layer ${layer + 1}'s pre-activations now`,
      xDomain: counts.length ? [start, start + binWidth * counts.length] : [0, 1],
      yDomain: [0, Math.max(1, ...counts) * 1.05],
      height: PLOT_HEIGHT,
      xLabel: `activation input (step ${trace.probes.at(-1)?.step ?? trace.step})`,
    });
    drawBars(frame, start, binWidth, counts, networkFill(trace.norm, 0.8));
  }
}
