/**
 * @file The page's settings as a query string and back: every training setting of `bnlab compare`
 * (std, lr, act, batch, hidden, steps, every, seed, eps, momentum, estimator), the two networks'
 * norms (`norms=none,ln`, compare's --norms; absent: none,bn, the page's pair as it always was) with
 * the settings of those norms that have some (groups, ghost, rmax, dmax, warmup), the article's
 * model number and the kernel backend. Each parameter is parsed and checked on its own through
 * `resolveTrainConfig`, then the norms with the settings as compare checks them, so a link with
 * one bad value keeps the good ones and the notice names the bad one in the CLI's words. Pure (no
 * DOM): the settings form uses the same parsers.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../core/backend.js';
import type { ActivationKind } from '../core/kernels.js';
import { ARTICLE_BATCH_SIZE, articleConfiguration, type ConfigurationId, isConfigurationId } from '../lab/article.js';
import { networkName } from '../lab/run-summary.js';
import { ARTICLE_LAYOUT, NORM_KINDS, type NormKind } from '../nn/spec.js';
import { ConfigError, flagName, resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { DEFAULT_NORMS, type NormPair } from './ui/network-style.js';

/** The activations the page offers (identity never saturates and is not in the article). */
export const PAGE_ACTIVATIONS: readonly ActivationKind[] = ['relu', 'sigmoid', 'tanh'];

/** Everything a link carries: one run of the page is fully described by it. */
export interface LabSettings {
  /**
   * Always with batchNorm true: the settings both networks share, as `bnlab compare`'s (whose
   * own checks, a batch of at least 2 among them, apply whatever the norms).
   */
  config: TrainConfig;
  /** The left and the right network's norms, never the same twice. */
  norms: NormPair;
  /** The article's model these settings are, or null when they are no model of the article. */
  model: ConfigurationId | null;
  backend: BackendChoice;
}

