/**
 * @file npm's `prepare` (scripts/prepare.mjs) builds only where the build is missing or older than
 * its sources: the first `npx bnlab` in a checkout prepares it again, and rebuilt everything right
 * after `npm ci` had. Checked on a made-up tree with set modification times (never the real
 * build, which other tests are using).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const prepareUrl = new URL('../../scripts/prepare.mjs', import.meta.url).href;
const INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'src/core/kernels.ts', 'native/products.c', 'assembly/index.ts', 'web/index.html'];

function write(dir: string, path: string, text: string, seconds: number): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
  utimesSync(join(dir, path), seconds, seconds);
}

test('prepare builds where an output is missing, the native code was not built, or a source is newer; else not', async () => {
  const { staleBecause, OUTPUTS } = (await import(prepareUrl)) as { staleBecause: (dir: string) => string | null; OUTPUTS: readonly string[] };
  const dir = mkdtempSync(join(tmpdir(), 'bnlab-prepare-'));
  try {
    for (const input of INPUTS) write(dir, input, 'source', 1_000);
    for (const output of OUTPUTS.slice(0, 2)) write(dir, output, 'built', 2_000);
    assert.equal(staleBecause(dir), 'build/bnlab-native.json is missing');
    for (const output of OUTPUTS) write(dir, output, output.endsWith('.json') ? '{"built":true}' : 'built', 2_000);
    // The directories' own times (set when their files were made) count as the sources' too.
    for (const folder of ['src/core', 'src', 'native', 'assembly', 'web']) utimesSync(join(dir, folder), 1_000, 1_000);
    assert.equal(staleBecause(dir), null, 'every output newer than every source: no build');
    write(dir, 'src/core/kernels.ts', 'edited', 3_000);
    assert.equal(staleBecause(dir), 'src changed since the last build');
    write(dir, 'src/core/kernels.ts', 'edited', 1_000);
    utimesSync(join(dir, 'src/core'), 1_000, 1_000);
    write(dir, 'package-lock.json', 'other tools', 2_500);
    assert.equal(staleBecause(dir), 'package-lock.json changed since the last build');
    write(dir, 'package-lock.json', 'other tools', 1_000);
    write(dir, 'build/bnlab-native.json', '{"built":false,"reason":"no C compiler"}', 2_000);
    assert.equal(staleBecause(dir), 'the native code was not built last time');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
