/**
 * @file `bnlab sweep SPEC`: the runs a spec describes (its axes' product × its seeds, see
 * docs/sweeps.md) trained on worker threads or `bnlab worker` processes, each finished run recorded
 * in a runs dir, then a report drawn for the sweep's axes. `--dry-run` lists the runs and which of
 * them are finished, without training or writing anything.
 */

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/backend.js';
import { describePins, samePins } from '../../lab/sweep/pinned-settings.js';
import { DEFAULT_SWEEP_METRIC, SWEEP_METRICS, type SweepMetric } from '../../lab/sweep/sweep-report.js';
import { type SweepRun, sweepRuns } from '../../lab/sweep/sweep-runs.js';
import { type SweepSpec, SweepSpecError } from '../../lab/sweep/sweep-spec.js';
import { describeOwner, RunStore } from '../../node/run-store.js';
import { readSweepSpec, SweepFileError } from '../../node/sweep-files.js';
import { parseChoice } from '../parse.js';
import { trainLocally } from '../sweep-local.js';
import { atLeastOne, defaultJobs, jobsAtMostCores, withTrainingPlaceOptions } from '../sweep-options.js';
import { queueTargetOf, trainOnQueue } from '../sweep-queue.js';
import { defaultSweepIo, runSweep, type SweepIo, type SweepOutcome, type SweepPlan } from '../sweep-runner.js';

export interface RawSweepOptions {
  jobs?: string;
  runsDir?: string;
  force?: boolean;
  backend?: string;
  dataDir?: string;
  metric?: string;
  queue?: string;
  queueName?: string;
  dryRun?: boolean;
}

/** Where a sweep's runs go unless --runs-dir says: one folder per spec name. */
function defaultSweepRunsDir(name: string): string {
  return `bnlab-sweeps/${name}`;
}

/** "24 runs (2 norm × 4 batchSize × 3 seeds)". */
function describeSweep(spec: SweepSpec, runs: readonly SweepRun[]): string {
  const seeds = `${spec.seeds.length} seed${spec.seeds.length === 1 ? '' : 's'}`;
  return `${runs.length} run${runs.length === 1 ? '' : 's'} (${[...spec.axes.map((axis) => `${axis.values.length} ${axis.name}`), seeds].join(' × ')}; fixed: ${describePins(spec.fixed)})`;
}

/** The runs of the spec at `path`; a bad combination is named by the key that set it. */
function runsOf(spec: SweepSpec, path: string): SweepRun[] {
  try {
    return sweepRuns(spec);
  } catch (error) {
    if (error instanceof SweepSpecError) throw new SweepFileError(`sweep spec ${path}: ${error.message}`);
    throw error;
  }
}

/** The validated plan of a sweep invocation; every bad flag or spec is one line (exit 2). */
export async function sweepPlan(specPath: string, raw: RawSweepOptions): Promise<SweepPlan> {
  const jobs = raw.jobs === undefined ? defaultJobs() : jobsAtMostCores(atLeastOne('--jobs', raw.jobs));
  const backend = parseChoice<BackendChoice>('--backend', raw.backend ?? 'auto', BACKEND_CHOICES);
  const metric = parseChoice<SweepMetric>('--metric', raw.metric ?? DEFAULT_SWEEP_METRIC, SWEEP_METRICS);
  const queue = queueTargetOf(raw.queue, raw.queueName);
  const spec = await readSweepSpec(specPath);
  const runs = runsOf(spec, specPath);
  return {
    sweep: spec.name,
    pinned: spec.fixed,
    runs,
    describeRuns: describeSweep(spec, runs),
    jobs,
    runsDir: raw.runsDir ?? defaultSweepRunsDir(spec.name),
    force: raw.force === true,
    backend,
    dataDir: raw.dataDir === undefined ? null : resolve(raw.dataDir),
    metric,
    queue,
  };
}

/**
 * `--dry-run`: each run's id and state (finished, claimed, to run) in the runs dir as it is, read
 * only (a runs dir that does not exist yet: every run is to run).
 */
