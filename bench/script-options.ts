/**
 * @file What the small bench scripts (kernels.ts, step.ts, zero-skipping.ts) share: their
 * `--name value` options and the process's CPU clock.
 */

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

/** Microseconds of this process's CPU time (user + system): unlike wall time, not inflated while other processes hold the core. */
export function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
