/**
 * @file How the CLI ends on bad input: one line on stderr, exit code 2, never a stack trace.
 * Anything a user can cause (a flag, a file, a checkpoint) becomes a UsageError or is one of the
 * library's named errors; an unexpected error still prints one line plus a hint to report it.
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Errors whose message is written for the user: printed as they are, exit code 2. */
const USER_ERROR_NAMES = new Set([
  'UsageError',
  'ConfigError',
  'DataError',
  'CheckpointError',
  'RunStoreError',
  'ServeError',
  'OutputPathError',
  'SweepFileError',
  'QueueUrlError',
  'QueueUnreachableError',
  'CommanderError',
]);
/** Failures that are not bad input and not bugs (an output that failed after the work): one line, exit code 1. */
const FAILURE_NAMES = new Set(['OutputWriteError']);

function isUserError(error: unknown): error is Error {
  return error instanceof Error && (USER_ERROR_NAMES.has(error.name) || USER_ERROR_NAMES.has(error.constructor.name));
}

/** Prints `error` as one line and sets the exit code: 2 for bad input, 1 otherwise. */
export function reportError(error: unknown): void {
  if (isUserError(error)) {
    process.stderr.write(`bnlab: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (error instanceof Error && FAILURE_NAMES.has(error.name)) {
    process.stderr.write(`bnlab: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`bnlab: unexpected error: ${message}\n(run with BNLAB_DEBUG=1 for the stack trace, and please report it)\n`);
  if (process.env.BNLAB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
