/**
 * @file One worker thread of the grid pool. It loads the kernels once, trains on the shared
 * MNIST views, and runs one spec at a time as the main thread sends them: both networks of a
 * pair build their initial weights from the same seed (`initialWeightsFor`), so they start
 * equal. Progress goes back about five times a second; a 'stop' message ends the current run
 * cleanly (it is reported as interrupted and never recorded).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RunSpec } from '../lab/grid.js';
import { buildNetwork, initialWeightsFor } from '../train/networks.js';
import { train } from '../train/trainer.js';
import { mnistFromShared, type GridWorkerData, type MainToWorker, type WorkerToMain } from './grid-messages.js';
import { enableRelaxedSimd, loadKernels } from './wasm-files.js';

const PROGRESS_EVERY_MS = 200;

if (!parentPort) throw new Error('grid-worker.js runs as a worker thread of the grid pool');
const port = parentPort;
const post = (message: WorkerToMain): void => port.postMessage(message);

const { data: sharedData, backend } = workerData as GridWorkerData;
let stopRequested = false;

async function runOne(spec: RunSpec, data: ReturnType<typeof mnistFromShared>): Promise<void> {
  const started = performance.now();
  // A fresh backend per run: the wasm arena never frees, so one shared backend would keep every
  // finished run's buffers (~15 MB each). The module compiles once per thread; this is cheap.
  const kernels = await loadKernels(backend);
  const net = buildNetwork(kernels, spec.config, spec.batchNorm, initialWeightsFor(spec.config));
  let lastProgress = 0;
  let progressStart = started;
  let progressStep = 0;
  const result = await train(net, data, spec.config, {
    onStep(step) {
      const time = performance.now();
      if (time - lastProgress < PROGRESS_EVERY_MS) return;
      const stepsPerSecond = lastProgress === 0 ? 0 : ((step - progressStep) * 1000) / (time - progressStart);
      lastProgress = time;
      progressStart = time;
      progressStep = step;
      post({ type: 'progress', id: spec.id, step, stepsPerSecond });
    },
    shouldStop: () => stopRequested,
  });
  if (result.stopReason === 'interrupted') {
    post({ type: 'interrupted', id: spec.id, step: result.steps });
    return;
  }
  post({ type: 'finished', id: spec.id, result, backend: kernels.variant, durationMs: performance.now() - started });
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
        queue = queue.then(() => runOne(message.spec, data)).catch((error: unknown) => {
          post({ type: 'failed', id: message.spec.id, message: error instanceof Error ? error.message : String(error) });
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
