/**
 * @file The Node side of the wasm backend: build/'s modules are found from any working
 * directory, a folder without them gives nulls (so `auto` falls back and `wasm` says to build),
 * the relaxed-SIMD switch works on this Node, and `loadKernels` returns what each choice means.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createKernels } from '../../src/core/backend.js';
import { supportsRelaxedSimd, supportsWasmSimd } from '../../src/core/wasm/feature-probe.js';
import { nativeKernels } from '../../src/node/native-files.js';
import { enableRelaxedSimd, kernelBuildDirectory, loadKernels, readKernelModules } from '../../src/node/wasm-files.js';

describe('wasm-files', () => {
  test('build/ is found relative to the compiled file, whatever the working directory', () => {
    const before = process.cwd();
    try {
      process.chdir(tmpdir());
      const modules = readKernelModules();
      assert.ok(modules.relaxedSimd && modules.simd128, `no kernel modules in ${kernelBuildDirectory().href}: run \`npm run build\``);
      assert.ok(WebAssembly.validate(modules.simd128));
    } finally {
      process.chdir(before);
    }
  });

  test('a folder without modules gives nulls: auto falls back to js, wasm says to build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'bnlab-no-wasm-'));
    try {
      const modules = readKernelModules(pathToFileURL(`${empty}/`));
      assert.deepEqual(modules, { relaxedSimd: null, simd128: null });
      assert.equal((await createKernels('auto', modules)).name, 'js');
      await assert.rejects(createKernels('wasm', modules), /npm run build/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('enableRelaxedSimd makes relaxed SIMD validate on this Node', () => {
    assert.ok(supportsWasmSimd(), 'Node 20 has WebAssembly SIMD');
    enableRelaxedSimd();
    enableRelaxedSimd(); // idempotent
    assert.ok(supportsRelaxedSimd());
  });

  test('loadKernels: js is the reference, wasm and auto the relaxed-SIMD build (with the native code where it was built), each with its own memory', async () => {
    assert.equal((await loadKernels('js')).variant, 'float32');
    const wasm = await loadKernels('wasm'),
      auto = await loadKernels('auto'),
      alone = await loadKernels('auto', { native: false });
    const native = nativeKernels();
    const expected = `wasm relaxed-simd${native ? ` + native ${native.vectors}` : ''}`;
    assert.equal(wasm.variant, expected);
    assert.equal(auto.variant, expected);
    assert.equal(alone.variant, 'wasm relaxed-simd');
    assert.notEqual(wasm.matrix(1, 1).data.buffer, auto.matrix(1, 1).data.buffer);
  });
});
