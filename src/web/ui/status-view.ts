/**
 * @file One card per network: the kernels it runs on, its state, step and steps/s, "diverged at
 * step N" as the CLI says it, and once the run ends its validation and test accuracy, beside
 * the article's figures when the run is one of the article's models at a length it reports.
 */
import type { ArticleAccuracies } from '../../lab/article.js';
import type { NormKind } from '../../nn/spec.js';
import { el, formatAccuracy } from './dom.js';
import { networkColor, networkLabel, networkSlug, networkTitle } from './network-style.js';
import type { NetworkTrace } from './network-trace.js';

/** Whether a backend variant ('wasm relaxed-simd', 'wasm simd128', or the TypeScript kernels' 'float32') is WebAssembly. */
export function isWasmVariant(variant: string): boolean {
  return variant.startsWith('wasm');
}

/** The variant a worker reports, in words. */
function describeBackend(variant: string): string {
  switch (variant) {
    case 'wasm relaxed-simd':
      return 'WebAssembly relaxed SIMD';
    case 'wasm simd128':
      return 'WebAssembly SIMD128';
    default:
      return isWasmVariant(variant) ? variant : `plain TypeScript (${variant})`;
  }
}

export class StatusView {
  readonly element: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly state: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly step: HTMLElement;
  private readonly speed: HTMLElement;
  private readonly diverged: HTMLElement;
  private readonly result: HTMLElement;
  private readonly loaded: HTMLElement;

  /** The card of the network with `norm`: #status-without-bn, #status-with-bn, #status-with-ln… */
  constructor(readonly norm: NormKind) {
    const id = networkSlug(norm);
    this.backend = el('span', { 'data-field': 'backend' }, 'starting…');
    this.state = el('span', { 'data-field': 'state' }, 'starting');
    this.step = el('span', { 'data-field': 'step' }, '0');
    this.speed = el('span', { 'data-field': 'steps-per-second' }, '—');
    this.progress = el('progress', { max: 1, value: 0, 'aria-label': `${networkLabel(norm)}: training progress` });
    this.diverged = el('p', { class: 'diverged', 'data-field': 'diverged', hidden: true });
    this.result = el('div', { class: 'result', 'data-field': 'result' });
    this.loaded = el('p', { class: 'loaded', 'data-field': 'loaded', hidden: true });
    this.element = el(
      'article',
      { class: 'status-card', id: `status-${id}`, 'data-norm': norm, style: `border-top-color: ${networkColor(norm)}` },
      el('h2', {}, el('span', { class: 'swatch', style: `background: ${networkColor(norm)}` }), networkTitle(norm)),
      el('p', { class: 'kernels' }, 'Kernels: ', this.backend),
      this.progress,
      el('p', {}, 'Step ', this.step, ' · ', this.speed, ' steps/s · ', this.state),
      this.diverged,
      this.result,
      this.loaded,
    );
  }

  setBackend(variant: string): void {
    this.backend.textContent = describeBackend(variant);
    this.backend.title = variant;
  }

  /** A loaded file's accuracies ("" clears the line). */
  setLoaded(text: string): void {
    this.loaded.textContent = text;
    this.loaded.hidden = text === '';
  }

  render(trace: NetworkTrace, article: ArticleAccuracies | null, articleLabel: string): void {
    this.state.textContent = trace.state;
    this.step.textContent = `${trace.step.toLocaleString('en-US')} / ${trace.steps.toLocaleString('en-US')}`;
    this.speed.textContent = trace.stepsPerSecond > 0 ? Math.round(trace.stepsPerSecond).toLocaleString('en-US') : '—';
    this.progress.max = Math.max(1, trace.steps);
    this.progress.value = trace.step;
    this.diverged.hidden = trace.divergedAtStep === null;
    this.diverged.textContent = trace.divergedAtStep === null ? '' : `diverged at step ${trace.divergedAtStep} (loss NaN or infinite)`;
    const latest = trace.curve.at(-1);
    const rows: HTMLElement[] = [];
    if (trace.summary) {
      rows.push(
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, 'this run'),
          el('td', { 'data-field': 'validation-accuracy' }, formatAccuracy(trace.summary.validationAccuracy)),
          el('td', { 'data-field': 'test-accuracy' }, formatAccuracy(trace.summary.testAccuracy)),
        ),
      );
      if (article) {
        rows.push(
          el(
            'tr',
            { class: 'article' },
            el('th', { scope: 'row' }, articleLabel),
            el('td', {}, formatAccuracy(article.validation)),
            el('td', {}, formatAccuracy(article.test)),
          ),
        );
      }
    } else if (latest) {
      rows.push(
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, `at step ${latest.step}`),
          el('td', { 'data-field': 'validation-accuracy-live' }, formatAccuracy(latest.validationAccuracy)),
          el('td', {}, '—'),
        ),
      );
    }
    this.result.replaceChildren(
      rows.length === 0
        ? ''
        : el(
            'table',
            {},
            el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', { scope: 'col' }, 'validation'), el('th', { scope: 'col' }, 'test'))),
            el('tbody', {}, ...rows),
          ),
    );
  }
}
