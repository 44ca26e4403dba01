/**
 * @file Pins the bench (every thread, and every process it starts: the PyTorch peer) to one
 * logical CPU, so that bnlab and each peer run on the same core. On this shared VM a core's speed
 * changes for minutes at a time (another guest on its hardware: about −30% for vector-heavy code),
 * and the two vCPUs do not change together; unpinned, the PyTorch process often ran on the other
 * vCPU than bnlab, and a ratio then measured the two cores as much as the two programs
 * (1.47× one run, 1.79× the next). Uses `taskset` (util-linux); where it is missing, nothing is
 * pinned and the record says so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The logical CPU this process is running on now (field 39 of /proc/self/stat), or null off Linux. */
function currentCpu(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 on: the name may hold spaces
    const cpu = Number(fields[39 - 3]);
    return Number.isInteger(cpu) ? cpu : null;
  } catch {
    return null;
  }
}

/**
 * Pins all threads of this process (and so its future children) to `cpu`, by default the one it
 * runs on now. Returns the CPU, or the reason nothing was pinned.
 */
export function pinToOneCpu(cpu: number | null = currentCpu()): { cpu: number } | { reason: string } {
  if (process.platform !== 'linux') return { reason: `not on Linux (${process.platform})` };
  if (cpu === null) return { reason: 'could not read the current CPU from /proc/self/stat' };
  try {
    execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return { cpu };
  } catch (error) {
    return { reason: `taskset failed (${(error as Error).message.split('\n')[0]}); install util-linux` };
  }
}
