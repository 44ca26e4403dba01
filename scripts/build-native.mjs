#!/usr/bin/env node
/**
 * @file Builds the native addon (native/*.c: the products, a Node-API addon) into
 * build/bnlab-native.node with the system's C compiler, and records the outcome in
 * build/bnlab-native.json ({ built, reason }) for the loader's and the tests' messages.
 *
 * The addon is optional: the wasm kernels compute the same bits without it. So a machine with no
 * C compiler or no Node headers gets one line saying so and a build that goes on; a compiler that
 * rejects the source fails the build (exit 1), since that is a defect, not a missing part.
 * Nothing is downloaded: the headers are the ones installed with this Node (`include/node` beside
 * its binary, or /usr/include/node).
 *
 * Usage: node scripts/build-native.mjs   (CC picks the compiler; default cc)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const nativeDirectory = join(root, 'native');
const sources = readdirSync(nativeDirectory)
  .filter((name) => name.endsWith('.c'))
  .sort()
  .map((name) => join(nativeDirectory, name));
const output = join(root, 'build', 'bnlab-native.node');
const status = join(root, 'build', 'bnlab-native.json');

/** -ffp-contract=off: the compiler must not fuse a multiply and an add the wasm kernels keep apart. */
const FLAGS = ['-std=c11', '-O3', '-ffp-contract=off', '-fvisibility=hidden', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC'];

function record(built, reason) {
  mkdirSync(dirname(status), { recursive: true });
  writeFileSync(status, `${JSON.stringify({ built, reason })}\n`);
}

function headerDirectory() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((directory) => existsSync(join(directory, 'node_api.h'))) ?? null;
}

rmSync(output, { force: true }); // never leave an addon from older source behind
const compiler = process.env.CC || 'cc';
const headers = headerDirectory();
const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
if (process.platform !== 'linux' || process.arch !== 'x64') {
  const reason = `the native products are written for x86-64 Linux (this is ${process.platform} ${process.arch})`;
  record(false, reason);
  console.log(`native products not built: ${reason}; the wasm kernels run alone`);
} else if (probe.error || probe.status !== 0) {
  const reason = `no C compiler (${compiler}) found; on Debian: apt-get install gcc`;
  record(false, reason);
  console.log(`native products not built: ${reason}; the wasm kernels run alone (same numbers, slower)`);
} else if (!headers) {
  const reason = `no Node-API headers (node_api.h) next to ${process.execPath} or in /usr/include/node`;
  record(false, reason);
  console.log(`native products not built: ${reason}; the wasm kernels run alone (same numbers, slower)`);
} else {
  const temporary = `${output}.${process.pid}.tmp`;
  const compiled = spawnSync(compiler, [...FLAGS, `-I${headers}`, ...sources, '-o', temporary], { encoding: 'utf8' });
  if (compiled.status !== 0) {
    rmSync(temporary, { force: true });
    record(false, `${compiler} failed on native/`);
    process.stderr.write(compiled.stderr || String(compiled.error));
    console.error(`native products: ${compiler} failed on native/ (above); fix the source, or build without it: CC=false npm run build`);
    process.exit(1);
  }
  renameSync(temporary, output);
  record(true, '');
  console.log(`${output.slice(root.length)}: built with ${probe.stdout.split('\n')[0]}`);
}
