/**
 * @file The bnlab command line: one program, a subcommand per job. Bad input ends with one line
 * and exit code 2 (see errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { enableRelaxedSimd } from '../node/wasm-files.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { explainCommand } from './commands/explain.js';
import { reportCommand } from './commands/report.js';
import { reproduceCommand } from './commands/reproduce.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';
import { reportError } from './errors.js';
import { versionLine } from './version.js';

enableRelaxedSimd(); // before any WebAssembly compiles: Node 20 keeps relaxed SIMD behind a flag

// `bnlab … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const program = new Command('bnlab')
  .description('bnlab: a batch-normalization laboratory. The article\'s MNIST experiments as commands, every claim measured.')
  .option('-V, --version', 'print the version and the kernel backend that runs here')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error: ') ? `bnlab: ${text.slice(7)}` : text) });

for (const command of [trainCommand(), compareCommand(), evalCommand(), reproduceCommand(), reportCommand(), explainCommand(), serveCommand()]) {
  program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
}

program.action(async (options: { version?: boolean }) => {
  if (options.version) {
    process.stdout.write(`${await versionLine()}\n`);
    return;
  }
  program.outputHelp();
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; --help and --version end with code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    reportError(error);
  }
}