export async function dryRun(plan: SweepPlan, out: NodeJS.WritableStream): Promise<{ finished: number; toRun: number }> {
  out.write(`bnlab sweep --dry-run: ${plan.describeRuns}, in ${plan.runsDir}\n`);
  const store = await RunStore.openExisting(plan.runsDir).catch(() => null);
  if (store !== null && (store.manifest.sweep !== plan.sweep || !samePins(store.manifest.pinned, plan.pinned))) {
    out.write(
      `${plan.runsDir} holds sweep ${store.manifest.sweep} (${describePins(store.manifest.pinned)}): this sweep would be refused there; give another --runs-dir, or --force to start it over\n`,
    );
  }
  let finished = 0;
  for (const run of plan.runs) {
    const stored = store === null ? { kind: 'missing' as const } : await store.readRun(run.id, run.config);
    let state = 'to run';
    if (stored.kind === 'finished' && !plan.force) {
      finished++;
      state = `finished: validation ${stored.record.validation.accuracy.toFixed(4)}, last half ${stored.record.lastHalfValidation.toFixed(4)}`;
    } else if (store !== null) {
      const claim = await store.claimState(run.id);
      if (claim.kind === 'live') state = `running (claimed by ${describeOwner(claim.owner)})`;
      if (stored.kind === 'corrupt') state = `to run again (${stored.reason})`;
    }
    out.write(`  ${run.id.padEnd(24)} ${state}\n`);
  }
  const toRun = plan.runs.length - finished;
  out.write(`${finished} finished, ${toRun} to run.\n`);
  return { finished, toRun };
}

/** The whole of `bnlab sweep` for a validated plan. */
export async function sweep(plan: SweepPlan, io: SweepIo = defaultSweepIo()): Promise<SweepOutcome> {
  return runSweep(plan, plan.queue === null ? trainLocally : trainOnQueue, 'sweep', io);
}

export function sweepCommand(): Command {
  return withTrainingPlaceOptions(
    new Command('sweep')
      .description('run the sweep a spec file describes (axes × seeds, see docs/sweeps.md) on worker threads or a Redis queue, resumably, and report it')
      .argument('<spec>', 'a sweep spec, .yaml or .json (e.g. sweeps/norms-by-batch.yaml)')
      .option('--jobs <n>', 'worker threads (default: the number of cores)')
      .option('--runs-dir <dir>', 'where run records and the report go (default: bnlab-sweeps/<spec name>)')
      .option('--force', 're-run finished runs (and replace a runs dir made for another sweep or other fixed settings)')
      .option('--dry-run', 'list the runs and which are finished; train nothing, write nothing')
      .addOption(
        new Option(
          '--metric <name>',
          `what the report ranks by: ${SWEEP_METRICS.join('|')} (last-half: mean validation accuracy over the last half of each run)`,
        ).default(DEFAULT_SWEEP_METRIC),
      ),
  )
    .addHelpText(
      'after',
      [
        '',
        "Runs: the product of the spec's axes × its seeds, each with an id made of its values' labels and its seed",
        '(norm-bn... e.g. bn-b32-s1). Each finished run is recorded in <runs-dir>/runs/<id>.json; run the same command',
        'again and only unfinished runs run. A runs dir holds one sweep and its fixed settings; more axis values or seeds',
        'may be added later. Several processes (or machines, with --queue and `bnlab worker`) may share one sweep.',
      ].join('\n'),
    )
    .action(async (specPath: string, raw: RawSweepOptions) => {
      const plan = await sweepPlan(specPath, raw);
      if (raw.dryRun) {
        await dryRun(plan, process.stdout);
        return;
      }
      const outcome = await sweep(plan);
      // The work not done is said in the last line; the exit code says it too.
      if (outcome.interrupted) process.exitCode = 130;
      else if (outcome.failed > 0) process.exitCode = 1;
    });
}
