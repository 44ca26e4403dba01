/**
 * @file The child process of the memory measurement: one ordinary training run with BN (load
 * MNIST, build the network, `train` with validation every 500 steps and the final test pass), then
 * one JSON line on stdout with the process's peak resident set size. Run alone so that neither the
 * peers nor the benchmark's own bookkeeping inflate it.
 *
 * Usage: node dist/bench/peak-memory-child.js <steps> [backend]
 */
import { readFileSync } from 'node:fs';
import { parseChoice, parseInteger } from '../src/cli/parse.js';
import { BACKEND_CHOICES } from '../src/core/backend.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { loadBenchKernels } from './bench-kernels.js';
import { BENCH_CONFIG, buildBenchNetwork } from './workload.js';

export interface PeakMemoryReport {
  maxRssMb: number;
  /** Where the peak came from: Linux's VmHWM of this process image, or getrusage's maxRSS elsewhere. */
  measuredWith: 'VmHWM' | 'maxRSS';
  /** Peak resident size right after loading MNIST, before any training: what the data loading alone costs. */
  maxRssAfterLoadMb: number;
  /** Peak resident size before loading anything (Node itself, the modules, the kernels). */
  maxRssAtStartMb: number;
  steps: number;
  backendVariant: string;
  validationAccuracy: number;
  testAccuracy: number;
}

async function main(): Promise<void> {
  const steps = parseInteger('steps', process.argv[2] ?? '3000');
  const backend = parseChoice('backend', process.argv[3] ?? 'auto', BACKEND_CHOICES);
  const kernels = await loadBenchKernels(backend);
  const maxRssAtStartMb = peakRssMb().mb;
  const data = await loadMnist();
  const maxRssAfterLoadMb = peakRssMb().mb;
  const config = resolveTrainConfig({ ...BENCH_CONFIG, hiddenSizes: [...BENCH_CONFIG.hiddenSizes], steps, batchNorm: true });
  const net = buildBenchNetwork(kernels, 'withBn');
  const result = await train(net, data, config);
  const peak = peakRssMb();
  const report: PeakMemoryReport = {
    maxRssMb: peak.mb,
    measuredWith: peak.source,
    maxRssAfterLoadMb,
    maxRssAtStartMb,
    steps: result.steps,
    backendVariant: kernels.variant,
    validationAccuracy: result.validation.accuracy,
    testAccuracy: result.test.accuracy,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * The peak resident size of this process. On Linux, getrusage's maxRSS survives exec: a child
 * starts with its parent's peak at fork time (the benchmark's, with MNIST loaded), so VmHWM of the
 * new process image is read instead; elsewhere maxRSS is all there is.
 */
function peakRssMb(): { mb: number; source: 'VmHWM' | 'maxRSS' } {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return { mb: Number(match[1]) / 1024, source: 'VmHWM' };
  } catch {
    // no procfs: not Linux
  }
  return { mb: process.resourceUsage().maxRSS / 1024, source: 'maxRSS' }; // maxRSS is in kilobytes
}

await main();
