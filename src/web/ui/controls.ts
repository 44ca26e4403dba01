/**
 * @file The settings form (every training setting of `bnlab compare`: the two networks' norms, the
 * settings those norms have, shown while one of the networks has it, and the shared ones), the
 * article's models 1-8 and the play/pause/step/reset buttons. A field is checked alone by
 * url-state's parser, then the whole config by resolveTrainConfig and the norms with it as compare
 * checks them; a wrong value gets its message beside the field and the run on screen is kept. A
 * valid change hands new settings to the page, which resets the run.
 */
import { ARTICLE_CONFIGURATIONS, type ConfigurationId, describeConfiguration } from '../../lab/article.js';
import { ESTIMATORS, NORM_KINDS, type NormKind } from '../../nn/spec.js';
import { ConfigError, resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import {
  applyModel,
  CONFIG_PARAMETER_NAMES,
  type ConfigParameter,
  checkNorms,
  describeNorm,
  formatConfigValue,
  type LabSettings,
  modelOf,
  NORM_PARAMETER_NAMES,
  normParametersFor,
  PAGE_ACTIVATIONS,
  parseBackend,
  parseConfigParameter,
} from '../url-state.js';
import { el } from './dom.js';
import type { NormPair } from './network-style.js';

export interface ControlsHandlers {
  /** Valid new settings: the page resets both networks to them. */
  onSettings(settings: LabSettings): void;
  onPlay(): void;
  onPause(): void;
  onAdvance(steps: number): void;
  onReset(): void;
}

/** Each field's label and the CLI flag it stands for. */
const FIELDS: Record<ConfigParameter, { label: string; flag: string; hint?: string }> = {
  std: { label: 'Initial weight std', flag: '--init-std' },
  lr: { label: 'Learning rate', flag: '--lr' },
  act: { label: 'Activation', flag: '--act' },
  batch: { label: 'Batch size', flag: '--batch-size' },
  hidden: { label: 'Hidden sizes', flag: '--hidden', hint: 'comma list' },
  steps: { label: 'Steps', flag: '--steps' },
  every: { label: 'Validate every', flag: '--validate-every', hint: 'steps' },
  seed: { label: 'Seed', flag: '--seed' },
  eps: { label: 'BN epsilon', flag: '--bn-eps' },
  momentum: { label: 'BN momentum', flag: '--bn-momentum', hint: 'decay' },
  estimator: { label: 'Inference estimator', flag: '--bn-estimator' },
  groups: { label: 'Group Norm groups', flag: '--norm-groups', hint: 'divide each width' },
  ghost: { label: 'Ghost BN virtual batch', flag: '--ghost-batch', hint: 'rows' },
  rmax: { label: 'Batch Renorm r max', flag: '--renorm-rmax' },
  dmax: { label: 'Batch Renorm d max', flag: '--renorm-dmax' },
  warmup: { label: 'Batch Renorm warm-up', flag: '--renorm-warmup', hint: 'fraction' },
};

const SIDES = ['left', 'right'] as const;

const ESTIMATOR_NAMES: Record<string, string> = { ema: 'ema (moving avg.)', average: 'average (Alg. 2)', batch: 'batch (its own)' };

export class Controls {
  readonly element: HTMLElement;
  private settings: LabSettings;
  private readonly inputs = new Map<ConfigParameter, HTMLInputElement | HTMLSelectElement>();
  private readonly fields = new Map<ConfigParameter, HTMLElement>();
  private readonly errors = new Map<ConfigParameter | 'backend' | 'norms', HTMLElement>();
  private readonly normSelects: HTMLSelectElement[];
  private readonly backendSelect: HTMLSelectElement;
  private readonly modelButtons: HTMLButtonElement[];

  constructor(
    initial: LabSettings,
    private readonly handlers: ControlsHandlers,
  ) {
    this.settings = initial;
    const form = el('form', { class: 'settings', id: 'settings', novalidate: true, 'aria-label': 'Training settings' });
    form.addEventListener('submit', (event) => event.preventDefault());
    const grid = el('div', { class: 'fields' });
    // The two networks first: what the run compares.
    const normsError = el('span', { class: 'field-error', id: 'setting-norms-error', 'aria-live': 'polite' });
    this.errors.set('norms', normsError);
    this.normSelects = SIDES.map((side) => {
      const select = el(
        'select',
        { id: `setting-${side}`, name: side, 'aria-describedby': normsError.id },
        ...NORM_KINDS.map((norm) => el('option', { value: norm }, describeNorm(norm))),
      );
      select.addEventListener('change', () => this.normChanged(side === 'left' ? 0 : 1));
      grid.append(
        el(
          'div',
          { class: 'field' },
          el('label', { for: select.id }, side === 'left' ? 'Left network' : 'Right network', ' ', el('span', { class: 'flag' }, '--norms')),
          select,
          side === 'right' ? normsError : null,
        ),
      );
      return select;
    });
    for (const name of [...NORM_PARAMETER_NAMES, ...CONFIG_PARAMETER_NAMES]) {
      const field = FIELDS[name];
      const id = `setting-${name}`;
      let input: HTMLInputElement | HTMLSelectElement;
      if (name === 'act' || name === 'estimator') {
        const choices = name === 'act' ? PAGE_ACTIVATIONS : ESTIMATORS;
        input = el(
          'select',
          { id, name },
          ...choices.map((choice) => el('option', { value: choice }, name === 'estimator' ? (ESTIMATOR_NAMES[choice] ?? choice) : choice)),
        );
      } else {
        input = el('input', { id, name, type: 'text', inputmode: name === 'hidden' ? 'text' : 'decimal', autocomplete: 'off', spellcheck: false });
      }
      const error = el('span', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
      input.setAttribute('aria-describedby', error.id);
      input.addEventListener('change', () => this.fieldChanged(name));
      this.inputs.set(name, input);
      this.errors.set(name, error);
      const box = el(
        'div',
        { class: 'field', 'data-setting': name },
        el('label', { for: id }, field.label, ' ', el('span', { class: 'flag' }, field.flag + (field.hint ? ` (${field.hint})` : ''))),
        input,
        error,
      );
      this.fields.set(name, box);
      grid.append(box);
    }
    this.backendSelect = el(
      'select',
      { id: 'setting-backend', name: 'backend' },
      el('option', { value: 'auto' }, 'auto (wasm SIMD)'),
      el('option', { value: 'js' }, 'js (TypeScript)'),
    );
    const backendError = el('span', { class: 'field-error', 'aria-live': 'polite' });
    this.errors.set('backend', backendError);
    this.backendSelect.addEventListener('change', () => {
      const parsed = parseBackend(this.backendSelect.value);
      if (parsed.ok) this.commit({ ...this.settings, backend: parsed.backend });
    });
    grid.append(
      el(
        'div',
        { class: 'field' },
        el('label', { for: 'setting-backend' }, 'Kernels ', el('span', { class: 'flag' }, '--backend')),
        this.backendSelect,
        backendError,
      ),
    );
    form.append(grid);

    this.modelButtons = ARTICLE_CONFIGURATIONS.map((model) => {
      const button = el(
        'button',
        { type: 'button', class: 'model', 'data-model': model.id, title: describeConfiguration(model), 'aria-pressed': 'false' },
        `Model ${model.id}`,
      );
      button.addEventListener('click', () => this.chooseModel(model.id));
      return button;
    });
    const models = el('fieldset', { class: 'models' }, el('legend', {}, "The article's models"), ...this.modelButtons);

    const button = (label: string, id: string, action: () => void): HTMLButtonElement => {
      const element = el('button', { type: 'button', id }, label);
      element.addEventListener('click', action);
      return element;
    };
    const transport = el(
      'div',
      { class: 'transport', role: 'group', 'aria-label': 'Training' },
      button('Play', 'play', () => handlers.onPlay()),
      button('Pause', 'pause', () => handlers.onPause()),
      button('One step', 'step-1', () => handlers.onAdvance(1)),
      button('100 steps', 'step-100', () => handlers.onAdvance(100)),
      button('Reset', 'reset', () => handlers.onReset()),
    );

    // On a phone the form is folded, so the networks show without scrolling past eleven fields.
    const narrow = matchMedia('(max-width: 640px)');
    const settingsBox = el('details', { class: 'settings-box', open: !narrow.matches }, el('summary', {}, el('h2', {}, 'Settings')), form);
    narrow.addEventListener('change', () => {
      settingsBox.open = !narrow.matches;
    });
    this.element = el('div', { class: 'controls' }, transport, models, settingsBox);
    this.show(initial);
  }

  /** Fills every field from `settings` and clears the messages. */
  show(settings: LabSettings): void {
    this.settings = settings;
    for (const [name, input] of this.inputs) {
      input.value = formatConfigValue(settings.config, name);
      input.removeAttribute('aria-invalid');
      this.errors.get(name)!.textContent = '';
    }
    this.backendSelect.value = settings.backend;
    this.normSelects.forEach((select, i) => {
      select.value = settings.norms[i]!;
    });
    this.errors.get('norms')!.textContent = '';
    this.showNormFields(settings.norms);
    for (const button of this.modelButtons) button.setAttribute('aria-pressed', String(Number(button.dataset.model) === settings.model));
  }

  /** A norm's own settings show while one of the networks (or `also`, a norm just refused) has it. */
  private showNormFields(norms: readonly NormKind[]): void {
    const shown = new Set<ConfigParameter>(normParametersFor(norms));
    for (const name of NORM_PARAMETER_NAMES) this.fields.get(name)!.hidden = !shown.has(name);
  }

  private chooseModel(id: ConfigurationId): void {
    const config = applyModel(this.settings.config, id);
    if (this.refusedForNorms(config, this.settings.norms)) return;
    this.commit({ ...this.settings, config, model: id });
  }

  /**
   * A network's norm chosen: the other network takes the norm it leaves if it had this one (the
   * two swap, as a norm is named once), then the norms are checked with the settings as compare
   * checks them; refused, the message shows beside the menus, with the norm's own settings to fix.
   */
  private normChanged(side: 0 | 1): void {
    const chosen = this.normSelects[side]!.value as NormKind;
    const norms = [...this.settings.norms] as [NormKind, NormKind];
    const other = side === 0 ? 1 : 0;
    if (norms[other] === chosen) norms[other] = norms[side];
    norms[side] = chosen;
    if (this.refusedForNorms(this.settings.config, norms)) {
      this.normSelects.forEach((select, i) => {
        select.value = this.settings.norms[i]!;
      });
      this.showNormFields([...this.settings.norms, ...norms]);
      return;
    }
    this.commit({ ...this.settings, norms });
  }

  /** Whether compare would refuse `norms` with `config`: if so its message shows beside the norms. */
  private refusedForNorms(config: TrainConfig, norms: NormPair): boolean {
    const error = this.errors.get('norms')!;
    try {
      checkNorms(config, norms);
      error.textContent = '';
      return false;
    } catch (failure) {
      if (!(failure instanceof ConfigError)) throw failure;
      error.textContent = `${failure.message}; the run keeps ${this.settings.norms.join(',')}`;
      return true;
    }
  }

  private fieldChanged(name: ConfigParameter): void {
    const input = this.inputs.get(name)!;
    const error = this.errors.get(name)!;
    const parsed = parseConfigParameter(name, input.value);
    let message = parsed.ok ? '' : parsed.message;
    if (parsed.ok) {
      try {
        const config = resolveTrainConfig({ ...this.settings.config, ...parsed.patch });
        checkNorms(config, this.settings.norms);
        error.textContent = '';
        input.removeAttribute('aria-invalid');
        this.commit({ ...this.settings, config, model: modelOf(config) });
        return;
      } catch (failure) {
        if (!(failure instanceof ConfigError)) throw failure;
        message = failure.message;
      }
    }
    error.textContent = `${message}; the run keeps ${formatConfigValue(this.settings.config, name)}`;
    input.setAttribute('aria-invalid', 'true');
  }

  private commit(settings: LabSettings): void {
    // Fields that still hold a wrong value are put back: the new run uses the kept values.
    this.show(settings);
    this.handlers.onSettings(settings);
  }
}
