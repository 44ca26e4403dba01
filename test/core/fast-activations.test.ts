/**
 * @file The wasm backend's SIMD sigmoid and tanh (assembly/fast-math.ts) against the reference
 * backend (f64 Math, rounded to float32) over a dense grid from −100 to 100, the subnormal-output
 * range of sigmoid, random float32 bit patterns of every magnitude, and the special values; then
 * exact saturation, NaN propagation, signed zeros, and that an element's result does not depend
 * on whether it falls in a full vector or in the scalar tail.
 *
 * Bound: at most 2 float32 ulps from the reference, counted on the ordered integer encoding (so
 * it also holds across subnormals and zero). Why 2: the reference is within ½ ulp of the exact
 * value; the kernel's e^(−|x|) carries ≲1 ulp (the polynomial's error plus the final scaling's
 * rounding), and 1 + e and the division add ½ ulp each, mostly cancelling. Measured over 4·10⁶
 * points: sigmoid 2 ulp at most (0.15% of points), tanh 1 ulp.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { Kernels } from '../../src/core/kernels.js';
import { Rng } from '../../src/core/rng.js';
import type { WasmKernels } from '../../src/core/wasm/wasm-kernels.js';
import { backendsUnderTest } from '../helpers/backends.js';

const MAX_ULPS = 2;
const reference = new JsKernels('float32');
const wasmBackends = (await backendsUnderTest()).filter((kernels) => kernels.name === 'wasm');

const bitsView = new Float32Array(1),
  bitsAsInt = new Int32Array(bitsView.buffer);

/** A float32's position on the number line in ulps: ±0 both 0, consecutive floats one apart. */
function ulpIndex(value: number): number {
  bitsView[0] = value;
  const bits = bitsAsInt[0]!;
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

/** ±0, saturation, infinities, NaN, subnormals, the smallest normal, underflow edges, the largest float, tanh's switch point. */
const SPECIAL_VALUES = [
  0,
  -0,
  1e4,
  -1e4,
  Infinity,
  -Infinity,
  Number.NaN,
  1e-45,
  -1e-45,
  1e-40,
  -1e-40,
  1.1754942e-38,
  -1.1754942e-38,
  88,
  -88,
  103.9,
  -103.9,
  3.4028235e38,
  -3.4028235e38,
  0.625,
  -0.625,
];

/** Every input the accuracy test runs over (float32). */
function accuracyInputs(): Float32Array {
  const values: number[] = [];
  for (let i = -100 * 1024; i <= 100 * 1024; i++) values.push(i / 1024); // the dense grid, step 2^−10
  for (let x = -104; x <= -80; x += 1 / 256) values.push(x); // sigmoid's subnormal and underflow range
  for (let x = -1; x <= 1; x += 1 / 8192) values.push(x); // tanh's polynomial/exponential switch at ±0.625
  const rng = new Rng(21);
  const bits = new Int32Array(1),
    asFloat = new Float32Array(bits.buffer);
  for (let i = 0; i < 20000; i++) {
    // random bit patterns: every exponent, both signs
    bits[0] = rng.nextUint32() | 0;
    if (Number.isFinite(asFloat[0]!)) values.push(asFloat[0]!);
  }
  values.push(...SPECIAL_VALUES);
  return Float32Array.from(values);
}

/** f(values) on `kernels`, as a fresh array. */
function forward(kernels: Kernels, kind: 'sigmoid' | 'tanh', values: Float32Array): Float32Array {
  const x = kernels.matrix(1, values.length),
    out = kernels.matrix(1, values.length);
  x.data.set(values);
  kernels.activationForward(kind, x, out);
  return Float32Array.from(out.data);
}

test('the wasm backend is available for the fast activation tests (run `npm run build`)', () => {
  assert.ok(wasmBackends.length > 0, 'no wasm build validates here');
});

for (const kernels of wasmBackends) {
  describe(`SIMD sigmoid and tanh on ${kernels.variant}`, () => {
    const inputs = accuracyInputs();

    for (const kind of ['sigmoid', 'tanh'] as const) {
      test(`${kind} is within ${MAX_ULPS} ulp of f64 Math rounded to float32, NaN where it is NaN`, () => {
        const actual = forward(kernels, kind, inputs),
          expected = forward(reference, kind, inputs);
        let worstUlps = 0,
          worstAt = 0;
        for (let i = 0; i < inputs.length; i++) {
          if (Number.isNaN(expected[i]!)) {
            assert.ok(Number.isNaN(actual[i]!), `${kind}(${inputs[i]}) = ${actual[i]}, expected NaN`);
            continue;
          }
          const ulps = Math.abs(ulpIndex(actual[i]!) - ulpIndex(expected[i]!));
          if (ulps > worstUlps) {
            worstUlps = ulps;
            worstAt = i;
          }
        }
        assert.ok(worstUlps <= MAX_ULPS, `${kind}(${inputs[worstAt]}) = ${actual[worstAt]}, reference ${expected[worstAt]}: ${worstUlps} ulp apart`);
      });
    }

    test('every float with |x| in [64, 128) gives the bits of the plain multiply, where sigmoid rounds to subnormals without one', () => {
      // SHA-256 of the outputs over those 2^24 floats (ascending bits, + then −), from the build
      // before sigmoid's subnormal outputs were rounded on normal floats (2026-12-01): the same
      // bits are the claim. The relaxed build's digest holds where its multiply-add fuses.
      const digests: Record<string, { sigmoid: string; tanh: string }> = {
        fused: {
          sigmoid: 'b43050088c4433e046a5c2db92cbdca08300fa19fc89aae436d6a84e213b1218',
          tanh: 'ad21debf20888ad0672b27f03b5ab508fe08ff894db9af80120735fde57e4fca',
        },
        unfused: {
          sigmoid: '6556d732285b4fec9d7edb3ee8d747ac7e03f94e2fabbd53ad1bd8b26d55a4ef',
          tanh: 'ad21debf20888ad0672b27f03b5ab508fe08ff894db9af80120735fde57e4fca',
        },
      };
      const fused = (kernels as WasmKernels).fusedMultiplyAdd;
      if (kernels.variant.includes('relaxed') && !fused) return; // a digest made on FMA hardware
      const chunk = 1 << 22;
      const x = kernels.matrix(1, chunk),
        out = kernels.matrix(1, chunk);
      const bits = new Uint32Array(chunk);
      for (const kind of ['sigmoid', 'tanh'] as const) {
        const hash = createHash('sha256');
        for (const sign of [0, 0x80000000]) {
          for (let start = 0; start < 1 << 23; start += chunk) {
            for (let i = 0; i < chunk; i++) bits[i] = (sign | (133 << 23) | (start + i)) >>> 0; // exponent 133: [64, 128)
            x.data.set(new Float32Array(bits.buffer));
            kernels.activationForward(kind, x, out);
            hash.update(new Uint8Array(Float32Array.from(out.data).buffer));
          }
        }
        assert.equal(hash.digest('hex'), digests[fused ? 'fused' : 'unfused']![kind], kind);
      }
    });

    test('saturation is exact, zeros keep their sign in tanh, NaN gives NaN', () => {
      const x = Float32Array.from([1e4, -1e4, Infinity, -Infinity, 200, -200, 0, -0, Number.NaN, 1e-45, -1e-40]);
      const sigmoid = forward(kernels, 'sigmoid', x),
        tanh = forward(kernels, 'tanh', x);
      assert.deepEqual(Array.from(sigmoid), [1, 0, 1, 0, 1, 0, 0.5, 0.5, Number.NaN, 0.5, 0.5]);
      assert.deepEqual(Array.from(tanh.subarray(0, 6)), [1, -1, 1, -1, 1, -1]);
      assert.ok(Object.is(tanh[6], 0) && Object.is(tanh[7], -0), `tanh(±0) = ${tanh[6]}, ${tanh[7]}`);
      assert.ok(Number.isNaN(tanh[8]!));
      // tanh(x) = x for subnormal x (the odd polynomial's correction underflows).
      assert.deepEqual(Array.from(tanh.subarray(9)), [Math.fround(1e-45), Math.fround(-1e-40)]);
    });

    test('a value gives the same bits in a full vector and in the scalar tail, at any alignment', () => {
      const sample = Float32Array.from([-7.25, -0.3, 0.5, 2.75, -90, 13, 0.01, -0.7]);
      for (const kind of ['sigmoid', 'tanh'] as const) {
        const alone = Array.from(sample, (v) => forward(kernels, kind, Float32Array.of(v))[0]); // all tail
        for (let shift = 0; shift < 4; shift++) {
          for (const length of [shift + sample.length, shift + sample.length + 1, shift + sample.length + 3]) {
            const values = new Float32Array(length).fill(1);
            values.set(sample, shift);
            const out = forward(kernels, kind, values);
            assert.deepEqual(Array.from(out.subarray(shift, shift + sample.length)), alone, `${kind}, shift ${shift}, length ${length}`);
          }
        }
      }
    });
  });
}
