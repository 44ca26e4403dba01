/**
 * @file The PyTorch peer: runs bench/peers/torch_mlp.py in a child process with the first Python
 * that can `import torch` (BNLAB_PYTHON, then python3, then /usr/bin/python3), on one thread, from
 * bnlab's own initial weights, and parses its JSON record. PyTorch's speed here is that of the BLAS
 * it loads: Debian's python3-torch links the generic libblas.so.3, which is the slow reference BLAS
 * unless OpenBLAS provides it; an OpenBLAS folder (BNLAB_OPENBLAS_DIR, or Debian's
 * libopenblas0-pthread/-openmp/-serial) is put first on LD_LIBRARY_PATH when one is found, and the
 * record names the library that was really loaded.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Matrix } from '../../src/core/matrix.js';
import { BENCH_SEED, type RunPlan, type Throughput, type Variant } from '../workload.js';

const execFileAsync = promisify(execFile);
/** The script ships as source: tsc does not copy it, so it is found beside this file's TypeScript source. */
const SCRIPT = fileURLToPath(new URL('../../../bench/peers/torch_mlp.py', import.meta.url));
const PYTHON_CANDIDATES = [process.env['BNLAB_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p));
const OPENBLAS_DIRS = [
  process.env['BNLAB_OPENBLAS_DIR'],
  '/usr/lib/x86_64-linux-gnu/openblas-pthread',
  '/usr/lib/x86_64-linux-gnu/openblas-openmp',
  '/usr/lib/x86_64-linux-gnu/openblas-serial',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread',
].filter((p): p is string => Boolean(p));

export interface TorchMeasurement {
  system: string;
  version: string;
  threads: number;
  /** The BLAS library the PyTorch process really loaded. */
  blas: string;
  python: string;
  throughput: Record<Variant, Throughput>;
  evaluate: { medianMs: number; images: number; accuracy: number };
}

/** The first Python that imports torch, or null when none does (the bench then skips PyTorch). */
export async function findTorchPython(): Promise<string | null> {
  for (const python of PYTHON_CANDIDATES) {
    try {
      await execFileAsync(python, ['-c', 'import torch'], { timeout: 60_000 });
      return python;
    } catch {
      // not this one: no such interpreter, or no torch in it
    }
  }
  return null;
}

function openBlasDir(): string | null {
  return OPENBLAS_DIRS.find((dir) => existsSync(join(dir, 'libblas.so.3'))) ?? null;
}

/**
 * @param dataDir the folder of the four MNIST IDX files (the script reads and splits them itself)
 * @param initialWeights bnlab's [in, out] matrices, so PyTorch starts from the same weights
 */
export async function measureTorch(python: string, dataDir: string, initialWeights: readonly Matrix[], plan: RunPlan, evalRepeats: number): Promise<TorchMeasurement> {
  const workDir = await mkdtemp(join(tmpdir(), 'bnlab-bench-'));
  try {
    const weightsPath = join(workDir, 'initial-weights.f32');
    const flat = new Float32Array(initialWeights.reduce((sum, w) => sum + w.size, 0));
    let offset = 0;
    for (const w of initialWeights) {
      flat.set(w.data, offset);
      offset += w.size;
    }
    await writeFile(weightsPath, new Uint8Array(flat.buffer)); // little-endian on every platform Node runs on here
    const blasDir = openBlasDir();
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    if (blasDir) env['LD_LIBRARY_PATH'] = [blasDir, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
    const args = [
      SCRIPT, '--data-dir', dataDir, '--weights', weightsPath, '--seed', String(BENCH_SEED),
      '--warmup', String(plan.warmupSteps), '--runs', String(plan.runs), '--steps', String(plan.stepsPerRun),
      '--eval-repeats', String(evalRepeats),
    ];
    const { stdout } = await execFileAsync(python, args, { env, maxBuffer: 1 << 20 });
    const record = JSON.parse(stdout.trim().split('\n').pop() ?? '') as {
      version: string; threads: number; blas: string;
      withoutBn: Throughput; withBn: Throughput; evaluate: TorchMeasurement['evaluate'];
    };
    return {
      system: 'PyTorch',
      version: record.version,
      threads: record.threads,
      blas: record.blas,
      python,
      throughput: { withoutBn: record.withoutBn, withBn: record.withBn },
      evaluate: record.evaluate,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
