/**
 * @file `bnlab worker` as its own program, for the child-process tests: the command as the CLI
 * runs it (relaxed SIMD enabled first, errors as one line with exit code 2), without main.ts.
 * `node --test dist/test/` runs every file under test/, this one too: without
 * BNLAB_WORKER_MAIN=1 (which the tests set) it does nothing.
 */
import { workerCommand } from '../../src/cli/commands/worker.js';
import { reportError } from '../../src/cli/errors.js';
import { enableRelaxedSimd } from '../../src/node/wasm-files.js';

if (process.env.BNLAB_WORKER_MAIN === '1') {
  enableRelaxedSimd();
  try {
    await workerCommand().exitOverride().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof Error && error.name === 'CommanderError') process.exitCode = 2;
    else reportError(error);
  }
}
