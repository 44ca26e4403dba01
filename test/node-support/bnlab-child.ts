/**
 * @file Test support: a `bnlab` command in a child process, as a user runs it, with a way to wait
 * for a line of its output (a worker's ready line, a run started), killed after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { BNLAB_BIN } from '../cli/run-cli.js';

export interface BnlabChild {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line of `stream` (default stdout) matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
}

/** Starts `bnlab ...args` as a user runs it; killed after the test if still running. */
export function startBnlab(t: TestContext, args: string[]): BnlabChild {
  const child = spawn(process.execPath, [BNLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolveExit({ code, signal });
    });
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async line(pattern, timeoutMs = 15_000, stream = 'stdout') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (stream === 'stdout' ? stdout : stderr).split('\n').find((text) => pattern.test(text));
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`bnlab exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 200);
        });
      }
    },
  };
}
