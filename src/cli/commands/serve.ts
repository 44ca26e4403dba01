/**
 * @file `bnlab serve`: serves the lab page (the static folder npm run build:web writes) on a
 * local port until Ctrl-C. The page trains in the browser's own Web Workers; this process only
 * hands out files.
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { startStaticServer } from '../../node/static-server.js';
import { UsageError } from '../errors.js';
import { parseInteger } from '../parse.js';

interface RawServeOptions {
  port: string;
  host: string;
  dir?: string;
}

/** dist/web/ at the package root: this file is dist/src/cli/commands/serve.js. */
function builtPageDirectory(): string {
  return fileURLToPath(new URL('../../../web/', import.meta.url));
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the lab page on this machine: train and look inside both networks in a browser')
    .option('--port <n>', 'TCP port (0 picks any free port)', '8080')
    .option('--host <address>', 'address to listen on (0.0.0.0 for every address of this machine)', '127.0.0.1')
    .option('--dir <dir>', "the page folder to serve (default: the package's dist/web/)")
    .action(async (raw: RawServeOptions) => {
      const port = parseInteger('--port', raw.port);
      if (port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got ${port}`);
      const root = raw.dir === undefined ? builtPageDirectory() : resolve(raw.dir);
      if (!existsSync(join(root, 'index.html'))) {
        throw new UsageError(
          raw.dir === undefined
            ? 'the page is not built: run npm run build:web (npm ci builds it)'
            : `--dir ${raw.dir} has no index.html: give the folder npm run build:web writes (dist/web/)`,
        );
      }
      const server = await startStaticServer({ root, host: raw.host, port });
      process.stdout.write(`bnlab lab: ${server.url} (Ctrl-C stops it)\n`);
      await new Promise<void>((stop) => {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      process.stdout.write('stopped\n');
    });
}
