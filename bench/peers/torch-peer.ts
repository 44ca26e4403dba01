/**
 * @file The PyTorch peer: runs bench/peers/torch_mlp.py in serve mode in a child process with the
 * first Python that can `import torch` (BNLAB_PYTHON, then python3, then /usr/bin/python3), on one
 * thread, from bnlab's own initial weights; each timed run is one command and one JSON reply, so the
 * bench can alternate PyTorch's runs with bnlab's. PyTorch's speed here is that of the BLAS
 * it loads: Debian's python3-torch links the generic libblas.so.3, which is the slow reference BLAS
 * unless OpenBLAS provides it; an OpenBLAS folder (BNLAB_OPENBLAS_DIR, or Debian's
 * libopenblas0-pthread/-openmp/-serial) is put first on LD_LIBRARY_PATH when one is found, and the
 * record names the library that was really loaded.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Matrix } from '../../src/core/matrix.js';
import { BENCH_SEED, type RunResult, type TrainingSession, type Variant } from '../workload.js';

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

/** A running PyTorch process that trains on command (torch_mlp.py --serve). */
export interface TorchServer {
  version: string;
  threads: number;
  /** The BLAS library the PyTorch process really loaded. */
  blas: string;
  python: string;
  /** A session on one network: each run is one `run` command. */
  session(variant: Variant): TrainingSession;
  /** The validation pass of the BN network (after it has trained). */
  evaluate(repeats: number): Promise<TorchEvaluation>;
  close(): Promise<void>;
}

export interface TorchEvaluation {
  medianMs: number;
  images: number;
  accuracy: number;
}

/**
 * Starts torch_mlp.py in serve mode on one thread, from bnlab's initial weights.
 * @param dataDir the folder of the four MNIST IDX files (the script reads and splits them itself)
 * @param initialWeights bnlab's [in, out] matrices, so PyTorch starts from the same weights
 */
export async function startTorchServer(python: string, dataDir: string, initialWeights: readonly Matrix[]): Promise<TorchServer> {
  const workDir = await mkdtemp(join(tmpdir(), 'bnlab-bench-'));
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
  const child = spawn(python, [SCRIPT, '--data-dir', dataDir, '--weights', weightsPath, '--seed', String(BENCH_SEED), '--serve'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const lines = createInterface({ input: child.stdout });
  const pending: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  lines.on('line', (line) => pending.shift()?.resolve(line));
  child.on('close', (code) => {
    const error = new Error(`the PyTorch process ended (exit code ${code})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
    for (const waiter of pending.splice(0)) waiter.reject(error);
  });
  const nextLine = (): Promise<Record<string, unknown>> =>
    new Promise<string>((resolve, reject) => pending.push({ resolve, reject })).then((line) => {
      const reply = JSON.parse(line) as Record<string, unknown>;
      if (typeof reply['error'] === 'string') throw new Error(`the PyTorch process said: ${reply['error']}`);
      return reply;
    });
  const ask = (command: string): Promise<Record<string, unknown>> => {
    const reply = nextLine();
    child.stdin.write(`${command}\n`);
    return reply;
  };
  try {
    const info = await nextLine(); // the first line: version, threads, BLAS
    return {
      version: String(info['version']),
      threads: Number(info['threads']),
      blas: String(info['blas']),
      python,
      session: (variant) => ({
        run: async (steps) => (await ask(`run ${variant} ${steps}`)) as unknown as RunResult,
        close: () => Promise.resolve(),
      }),
      evaluate: async (repeats) => (await ask(`evaluate ${repeats}`)) as unknown as TorchEvaluation,
      close: async () => {
        child.stdin.end();
        if (child.exitCode === null) await new Promise<void>((resolve) => child.once('close', () => resolve()));
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}
