/**
 * @file Peak resident memory of one bnlab training run, measured in a child process (see
 * peak-memory-child.ts) so that the peers and the benchmark itself do not inflate it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BackendChoice } from '../src/core/backend.js';
import type { PeakMemoryReport } from './peak-memory-child.js';

const execFileAsync = promisify(execFile);
const CHILD_SCRIPT = fileURLToPath(new URL('./peak-memory-child.js', import.meta.url));

export async function measurePeakMemory(steps: number, backend: BackendChoice): Promise<PeakMemoryReport> {
  const { stdout } = await execFileAsync(process.execPath, [CHILD_SCRIPT, String(steps), backend], { maxBuffer: 1 << 20 });
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(lastLine) as PeakMemoryReport;
  } catch {
    throw new Error(`the memory-measuring child printed no JSON report; its output ended with: ${lastLine.slice(0, 200)}`);
  }
}
