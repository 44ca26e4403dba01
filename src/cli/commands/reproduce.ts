/**
 * @file `bnlab reproduce`: the article's grid (8 configurations × without/with BN × seeds), the
 * sweep shipped as sweeps/article.yaml, changed by this command's flags (--steps, --configs,
 * --seeds, --validate-every, --norms) and run through the same code as `bnlab sweep` (../sweep-runner.ts):
 * on worker threads or a Redis queue, resumably, each finished run recorded in a runs dir, then
 * the report beside the article's figures.
 */

import { resolve } from 'node:path';
import { Command } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { CONFIGURATION_IDS, type ConfigurationId, isConfigurationId } from '../../lab/article.js';
import { GRID_DEFAULTS, QUICK_STEPS } from '../../lab/grid.js';
import { type SweepRun, sweepRuns } from '../../lab/sweep/sweep-runs.js';
import { type SweepSettings, type SweepSpec, SweepSpecError } from '../../lab/sweep/sweep-spec.js';
import { NORM_KINDS, type NormKind } from '../../nn/spec.js';
import { articleSpecPath, readSweepSpec } from '../../node/sweep-files.js';
import { flagName, TRAIN_DEFAULTS, type TrainConfig } from '../../train/config.js';
import { UsageError } from '../errors.js';
import { parseNormList } from '../norm-list.js';
import { parseChoice } from '../parse.js';
import { trainLocally } from '../sweep-local.js';
import { atLeastOne, atMost, defaultJobs, jobsAtMostCores, withTrainingPlaceOptions } from '../sweep-options.js';
import { queueTargetOf, trainOnQueue } from '../sweep-queue.js';
import { defaultSweepIo, runSweep, type SweepIo, type SweepOutcome, type SweepPlan } from '../sweep-runner.js';
import { addNormOptions, checkNormGroupsUsed, normSettingsGiven, type RawTrainOptions } from '../train-options.js';
import { DEFAULT_RUNS_DIR } from './report.js';

export interface RawReproduceOptions {
  steps?: string;
  seeds?: string;
  configs?: string;
  jobs?: string;
  runsDir?: string;
  quick?: boolean;
  force?: boolean;
  backend?: string;
  dataDir?: string;
  validateEvery?: string;
  queue?: string;
  queueName?: string;
  norms?: string;
}

/** "1,3,8" -> [1, 3, 8]; an unknown id is named with the valid range. */
function parseConfigs(text: string): ConfigurationId[] {
  const ids: ConfigurationId[] = [];
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    const value = Number(trimmed);
    if (trimmed === '' || !Number.isInteger(value)) {
      throw new UsageError(`--configs must be a comma-separated list of configuration numbers such as 1,3,8, got "${text}"`);
    }
    if (!isConfigurationId(value)) throw new UsageError(`unknown configuration ${trimmed}; the article's configurations are 1-8`);
    if (!ids.includes(value)) ids.push(value);
  }
  return ids;
}

/** Seeds per network: 1,000 already make 16,000 runs. */
const MAX_SEEDS = 1000;

/** The article's two networks, as its spec labels them in run ids (c3-nobn-s1, c3-bn-s1). */
const ARTICLE_NORM_LABELS: ReadonlyMap<NormKind, string> = new Map([
  ['none', 'nobn'],
  ['bn', 'bn'],
]);

/** The norm axis's value for `norm`: the spec's own for none and bn (so their ids never change), else labelled by the norm (c3-ln-s1). */
function normAxisValue(spec: SweepSpec, norm: NormKind): SweepSpec['axes'][number]['values'][number] {
  const axis = spec.axes.find((candidate) => candidate.name === 'norm')!;
  const label = ARTICLE_NORM_LABELS.get(norm) ?? norm;
  return axis.values.find((value) => value.label === label) ?? { label, settings: { norm }, numeric: null };
}

/** The article's spec with this command's flags applied (`norms` replaces the spec's none and bn). */
export function articleSweep(
  spec: SweepSpec,
  options: {
    steps: number;
    validateEvery: number;
    configs: readonly ConfigurationId[];
    seeds: number;
    norms?: readonly NormKind[];
    /** The norms' own settings given as flags (--norm-groups, --norm-placement…): fixed, so the runs dir is pinned to them. */
    normSettings?: SweepSettings;
  },
): SweepSpec {
  const labels = new Set(options.configs.map((id) => `c${id}`));
  const norms = options.norms ?? ['none', 'bn'];
  return {
    ...spec,
    fixed: { ...spec.fixed, ...options.normSettings, steps: options.steps, validateEvery: options.validateEvery },
    axes: spec.axes.map((axis) => {
      if (axis.name === 'config') return { ...axis, values: axis.values.filter((value) => labels.has(value.label)) };
      if (axis.name === 'norm') return { ...axis, values: norms.map((norm) => normAxisValue(spec, norm)) };
      return axis;
    }),
    seeds: Array.from({ length: options.seeds }, (_, i) => i + 1),
  };
}

