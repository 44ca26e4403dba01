/**
 * @file The bnlab command line: one program, a subcommand per job. Bad input ends with one line
 * and exit code 2 (see errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { nativeChoiceProblem } from '../node/native-files.js';
import { enableRelaxedSimd } from '../node/wasm-files.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { explainCommand } from './commands/explain.js';
import { reportCommand } from './commands/report.js';
import { reproduceCommand } from './commands/reproduce.js';
import { serveCommand } from './commands/serve.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import { reportError, UsageError } from './errors.js';
import { guardOutputStreams } from './output-streams.js';
import { unknownWordMessage } from './suggest.js';
import { versionLine } from './version.js';

enableRelaxedSimd(); // before any WebAssembly compiles: Node 20 keeps relaxed SIMD behind a flag

guardOutputStreams(); // `bnlab … | head -1` stops the printing, never the work

const program = new Command('bnlab')
  .description("bnlab: a batch-normalization laboratory. The article's MNIST experiments as commands, every claim measured.")
  .option('-V, --version', 'print the version and the kernel backend that runs here')
  // Unknown words reach the action below, which names an unknown command as one (not as an unknown option after it).
  .allowUnknownOption()
  .allowExcessArguments()
  .exitOverride()
  .configureOutput(oneLineErrors('bnlab'));

const commands = [
  trainCommand(),
  compareCommand(),
  evalCommand(),
  reproduceCommand(),
  sweepCommand(),
  workerCommand(),
  reportCommand(),
  explainCommand(),
  serveCommand(),
];
for (const command of commands) program.addCommand(command.exitOverride().configureOutput(oneLineErrors(`bnlab ${command.name()}`)));

program.action(async (options: { version?: boolean }) => {
  const [word] = program.args;
  if (word !== undefined)
    throw new UsageError(
      unknownWordMessage(
        word,
        commands.map((command) => command.name()),
      ),
    );
  if (options.version) {
    process.stdout.write(`${await versionLine()}\n`);
    return;
  }
  program.outputHelp();
});

/** Commander's errors as one line that names the command and where help is: `bnlab train: unknown option '--x' (bnlab train --help lists them)`. */
function oneLineErrors(name: string): { outputError: (text: string, write: (text: string) => void) => void } {
  return {
    outputError: (text, write) =>
      write(
        `${name}: ${text
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ')} (${name} --help shows the usage)\n`,
      ),
  };
}

try {
  const nativeProblem = nativeChoiceProblem();
  if (nativeProblem) throw new UsageError(nativeProblem);
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; --help and --version end with code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    reportError(error);
  }
}
