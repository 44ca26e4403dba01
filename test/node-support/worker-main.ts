/**
 * @file `bnlab worker` as its own program, for the child-process tests: the command as the CLI
 * runs it (relaxed SIMD enabled first, errors as one line with exit code 2), without main.ts.
 */
import { workerCommand } from '../../src/cli/commands/worker.js';
import { reportError } from '../../src/cli/errors.js';
import { enableRelaxedSimd } from '../../src/node/wasm-files.js';

enableRelaxedSimd();
try {
  await workerCommand().exitOverride().parseAsync(process.argv);
} catch (error) {
  if (error instanceof Error && error.name === 'CommanderError') process.exitCode = 2;
  else reportError(error);
}