/** The validated plan of a reproduce invocation; every bad flag is a UsageError. */
export async function reproducePlan(raw: RawReproduceOptions, normSettings: SweepSettings = {}): Promise<SweepPlan> {
  if (raw.quick && raw.steps !== undefined) {
    throw new UsageError(`--quick and --steps cannot be used together: --quick means --steps ${QUICK_STEPS}; give one of them`);
  }
  const steps = raw.quick ? QUICK_STEPS : raw.steps === undefined ? GRID_DEFAULTS.steps : atLeastOne('--steps', raw.steps);
  const validateEvery = raw.validateEvery === undefined ? GRID_DEFAULTS.validateEvery : atLeastOne('--validate-every', raw.validateEvery);
  const configs = raw.configs === undefined ? [...CONFIGURATION_IDS] : parseConfigs(raw.configs);
  const seeds = raw.seeds === undefined ? 1 : atMost('--seeds', atLeastOne('--seeds', raw.seeds), MAX_SEEDS);
  const jobs = raw.jobs === undefined ? undefined : jobsAtMostCores(atLeastOne('--jobs', raw.jobs));
  const backend = parseChoice<BackendChoice>('--backend', raw.backend ?? 'auto', BACKEND_CHOICES);
  const queue = queueTargetOf(raw.queue, raw.queueName);
  const norms = raw.norms === undefined ? undefined : parseNormList('--norms', raw.norms);
  const spec = articleSweep(await readSweepSpec(articleSpecPath()), { steps, validateEvery, configs, seeds, norms, normSettings });
  const networks = norms === undefined ? 'without/with BN' : `${norms.length} norm${norms.length === 1 ? '' : 's'} (${norms.join(', ')})`;
  return {
    sweep: spec.name,
    pinned: spec.fixed,
    runs: runsOf(spec),
    describeRuns:
      `${configs.length * (norms?.length ?? 2) * seeds} runs (${configs.length} configuration${configs.length === 1 ? '' : 's'} × ${networks} × ${seeds} seed${seeds === 1 ? '' : 's'}), ` +
      `${steps} steps, batch ${GRID_DEFAULTS.batchSize}, validation every ${validateEvery} steps`,
    jobs: jobs ?? defaultJobs(),
    runsDir: raw.runsDir ?? DEFAULT_RUNS_DIR,
    force: raw.force === true,
    backend,
    dataDir: raw.dataDir === undefined ? null : resolve(raw.dataDir),
    metric: 'final',
    queue,
  };
}

/**
 * The spec's runs. The shipped spec is valid, so a run that is not is made so by a norm's flag
 * (--norm-groups 7 against width 128): said as a usage error in the flag's words.
 */
function runsOf(spec: SweepSpec): SweepRun[] {
  try {
    return sweepRuns(spec);
  } catch (error) {
    if (!(error instanceof SweepSpecError)) throw error;
    const message = error.message.replace(/^fixed: /, '');
    const setting = /^(\w+) /.exec(message)?.[1];
    const flag = setting !== undefined && setting in TRAIN_DEFAULTS ? flagName(setting as keyof TrainConfig) : undefined;
    throw new UsageError(flag === undefined ? message : `${flag}${message.slice(setting!.length)}`);
  }
}

/** The whole of `bnlab reproduce` for a validated plan. */
export async function reproduce(plan: SweepPlan, io: SweepIo = defaultSweepIo()): Promise<SweepOutcome> {
  return runSweep(plan, plan.queue === null ? trainLocally : trainOnQueue, 'reproduce', io);
}

export function reproduceCommand(): Command {
  return withTrainingPlaceOptions(
    addNormOptions(
      new Command('reproduce')
        .description(
          "run the article's grid (8 configurations × without/with BN × seeds) on worker threads, resumably, and report it beside the article's figures",
        )
        .option('--steps <n>', `training steps per run (default ${GRID_DEFAULTS.steps}, the article's)`)
        .option('--quick', `a short preset for a first look: --steps ${QUICK_STEPS}`)
        .option('--seeds <n>', 'seeds 1..n per network (mean ± std in the report)', '1')
        .option('--configs <ids>', 'configurations to run, e.g. 1,3,8 (default: all eight)')
        .option(
          '--norms <list>',
          `the networks of each configuration, comma-separated from ${NORM_KINDS.join(',')} (default: none,bn, the article's; the others are reported beside them)`,
        )
        .option('--jobs <n>', 'worker threads (default: the number of cores)')
        .option('--runs-dir <dir>', 'where run records and the report go', DEFAULT_RUNS_DIR)
        .option('--force', 're-run finished runs (and replace a runs dir made with other settings)')
        .option('--validate-every <n>', 'validate every n steps', String(GRID_DEFAULTS.validateEvery)),
    ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Resuming: each finished run is recorded in <runs-dir>/runs/<id>.json (ids like c3-bn-s1, c3-ln-s1). Run the same',
        'command again after Ctrl-C or a crash and only the unfinished runs run; finished records are never rewritten.',
        'More seeds, configurations or norms can be added to a runs dir later. A runs dir holds runs of one setting',
        '(--steps, --validate-every, the data): other settings are refused; use another --runs-dir, or --force',
        'to delete its runs and start over. Ctrl-C writes the report of what is finished and exits with code 130.',
        '',
        'Sharing: several processes may run the same command on one runs dir at once. Each run is claimed before it',
        'trains (<runs-dir>/claims/<id>.claim, kept alive by a heartbeat); the others skip it and wait for its record,',
        'or take it over when its owner dies (at once on this host, after 30 s elsewhere). The data is pinned by the',
        'sha256 of its content, so the same files at another path are the same data.',
      ].join('\n'),
    )
    .action(async (raw: RawReproduceOptions & RawTrainOptions, self: Command) => {
      checkNormGroupsUsed(self, raw.norms === undefined ? ['none', 'bn'] : parseNormList('--norms', raw.norms));
      const outcome = await reproduce(await reproducePlan(raw, normSettingsGiven(self, raw)));
      // The work not done is said in the last line; the exit code says it too.
      if (outcome.interrupted) process.exitCode = 130;
      else if (outcome.failed > 0) process.exitCode = 1;
    });
}
