/**
 * @file The page's settings as a query string and back: every training setting of `bnlab compare`
 * (std, lr, act, batch, hidden, steps, every, seed, eps, momentum, estimator), the article's model
 * number and the kernel backend. Each parameter is parsed and checked on its own through
 * `resolveTrainConfig`, so a link with one bad value keeps the good ones and the notice names the
 * bad one in the CLI's words. Pure (no DOM): the settings form uses the same parsers.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../core/backend.js';
import type { ActivationKind } from '../core/kernels.js';
import { articleConfiguration, ARTICLE_BATCH_SIZE, isConfigurationId, type ConfigurationId } from '../lab/article.js';
import { ARTICLE_LAYOUT } from '../nn/spec.js';
import { ConfigError, flagName, resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../train/config.js';

/** The activations the page offers (identity never saturates and is not in the article). */
export const PAGE_ACTIVATIONS: readonly ActivationKind[] = ['relu', 'sigmoid', 'tanh'];

/** Everything a link carries: one run of the page is fully described by it. */
export interface LabSettings {
  /** Always with batchNorm true: the page trains both networks from it, as `bnlab compare` does. */
  config: TrainConfig;
  /** The article's model these settings are, or null when they are no model of the article. */
  model: ConfigurationId | null;
  backend: BackendChoice;
}

/** The query parameter of each training setting, in the order a link lists them. */
export const CONFIG_PARAMETERS = {
  std: 'initStd',
  lr: 'learningRate',
  act: 'activation',
  batch: 'batchSize',
  hidden: 'hiddenSizes',
  steps: 'steps',
  every: 'validateEvery',
  seed: 'seed',
  eps: 'bnEps',
  momentum: 'bnMomentum',
  estimator: 'bnEstimator',
} as const satisfies Record<string, keyof TrainConfig>;

export type ConfigParameter = keyof typeof CONFIG_PARAMETERS;
export const CONFIG_PARAMETER_NAMES = Object.keys(CONFIG_PARAMETERS) as ConfigParameter[];

export type ParameterResult = { ok: true; patch: Partial<TrainConfig> } | { ok: false; message: string };

/** The settings of a page opened without a query: the article's model 1 for 3,000 steps. */
export function defaultSettings(): LabSettings {
  return { config: resolveTrainConfig({ batchNorm: true }), model: 1, backend: 'auto' };
}

/**
 * One setting from its text, checked alone against the defaults of every other setting. Text
 * that is not a number is handed to resolveTrainConfig as it is, so its message quotes it.
 */
export function parseConfigParameter(name: ConfigParameter, raw: string): ParameterResult {
  const key = CONFIG_PARAMETERS[name];
  const text = raw.trim();
  if (text === '') return { ok: false, message: `${flagName(key)} needs a value` };
  let value: unknown;
  switch (key) {
    case 'activation':
      if (!PAGE_ACTIVATIONS.includes(text as ActivationKind)) {
        return { ok: false, message: `--act must be one of ${PAGE_ACTIVATIONS.join(', ')} in the page, got "${text}"` };
      }
      value = text;
      break;
    case 'bnEstimator':
      value = text;
      break;
    case 'hiddenSizes': {
      const sizes = text.split(',').map((part) => numberOrText(part.trim()));
      value = sizes.every((size) => typeof size === 'number') ? sizes : text;
      break;
    }
    default:
      value = numberOrText(text);
  }
  try {
    // batchNorm: the page always trains a network with BN, so its rules (batch of at least 2) apply.
    const config = resolveTrainConfig({ batchNorm: true, [key]: value });
    return { ok: true, patch: { [key]: config[key] } };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message };
    throw error;
  }
}

/** A number where the text is one, else the text (so that the error message quotes it). */
function numberOrText(text: string): number | string {
  const value = Number(text);
  return text !== '' && !Number.isNaN(value) ? value : text; // Number('') is 0
}

export function parseModel(raw: string): { ok: true; model: ConfigurationId } | { ok: false; message: string } {
  const value = Number(raw.trim());
  if (raw.trim() !== '' && isConfigurationId(value)) return { ok: true, model: value };
  return { ok: false, message: `model must be one of the article's models 1 to 8` };
}

