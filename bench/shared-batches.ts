/**
 * @file Benchmark of issue 15, item 2 (`node dist/bench/shared-batches.js [--steps N] [--rounds R]
 * [--groups 2,8] [--no-pin]`): networks that see the same batches, trained by one thread
 *   - alone: one after another, each in its own backend with its own draws (the path before);
 *   - side by side: in one backend, one step each in turn, each still drawing its own batches
 *     (what interleaving alone costs: the networks' weights compete for the caches);
 *   - shared: side by side on batches drawn and converted once per step (`SharedBatches`), one
 *     step each in turn;
 *   - shared, K in a row: the same, batches drawn K at a time and each network running K steps in
 *     a row on them (`--ahead`, default 16; what the worker pool does).
 * They run in alternating rounds on one pinned CPU (this VM's cores change speed for minutes at a
 * time) and each round's ratio to `alone` is taken, in wall time and in CPU time (the process's
 * user + system time, which other processes taking the CPU do not inflate); medians are printed. Groups:
 * compare's pair (model 1 without and with BN) and eight networks (a thread's half of the
 * article's grid: its configurations that do not diverge, without and with BN). Training steps
 * only, no validation. It is a benchmark, not a test.
 */

import type { MnistData } from '../src/data/mnist.js';
import { SharedBatches } from '../src/data/shared-batches.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config.js';
import { buildNetwork } from '../src/train/networks.js';
import { deriveSeed } from '../src/train/seeds.js';
import { runTogether, TrainingRun } from '../src/train/trainer.js';
import { pinToOneCpu } from './pin-cpu.js';

type Mode = 'alone' | 'side by side' | 'shared' | 'shared, K in a row';
const MODES: readonly Mode[] = ['alone', 'side by side', 'shared', 'shared, K in a row'];

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** The article's configurations that train without diverging, without and with BN, in the grid's order. */
function articleNetworks(count: number, steps: number): Array<{ config: TrainConfig; batchNorm: boolean }> {
  const settings: Array<[number, number, 'relu' | 'sigmoid']> = [
    [0.05, 0.01, 'relu'],
    [0.05, 0.01, 'sigmoid'],
    [0.05, 2, 'sigmoid'],
    [10, 0.01, 'sigmoid'],
    [10, 2, 'sigmoid'],
  ];
  const networks = settings.flatMap(([initStd, learningRate, activation]) =>
    [false, true].map((batchNorm) => ({
      config: resolveTrainConfig({ steps, initStd, learningRate, activation, batchNorm, norm: batchNorm ? 'bn' : 'none', seed: 1 }),
      batchNorm,
    })),
  );
  return networks.slice(0, count);
}

interface Timing {
  wall: number;
  cpu: number;
}

function clock(): Timing {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now(), cpu: (user + system) / 1000 };
}

function since(start: Timing): Timing {
  const end = clock();
  return { wall: end.wall - start.wall, cpu: end.cpu - start.cpu };
}

async function timed(mode: Mode, data: MnistData, networks: ReturnType<typeof articleNetworks>): Promise<Timing> {
  const options = { validate: false };
  if (mode === 'alone') {
    const total = { wall: 0, cpu: 0 };
    for (const { config, batchNorm } of networks) {
      const kernels = await loadKernels('auto');
      const run = new TrainingRun(buildNetwork(kernels, config, batchNorm), data, config, {}, options);
      const start = clock();
      while (!run.ended) run.advance(Infinity);
      const { wall, cpu } = since(start);
      total.wall += wall;
      total.cpu += cpu;
    }
    return total;
  }
  const kernels = await loadKernels('auto');
  const first = networks[0]!.config;
  const stride = mode === 'shared, K in a row' ? ahead : 1;
  const batches =
    mode === 'side by side'
      ? undefined
      : new SharedBatches(kernels, data.train, first.batchSize, { shuffle: first.shuffle, seed: deriveSeed(first.seed, 'batches') }, stride);
  const runs = networks.map(
    ({ config, batchNorm }) => new TrainingRun(buildNetwork(kernels, config, batchNorm), data, config, {}, { ...options, ...(batches ? { batches } : {}) }),
  );
  const start = clock();
  await runTogether(runs, undefined, stride);
  return since(start);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const steps = Number(argument('--steps', '1500'));
const rounds = Number(argument('--rounds', '5'));
const groups = argument('--groups', '2,8').split(',').map(Number);
const ahead = Number(argument('--ahead', '16'));
const pinned = process.argv.includes('--no-pin') ? { reason: '--no-pin' } : pinToOneCpu();
enableRelaxedSimd();
const data = await loadMnist();
console.log(
  `Shared batches: ${steps} steps per network, K = ${ahead}, ${rounds} alternating rounds, ${'cpu' in pinned ? `pinned to CPU ${pinned.cpu}` : `not pinned (${pinned.reason})`}, ${(await loadKernels('auto')).variant}`,
);
console.log("networks  path                steps/s (median)  vs alone, wall  vs alone, CPU  rounds' wall ratios");
for (const count of groups) {
  const networks = articleNetworks(count, steps);
  await timed('side by side', data, articleNetworks(count, 300)); // warm-up: tier-up of every path
  await timed('shared', data, articleNetworks(count, 300));
  await timed('alone', data, articleNetworks(count, 300));
  await timed('shared, K in a row', data, articleNetworks(count, 300));
  const times: Record<Mode, Timing[]> = { alone: [], 'side by side': [], shared: [], 'shared, K in a row': [] };
  for (let round = 0; round < rounds; round++) for (const mode of MODES) times[mode].push(await timed(mode, data, networks));
  for (const mode of MODES) {
    const ratios = (key: keyof Timing) => times[mode].map((value, i) => times.alone[i]![key] / value[key]);
    const rate = (count * steps * 1000) / median(times[mode].map((t) => t.wall));
    console.log(
      `${String(count).padStart(8)}  ${mode.padEnd(18)}  ${rate.toFixed(0).padStart(16)}  ${(`${median(ratios('wall')).toFixed(3)}×`).padStart(14)}  ${(`${median(ratios('cpu')).toFixed(3)}×`).padStart(13)}  ${ratios(
        'wall',
      )
        .map((r) => r.toFixed(3))
        .join(' ')}`,
    );
  }
}
