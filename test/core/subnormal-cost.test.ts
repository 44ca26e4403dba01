/**
 * @file Whether subnormal products are slow here decides whether the wasm backend rescales them
 * (src/core/wasm/subnormal-cost.ts). The measurement is checked on a clock that only the products
 * move, each costing what the test says: a ratio below SLOW_SUBNORMALS comes out exactly, one
 * above it stops the subnormal run early (an Intel core's assists cost ~100 times a normal
 * multiply: the measurement must stay short there), and a pause in one round does not change the
 * answer. Then a backend's default follows its measured ratio.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileKernelModule } from '../../src/core/wasm/kernel-module.js';
import { measureSubnormalSlowdown, SLOW_SUBNORMALS } from '../../src/core/wasm/subnormal-cost.js';
import { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { wasmBuildsHere } from '../helpers/backends.js';

/** A clock in milliseconds that advances only by what each product costs (a normal one 1 µs); `pause` adds to one product's cost. */
function costedProducts(subnormalCost: number, pause?: { atNormal: number; ms: number }) {
  let clock = 0;
  const counts = { normal: 0, subnormal: 0 };
  const multiply = (subnormal: boolean) => {
    if (subnormal) {
      counts.subnormal++;
      clock += subnormalCost * 0.001;
    } else {
      counts.normal++;
      clock += 0.001 + (pause && counts.normal === pause.atNormal ? pause.ms : 0);
    }
  };
  return { multiply, now: () => clock, counts, elapsed: () => clock };
}

describe('the cost of subnormal products, measured', () => {
  test('a ratio below the threshold comes out as it is', () => {
    for (const cost of [0.5, 1, 1.5, 1.9]) {
      const products = costedProducts(cost);
      const ratio = measureSubnormalSlowdown(products.multiply, products.now);
      assert.ok(Math.abs(ratio - cost) < 1e-6, `subnormal products ${cost}× the normal cost: measured ${ratio}`);
      assert.equal(products.counts.subnormal, products.counts.normal, `${cost}×: as many subnormal products as normal ones`);
    }
  });

  test('a slow subnormal product is found slow, and the measurement stays short', () => {
    for (const cost of [3, 30, 150, 1000]) {
      const products = costedProducts(cost);
      const ratio = measureSubnormalSlowdown(products.multiply, products.now);
      assert.ok(ratio > SLOW_SUBNORMALS, `subnormal products ${cost}× the normal cost: measured ${ratio}`);
      // Three rounds of a 1 ms window and at most twice that (and one product) of subnormal ones.
      assert.ok(products.elapsed() <= 3 * (1.001 + 2 * 1.001 + cost * 0.001), `${cost}×: ${products.elapsed()} ms in all`);
    }
  });

  test('a pause in one round leaves the answer as it was', () => {
    const pausedNormal = costedProducts(1, { atNormal: 1500, ms: 5 }); // in the second round's normal run
    assert.ok(measureSubnormalSlowdown(pausedNormal.multiply, pausedNormal.now) < SLOW_SUBNORMALS, 'still not slow');
    const pausedFirst = costedProducts(1, { atNormal: 10, ms: 0.5 }); // the first window then holds fewer products
    const ratio = measureSubnormalSlowdown(pausedFirst.multiply, pausedFirst.now);
    assert.ok(Math.abs(ratio - 1) < 1e-6, `the least time per product of each kind: ${ratio}`);
  });

  test('a backend rescales subnormal factors by default exactly where they were measured slow, with one ratio per process', async () => {
    const builds = wasmBuildsHere();
    assert.ok(builds.length > 0, 'a wasm build to measure with (npm run build)');
    const backends = await Promise.all(builds.map(async ({ variant, bytes }) => WasmKernels.create(await compileKernelModule(bytes), variant)));
    for (const backend of backends) {
      assert.ok(backend.subnormalSlowdown > 0 && Number.isFinite(backend.subnormalSlowdown), `${backend.variant}: ${backend.subnormalSlowdown}`);
      assert.equal(backend.rescaleSubnormals, backend.subnormalSlowdown > SLOW_SUBNORMALS, backend.variant);
      assert.equal(backend.subnormalSlowdown, backends[0]!.subnormalSlowdown, 'the CPU measured once');
    }
  });
});
