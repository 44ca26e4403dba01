/**
 * @file What happens when bnlab's output cannot be written: a reader that went away (`bnlab … |
 * head -1`: EPIPE) is the reader's choice, so bnlab stops printing to that stream and finishes
 * the work it was asked for (checkpoints, records, charts); a stdout that fails otherwise (a full
 * disk behind `> /dev/full`) is reported in one line at the end and the exit code says so. A
 * failing progress stream (stderr) never stops a run.
 */

type OutputStream = NodeJS.WriteStream;

const failures = new Map<OutputStream, NodeJS.ErrnoException>();

/** Installs the handlers on stdout and stderr; call once at start-up. */
export function guardOutputStreams(streams: readonly OutputStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (failures.has(stream)) return;
      failures.set(stream, error);
      // From now on writes to this stream go nowhere, instead of failing again or throwing.
      stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
        return true;
      }) as OutputStream['write'];
    });
  }
  process.on('exit', () => reportOutputFailures());
}

/**
 * Results go to stdout: when it failed other than by its reader leaving, one line on stderr and
 * exit code 1, since what was printed is incomplete. stderr carries progress only: its failure
 * changes nothing.
 */
function reportOutputFailures(): void {
  const error = failures.get(process.stdout);
  if (!error || error.code === 'EPIPE') return;
  if (!failures.has(process.stderr))
    process.stderr.write(`bnlab: could not write the results to standard output (${error.code ?? error.message}); the run itself finished\n`);
  if (!process.exitCode) process.exitCode = 1;
}