export function parseBackend(raw: string): { ok: true; backend: BackendChoice } | { ok: false; message: string } {
  const text = raw.trim();
  if ((BACKEND_CHOICES as readonly string[]).includes(text)) return { ok: true, backend: text as BackendChoice };
  return { ok: false, message: `--backend must be one of ${BACKEND_CHOICES.join(', ')}` };
}

/** The config of article model `id`: its std, learning rate and activation, batch 60, 784-128-128-128-10; the rest of `base` kept. */
export function applyModel(base: TrainConfig, id: ConfigurationId): TrainConfig {
  const model = articleConfiguration(id);
  return resolveTrainConfig({
    ...base,
    initStd: model.initStd,
    learningRate: model.learningRate,
    activation: model.activation,
    batchSize: ARTICLE_BATCH_SIZE,
    hiddenSizes: [...ARTICLE_LAYOUT.hiddenSizes],
  });
}

/** Whether `config` trains article model `id` (the settings its buttons set). */
export function isModel(config: TrainConfig, id: ConfigurationId): boolean {
  const model = articleConfiguration(id);
  return config.initStd === model.initStd && config.learningRate === model.learningRate && config.activation === model.activation
    && config.batchSize === ARTICLE_BATCH_SIZE && config.hiddenSizes.join(',') === ARTICLE_LAYOUT.hiddenSizes.join(',');
}

/** The article model these settings are, if any. */
export function modelOf(config: TrainConfig): ConfigurationId | null {
  for (let id = 1; id <= 8; id++) if (isConfigurationId(id) && isModel(config, id)) return id;
  return null;
}

/**
 * The settings a query string describes, and one notice per parameter that was ignored. A
 * `model` sets its configuration first; explicit parameters then override it (and if they make
 * it another configuration, the model is dropped: its figures would not apply).
 */
export function settingsFromQuery(query: string): { settings: LabSettings; notices: string[] } {
  const params = new URLSearchParams(query);
  const notices: string[] = [];
  const ignore = (name: string, raw: string, message: string): void => {
    notices.push(`Ignored ${name}=${raw} in the link: ${message}`);
  };
  let config = resolveTrainConfig({ batchNorm: true });
  let model: ConfigurationId | null = null;
  let backend: BackendChoice = 'auto';

  const modelText = params.get('model');
  if (modelText !== null) {
    const parsed = parseModel(modelText);
    if (parsed.ok) {
      model = parsed.model;
      config = applyModel(config, model);
    } else {
      ignore('model', modelText, parsed.message);
    }
  }
  for (const name of CONFIG_PARAMETER_NAMES) {
    const raw = params.get(name);
    if (raw === null) continue;
    const parsed = parseConfigParameter(name, raw);
    if (parsed.ok) config = { ...config, ...parsed.patch };
    else ignore(name, raw, parsed.message);
  }
  const backendText = params.get('backend');
  if (backendText !== null) {
    const parsed = parseBackend(backendText);
    if (parsed.ok) backend = parsed.backend;
    else ignore('backend', backendText, parsed.message);
  }
  if (modelText === null) model = modelOf(config);
  else if (model !== null && !isModel(config, model)) model = null;
  const known = new Set<string>([...CONFIG_PARAMETER_NAMES, 'model', 'backend']);
  for (const name of new Set(params.keys())) {
    if (!known.has(name)) ignore(name, params.get(name) ?? '', `the page has no setting "${name}"`);
  }
  return { settings: { config, model, backend }, notices };
}

/** The query string (with its "?") that restores `settings`: every training setting, so a link starts the same run even if defaults change. */
export function queryFromSettings(settings: LabSettings): string {
  const params = new URLSearchParams();
  if (settings.model !== null) params.set('model', String(settings.model));
  for (const name of CONFIG_PARAMETER_NAMES) params.set(name, formatConfigValue(settings.config, name));
  if (settings.backend !== 'auto') params.set('backend', settings.backend);
  // Commas in the hidden sizes read better unescaped, and are legal in a query.
  return `?${params.toString().replace(/%2C/g, ',')}`;
}

/** A setting's value as the form and the link show it. */
export function formatConfigValue(config: TrainConfig, name: ConfigParameter): string {
  const value = config[CONFIG_PARAMETERS[name]];
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** The defaults, for a form's placeholders. */
export function defaultConfigValue(name: ConfigParameter): string {
  return formatConfigValue({ ...TRAIN_DEFAULTS, hiddenSizes: [...TRAIN_DEFAULTS.hiddenSizes] }, name);
}