/** The query parameter of each training setting, in the order a link lists them. */
const CONFIG_PARAMETERS = {
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

/**
 * The settings of the norms that have some, with the norm that reads each: in the link (and the
 * form) only while one of the two networks has that norm, as compare refuses them otherwise.
 */
const NORM_PARAMETERS = {
  groups: { key: 'normGroups', norm: 'gn' },
  ghost: { key: 'ghostBatch', norm: 'ghost' },
  rmax: { key: 'renormRmax', norm: 'brn' },
  dmax: { key: 'renormDmax', norm: 'brn' },
  warmup: { key: 'renormWarmup', norm: 'brn' },
} as const satisfies Record<string, { key: keyof TrainConfig; norm: NormKind }>;

export type NormParameter = keyof typeof NORM_PARAMETERS;
export const NORM_PARAMETER_NAMES = Object.keys(NORM_PARAMETERS) as NormParameter[];

export type ConfigParameter = keyof typeof CONFIG_PARAMETERS | NormParameter;
/** The settings every link carries, in their order (the norms' own are in NORM_PARAMETER_NAMES). */
export const CONFIG_PARAMETER_NAMES = Object.keys(CONFIG_PARAMETERS) as ConfigParameter[];

/** The TrainConfig key of a parameter. */
function parameterKey(name: ConfigParameter): keyof TrainConfig {
  return name in NORM_PARAMETERS ? NORM_PARAMETERS[name as NormParameter].key : CONFIG_PARAMETERS[name as keyof typeof CONFIG_PARAMETERS];
}

/** The norm parameters that apply to `norms`, in their order. */
export function normParametersFor(norms: readonly NormKind[]): NormParameter[] {
  return NORM_PARAMETER_NAMES.filter((name) => norms.includes(NORM_PARAMETERS[name].norm));
}

export type ParameterResult = { ok: true; patch: Partial<TrainConfig> } | { ok: false; message: string };

/** The settings of a page opened without a query: the article's model 1 for 3,000 steps. */
export function defaultSettings(): LabSettings {
  return { config: resolveTrainConfig({ batchNorm: true }), norms: DEFAULT_NORMS, model: 1, backend: 'auto' };
}

/**
 * One setting from its text, checked alone against the defaults of every other setting. Text
 * that is not a number is handed to resolveTrainConfig as it is, so its message quotes it.
 */
export function parseConfigParameter(name: ConfigParameter, raw: string): ParameterResult {
  const key = parameterKey(name);
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

function parseModel(raw: string): { ok: true; model: ConfigurationId } | { ok: false; message: string } {
  const value = Number(raw.trim());
  if (raw.trim() !== '' && isConfigurationId(value)) return { ok: true, model: value };
  return { ok: false, message: `model must be one of the article's models 1 to 8` };
}

/**
 * The two networks' norms from "left,right" (compare's --norms, limited to two): each one of
 * NORM_KINDS, named once, in the CLI's words.
 */
export function parseNorms(raw: string): { ok: true; norms: NormPair } | { ok: false; message: string } {
  const parts = raw.split(',').map((part) => part.trim());
  const unknown = parts.find((part) => !(NORM_KINDS as readonly string[]).includes(part));
  if (unknown !== undefined) return { ok: false, message: `--norms must be one of ${NORM_KINDS.join(', ')}, got "${unknown}"` };
  const twice = parts.find((part, i) => parts.indexOf(part) !== i);
  if (twice !== undefined) return { ok: false, message: `--norms lists ${twice} twice: name each norm once` };
  if (parts.length !== 2) {
    return {
      ok: false,
      message: `--norms names ${parts.length} norm${parts.length === 1 ? '' : 's'}, but the page trains two networks: give two, such as none,bn`,
    };
  }
  return { ok: true, norms: [parts[0] as NormKind, parts[1] as NormKind] };
}

/**
 * Throws the ConfigError compare would for these norms with these shared settings: a norm named
 * twice, or a norm's own check (Group Norm's groups must divide every width, Ghost BN's virtual
 * batch the batch size, Batch Renorm and Ghost BN infer with the moving averages only).
 */
export function checkNorms(config: TrainConfig, norms: NormPair): void {
  if (norms[0] === norms[1]) throw new ConfigError('--norms', `lists ${norms[0]} twice: name each norm once`);
  for (const norm of norms) if (norm !== 'none' && norm !== 'bn') resolveTrainConfig({ ...config, batchNorm: undefined, norm });
}

/** A norm's name in a menu: "No norm", "Batch Norm", "Layer Norm"… (its id is the link's). */
export function describeNorm(norm: NormKind): string {
  return norm === 'none' ? 'No norm' : networkName(norm).replace(/^With /, '');
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
function isModel(config: TrainConfig, id: ConfigurationId): boolean {
  const model = articleConfiguration(id);
  return (
    config.initStd === model.initStd &&
    config.learningRate === model.learningRate &&
    config.activation === model.activation &&
    config.batchSize === ARTICLE_BATCH_SIZE &&
    config.hiddenSizes.join(',') === ARTICLE_LAYOUT.hiddenSizes.join(',')
  );
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
  let norms: NormPair = DEFAULT_NORMS;
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
  // What the link's other parameters fall back to when one is ignored: the defaults, or its model.
  const baseline = config;
  /** The parameters taken from the link, by flag (for the checks across settings below). */
  const taken = new Map<string, ConfigParameter>();
  for (const name of CONFIG_PARAMETER_NAMES) {
    const raw = params.get(name);
    if (raw === null) continue;
    const parsed = parseConfigParameter(name, raw);
    if (parsed.ok) {
      config = { ...config, ...parsed.patch };
      taken.set(flagName(parameterKey(name)), name);
    } else {
      ignore(name, raw, parsed.message);
    }
  }
  const normsText = params.get('norms');
  if (normsText !== null) {
    const parsed = parseNorms(normsText);
    if (parsed.ok) norms = parsed.norms;
    else ignore('norms', normsText, parsed.message);
  }
  for (const name of NORM_PARAMETER_NAMES) {
    const raw = params.get(name);
    if (raw === null) continue;
    const { key, norm } = NORM_PARAMETERS[name];
    if (!norms.includes(norm)) {
      ignore(
        name,
        raw,
        `${flagName(key)} applies to ${networkName(norm).replace(/^With /, '')} only: choose ${norm} as one of the two networks (norms=none,${norm})`,
      );
      continue;
    }
    const parsed = parseConfigParameter(name, raw);
    if (parsed.ok) {
      config = { ...config, ...parsed.patch };
      taken.set(flagName(key), name);
    } else {
      ignore(name, raw, parsed.message);
    }
  }
  // compare's checks of the norms with the settings: the parameter the message names goes back to
  // its default if the link set it, else the norms go back to none,bn (which always pass).
  for (;;) {
    try {
      checkNorms(config, norms);
      break;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const name = taken.get(error.setting);
      if (name !== undefined) {
        taken.delete(error.setting);
        ignore(name, params.get(name) ?? '', error.message);
        const key = parameterKey(name);
        config = { ...config, [key]: baseline[key] };
      } else {
        ignore('norms', normsText ?? norms.join(','), error.message);
        norms = DEFAULT_NORMS;
      }
    }
  }
  const backendText = params.get('backend');
  if (backendText !== null) {
    const parsed = parseBackend(backendText);
    if (parsed.ok) backend = parsed.backend;
    else ignore('backend', backendText, parsed.message);
  }
  if (modelText === null) model = modelOf(config);
  else if (model !== null && !isModel(config, model)) model = null;
  const known = new Set<string>([...CONFIG_PARAMETER_NAMES, ...NORM_PARAMETER_NAMES, 'norms', 'model', 'backend']);
  for (const name of new Set(params.keys())) {
    if (!known.has(name)) ignore(name, params.get(name) ?? '', `the page has no setting "${name}"`);
  }
  return { settings: { config, norms, model, backend }, notices };
}

/**
 * The query string (with its "?") that restores `settings`: every training setting, so a link
 * starts the same run even if defaults change, and the norms with their settings unless they are
 * the page's pair as it always was (none,bn: the links of before stay as they were).
 */
export function queryFromSettings(settings: LabSettings): string {
  const params = new URLSearchParams();
  if (settings.model !== null) params.set('model', String(settings.model));
  const defaultNorms = settings.norms[0] === DEFAULT_NORMS[0] && settings.norms[1] === DEFAULT_NORMS[1];
  if (!defaultNorms) params.set('norms', settings.norms.join(','));
  for (const name of CONFIG_PARAMETER_NAMES) params.set(name, formatConfigValue(settings.config, name));
  for (const name of normParametersFor(settings.norms)) params.set(name, formatConfigValue(settings.config, name));
  if (settings.backend !== 'auto') params.set('backend', settings.backend);
  // Commas in the hidden sizes read better unescaped, and are legal in a query.
  return `?${params.toString().replace(/%2C/g, ',')}`;
}

/** A setting's value as the form and the link show it. */
export function formatConfigValue(config: TrainConfig, name: ConfigParameter): string {
  const value = config[parameterKey(name)];
  return Array.isArray(value) ? value.join(',') : String(value);
}
