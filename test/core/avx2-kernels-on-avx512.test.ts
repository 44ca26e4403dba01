/**
 * @file The 256-bit native kernels where the CPU runs AVX-512 too. The addon takes the widest set a
 * CPU runs, so on an AVX-512 machine the native tests (test/core/native-*.test.ts) check only the
 * 512-bit kernels; here they run again in a child process with BNLAB_NATIVE=avx2, which takes the
 * AVX2 set (native/addon.c), so that both sets are held to the wasm kernels' bits on one machine.
 * Where the CPU has no AVX-512 the AVX2 set is the default and the suite itself checks it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeKernels } from '../../src/node/native-files.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const nativeFiles = readdirSync(here)
  .filter((name) => /^native-.*\.test\.js$/.test(name))
  .map((name) => `${here}${name}`);
/** The child's environment: the AVX2 set, and not the test runner's own marker (with it, a child `node --test` runs nothing). */
const avx2Env: NodeJS.ProcessEnv = { ...process.env, BNLAB_NATIVE: 'avx2' };
delete avx2Env.NODE_TEST_CONTEXT;

/** A TAP summary's count (`# pass 61`). */
function summaryCount(output: string, label: string): number {
  const match = new RegExp(`^# ${label} (\\d+)$`, 'm').exec(output);
  assert.ok(match, `the child's output has no "# ${label}" line:\n${output.slice(-2000)}`);
  return Number(match[1]);
}

test('with BNLAB_NATIVE=avx2 the addon takes its AVX2 kernels, and every native test passes with them', (t) => {
  if (nativeKernels()?.vectors !== 'avx512f') {
    t.skip(`the native kernels here are ${nativeKernels()?.vectors ?? 'not loaded'}: the suite itself tests the set this CPU runs`);
    return;
  }
  const nativeFilesUrl = new URL('../../src/node/native-files.js', import.meta.url).href;
  const label = spawnSync(process.execPath, ['--input-type=module', '-e', `import('${nativeFilesUrl}').then((m) => console.log(m.nativeKernels()?.vectors))`], {
    env: avx2Env,
    encoding: 'utf8',
  });
  assert.equal(label.stdout.trim(), 'avx2', label.stderr);

  assert.ok(nativeFiles.length >= 10, `native test files found: ${nativeFiles.length}`);
  const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...nativeFiles], { env: avx2Env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const output = run.stdout + run.stderr;
  assert.equal(summaryCount(output, 'fail'), 0, output.slice(-4000));
  assert.equal(summaryCount(output, 'skipped'), 0, 'a native test skipped: the AVX2 kernels did not load in the child');
  assert.ok(summaryCount(output, 'pass') >= 50, output.slice(-2000));
  assert.equal(run.status, 0);
});
