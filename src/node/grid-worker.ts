/**
 * @file One worker thread of the training pool (the grid's runs, `compare`'s two networks). It
 * loads the kernels once, trains on the shared MNIST views, and runs one job at a time as the
 * main thread sends them. A job's initial weights are its own (compare passes the pair's, drawn
 * or from --init-from) or drawn from its seed (`initialWeightsFor`), so both networks of a grid
 * pair start equal too. Progress goes back about five times a second; every validation point and
 * the first divergence go back as they happen. A 'stop' message ends the current run cleanly: it
 * is reported as interrupted, with the result of the steps it ran. A group of jobs that draw the
 * same batches ('runGroup') trains side by side in one backend, each step's batch drawn once for
 * all (`runTogether`); each job is reported as if it ran alone, and finishes as it ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedBatches } from '../data/shared-batches.js';
import { buildNetwork } from '../train/networks.js';
import { deriveSeed } from '../train/seeds.js';
import { runTogether, type TrainHooks, TrainingRun, type TrainResult, train } from '../train/trainer.js';
import {
  type GridWorkerData,
  jobNorm,
  type MainToWorker,
  mnistFromShared,
  sameBatches,
  type TrainJob,
  type WorkerToMain,
  weightsOfJob,
} from './grid-messages.js';
import { enableRelaxedSimd, loadKernels } from './wasm-files.js';

const PROGRESS_EVERY_MS = 200;
/** A group's batches are drawn this many at a time, and each network runs as many steps in a row on them (bench/shared-batches.ts). */
const GROUP_STEPS_IN_A_ROW = 16;

if (!parentPort) throw new Error('grid-worker.js runs as a worker thread of the training pool');
const port = parentPort;
const post = (message: WorkerToMain): void => port.postMessage(message);

const { data: sharedData, backend } = workerData as GridWorkerData;
let stopRequested = false;

async function runOne(job: TrainJob, data: ReturnType<typeof mnistFromShared>): Promise<void> {
  const started = performance.now();
  // A fresh backend per run: the wasm arena never frees, so one shared backend would keep every
  // finished run's buffers (~15 MB each). The module compiles once per thread; this is cheap.
  const kernels = await loadKernels(backend);
  const net = buildNetwork(kernels, job.config, jobNorm(job), weightsOfJob(job));
  // A run here is kept only as its result: a network NaN for good skips the steps that cannot change it, one whose hidden layers died trains its output layer alone.
  const result = await train(net, data, job.config, hooksFor(job, started), { skipDiverged: true, skipDeadLayers: true });
  postResult(job, result, kernels.variant, started);
}

/** Jobs that draw the same batches, side by side in one backend on batches drawn once; each reported as it ends. */
async function runGroup(jobs: readonly TrainJob[], data: ReturnType<typeof mnistFromShared>): Promise<void> {
  const started = performance.now();
  const first = jobs[0]!;
  if (!jobs.every((job) => sameBatches(job, first))) throw new Error(`the runs ${jobs.map((job) => job.id).join(', ')} do not draw the same batches`);
  const kernels = await loadKernels(backend); // fresh, as for one run: the arena never frees
  const batches = new SharedBatches(
    kernels,
    data.train,
    first.config.batchSize,
    { shuffle: first.config.shuffle, seed: deriveSeed(first.config.seed, 'batches') },
    GROUP_STEPS_IN_A_ROW,
  );
  const runs = jobs.map(
    (job) =>
      new TrainingRun(buildNetwork(kernels, job.config, jobNorm(job), weightsOfJob(job)), data, job.config, hooksFor(job, started), {
        skipDiverged: true,
        skipDeadLayers: true,
        batches,
      }),
  );
  await runTogether(
    runs,
    (run) => {
      const job = jobs[runs.indexOf(run)]!;
      postResult(job, run.finish(), kernels.variant, started);
    },
    GROUP_STEPS_IN_A_ROW,
  );
}

/** A job's end, finished or interrupted, with the backend that ran it and its wall time since `started`. */
function postResult(job: TrainJob, result: TrainResult, backend: string, started: number): void {
  post({ type: result.stopReason === 'interrupted' ? 'interrupted' : 'finished', id: job.id, result, backend, durationMs: performance.now() - started });
}

/** The hooks that report a job's run to the main thread: progress about five times a second, every validation, the first divergence. */
function hooksFor(job: TrainJob, started: number): TrainHooks {
  const { id } = job;
  let lastProgress = 0;
  let progressStart = started;
  let progressStep = 0;
  return {
    onStep(step) {
      const time = performance.now();
      if (time - lastProgress < PROGRESS_EVERY_MS) return;
      const stepsPerSecond = lastProgress === 0 ? 0 : ((step - progressStep) * 1000) / (time - progressStart);
      lastProgress = time;
      progressStart = time;
      progressStep = step;
      post({ type: 'progress', id, step, stepsPerSecond });
    },
    onValidation: (point) => post({ type: 'validation', id, point }),
    onDivergence: (step, loss) => post({ type: 'diverged', id, step, loss }),
    shouldStop: () => stopRequested,
  };
}

try {
  enableRelaxedSimd(); // before any WebAssembly compiles in this thread
  const kernels = await loadKernels(backend);
  const data = mnistFromShared(sharedData);
  let queue = Promise.resolve();
  port.on('message', (message: MainToWorker) => {
    switch (message.type) {
      case 'stop':
        stopRequested = true;
        break;
      case 'run':
        // One run at a time; the main thread sends the next only after this one is done.
        queue = queue
          .then(() => runOne(message.job, data))
          .catch((error: unknown) => {
            post({ type: 'failed', id: message.job.id, message: error instanceof Error ? error.message : String(error) });
          });
        break;
      case 'runGroup':
        queue = queue
          .then(() => runGroup(message.jobs, data))
          .catch((error: unknown) => {
            post({ type: 'failed', id: message.jobs[0]?.id ?? null, message: error instanceof Error ? error.message : String(error) });
          });
        break;
      default:
        message satisfies never;
    }
  });
  post({ type: 'ready', backend: kernels.variant });
} catch (error) {
  post({ type: 'failed', id: null, message: error instanceof Error ? error.message : String(error) });
}
