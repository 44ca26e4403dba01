/**
 * @file The native sigmoid (native/sigmoid.c) gives the wasm kernels' bits (assembly/fast-math.ts'
 * sigmoidForward, elementwise.ts' dy·y·(1 − y)), run side by side on one wasm memory: forward over
 * every input class (a sweep of [−130, 130], the band past ±80 where e^(−|x|) goes subnormal and
 * the kernels round without subnormal operations, the edge at n = −126, ±0, subnormal inputs, ±∞,
 * NaNs with their payloads and signs, the largest floats), at every count from 1 to 40 (whole
 * 8- and 16-lane vectors and the tails after them), in place and not, and with each region ending
 * at the memory's end (a tail read or written past it faults); backward over y from the forward's
 * outputs and subnormal, 1, ±0, ∞ and NaN against dy of every size, subnormal ones among them (the
 * native backward pass computes such vectors on floats scaled by 2^64 and rounds them to the
 * subnormal grid: its floor, shift and count each off by a power of two, or products rounding to 0
 * from a wrong bound, fail this). The wasm kernels themselves are
 * measured against float64 Math in fast-activations.test.ts. The backend runs them in place of the
 * wasm kernels for the sigmoid (and only there: counted); a wrong call throws a RangeError and writes nothing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Matrix } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { ACTIVATION_CODES, instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { nativeBackendPair, nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

const METHODS = ['sigmoidForward', 'sigmoidBackward'] as const;

function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

/** Inputs of every class the forward pass treats apart, as float32 bits. */
function forwardInputs(rng: Rng): Uint32Array {
  const values: number[] = [];
  for (let i = 0; i < 20000; i++) values.push(-130 + 260 * rng.uniform()); // the whole range, both signs
  for (let i = 0; i < 20000; i++) values.push(-(80 + 25 * rng.uniform())); // e^x subnormal (and the band at n = −126)
  for (let x = 86; x <= 88.8; x += 0.001) values.push(-x); // n = −126 ± 1: e^x near 2^−126
  for (let i = 0; i < 2000; i++) values.push((rng.uniform() - 0.5) * 2 ** -(rng.int(60) + 10)); // tiny
  values.push(0, -0, Infinity, -Infinity, 1e30, -1e30, 3.4028234663852886e38, -3.4028234663852886e38, -103.97, -103.98, -111.9, -112, -113, 80, -80);
  const bits = new Uint32Array(new Float32Array(values).buffer);
  const specials = [0x7fc00000, 0xffc00000, 0x7fc01234, 0xffa00001, 0x7f800001, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000];
  return Uint32Array.from([...bits, ...specials]);
}

describe('native sigmoid: the bits of the relaxed-SIMD kernels', async () => {
  for (const module of await relaxedSimdModules()) {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const wasm = await instantiateKernelModule(module, memory);
    const base = wasm.heapBase() + 64;
    const words = (at: number, count: number) => new Uint32Array(memory.buffer, at, count);

    test('forward: every input class, every count from 1 to 40, in place and not', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const inputs = forwardInputs(new Rng(21));
      const count = inputs.length;
      const x = base,
        outNative = x + (count + 16) * 4,
        outWasm = outNative + (count + 16) * 4;
      words(x, count).set(inputs);
      words(outNative, count + 1).fill(0x12345678);
      words(outWasm, count + 1).fill(0x12345678);
      native.sigmoidForward(memory.buffer, x, outNative, count);
      wasm.activationForward(ACTIVATION_CODES.sigmoid, x, outWasm, count);
      const got = [...words(outNative, count + 1)],
        want = [...words(outWasm, count + 1)];
      const differing = got.findIndex((bits, i) => bits !== want[i]);
      assert.equal(
        differing,
        -1,
        differing < 0 ? '' : `sigmoid(${fromBits(inputs[differing]!)}): ${got[differing]!.toString(16)} natively, ${want[differing]!.toString(16)} in wasm`,
      );
      // Outputs of each kind were made: subnormal, 0, 1, NaN.
      const outputs = want.slice(0, count);
      assert.ok(
        outputs.some((bits) => (bits & 0x7fffffff) > 0 && (bits & 0x7fffffff) < 0x00800000),
        'subnormal outputs',
      );
      assert.ok(outputs.includes(0) && outputs.includes(0x3f800000) && outputs.some((bits) => (bits & 0x7fffffff) > 0x7f800000), 'zeros, ones and NaNs');
      // Counts 1-40 at varied starts (tails of every length), and in place.
      for (let n = 1; n <= 40; n++) {
        const start = (n * 37) % (count - 40);
        for (const inPlace of [false, true]) {
          words(x, count).set(inputs);
          const to = (side: number) => (inPlace ? x + start * 4 : side);
          const before = [...words(x + start * 4, n + 1)];
          words(outNative, n + 1).fill(7);
          native.sigmoidForward(memory.buffer, x + start * 4, to(outNative), n);
          const nativeBits = [...words(to(outNative), n + 1)];
          words(x + start * 4, n + 1).set(before);
          words(outWasm, n + 1).fill(7);
          wasm.activationForward(ACTIVATION_CODES.sigmoid, x + start * 4, to(outWasm), n);
          assert.deepStrictEqual(nativeBits, [...words(to(outWasm), n + 1)], `${n} floats from ${start}${inPlace ? ', in place' : ''} (and the word after)`);
        }
      }
    });

    test('backward: dy·y·(1 − y) for y of every class against dy of every size, in place and not', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const rng = new Rng(22);
      const inputs = forwardInputs(rng);
      const count = inputs.length;
      const y = base,
        dy = y + (count + 16) * 4,
        dxNative = dy + (count + 16) * 4,
        dxWasm = dxNative + (count + 16) * 4;
      words(y, count).set(inputs);
      wasm.activationForward(ACTIVATION_CODES.sigmoid, y, y, count); // y as the forward pass leaves it
      const ys = words(y, count);
      for (let i = 0; i < count; i += 97) ys[i] = [0x00000001, 0x007fffff, 0x3f800000, 0, 0x80000000, 0x7f800000, 0x7fc00000][i % 7]!;
      const gradients = new Float32Array(count).map(() => {
        const r = rng.uniform();
        return (
          (rng.uniform() < 0.5 ? -1 : 1) *
          (r < 0.3 ? 2 ** -(rng.int(23) + 127) : r < 0.35 ? [0, Infinity, NaN][rng.int(3)]! : 2 ** (rng.int(80) - 60) * (1 + rng.uniform()))
        );
      });
      for (const inPlace of [false, true]) {
        for (const [dx, run] of [
          [dxNative, (to: number) => native.sigmoidBackward(memory.buffer, y, dy, to, count)],
          [dxWasm, (to: number) => wasm.activationBackward(ACTIVATION_CODES.sigmoid, y, dy, to, count)],
        ] as const) {
          new Float32Array(memory.buffer, dy, count).set(gradients);
          run(inPlace ? dy : dx);
          if (inPlace) words(dx, count).set(words(dy, count));
        }
        const got = [...words(dxNative, count)],
          want = [...words(dxWasm, count)];
        const differing = got.findIndex((bits, i) => bits !== want[i]);
        assert.equal(
          differing,
          -1,
          `${inPlace ? 'in place: ' : ''}element ${differing}: ${got[differing]?.toString(16)} natively, ${want[differing]?.toString(16)} in wasm`,
        );
        assert.ok(
          want.some((bits) => (bits & 0x7fffffff) > 0 && (bits & 0x7fffffff) < 0x00800000),
          'subnormal gradients made',
        );
      }
      for (let n = 1; n <= 40; n++) {
        words(dxNative, n + 1).fill(3);
        words(dxWasm, n + 1).fill(3);
        native.sigmoidBackward(memory.buffer, y + n * 4, dy, dxNative, n);
        wasm.activationBackward(ACTIVATION_CODES.sigmoid, y + n * 4, dy, dxWasm, n);
        assert.deepStrictEqual([...words(dxNative, n + 1)], [...words(dxWasm, n + 1)], `${n} floats (and the word after)`);
      }
    });

    test("regions ending at the memory's end: every count from 1 to 24, each region last in turn and in place", (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      // The memory ends at its last float (a read or write past a region there faults), so every
      // tail (a masked 8- or 16-lane vector) is read and written only where it lies.
      const end = memory.buffer.byteLength;
      const rng = new Rng(24);
      const saturated = [-100.5, 95, -87.3, 3, -0, Number.NaN, -150, 88.7, -0.25, -104, 120, -86.6];
      const x = Float32Array.from({ length: 24 }, (_, i) => saturated[i % saturated.length]! * (1 + rng.uniform() / 8));
      const xAt = base,
        yAt = xAt + 128,
        dyAt = yAt + 128,
        outAt = dyAt + 128;
      new Float32Array(memory.buffer, xAt, 24).set(x);
      wasm.activationForward(ACTIVATION_CODES.sigmoid, xAt, yAt, 24);
      const y = new Float32Array(memory.buffer, yAt, 24).slice();
      // dy subnormal in most lanes (the gradient's subnormal-free path), normal in some.
      const dy = Float32Array.from({ length: 24 }, (_, i) => (i % 2 ? -1 : 1) * (i % 5 === 0 ? 0.75 : 2 ** -(127 + rng.int(22)) * (1 + rng.uniform())));
      assert.ok(y.some((v) => v > 0 && v < 2 ** -126) && dy.some((v) => Math.abs(v) < 2 ** -126), 'subnormal y and dy among the inputs');
      /** Runs `kernel` on inputs placed at `at` (their offsets), its output at `to` (and the word after when inside the memory): the output's bits. */
      const run = (inputs: Float32Array[], at: number[], to: number, n: number, kernel: () => void) => {
        for (const [i, input] of inputs.entries()) new Float32Array(memory.buffer, at[i]!, n).set(input.subarray(0, n));
        const checked = to + n * 4 < end ? n + 1 : n;
        if (!at.includes(to)) words(to, checked).fill(0x12345678);
        kernel();
        return [...words(to, checked)];
      };
      for (let n = 1; n <= 24; n++) {
        const last = end - n * 4;
        for (const [what, from, to] of [
          ['x last', last, outAt],
          ['out last', xAt, last],
          ['in place, last', last, last],
        ] as const) {
          const got = run([x], [from], to, n, () => native.sigmoidForward(memory.buffer, from, to, n));
          const want = run([x], [from], to, n, () => wasm.activationForward(ACTIVATION_CODES.sigmoid, from, to, n));
          assert.deepStrictEqual(got, want, `forward, ${n} floats, ${what}`);
        }
        for (const [what, yFrom, dyFrom, to] of [
          ['y last', last, dyAt, outAt],
          ['dy last', yAt, last, outAt],
          ['dx last', yAt, dyAt, last],
          ['in place, dx = dy last', yAt, last, last],
        ] as const) {
          const got = run([y, dy], [yFrom, dyFrom], to, n, () => native.sigmoidBackward(memory.buffer, yFrom, dyFrom, to, n));
          const want = run([y, dy], [yFrom, dyFrom], to, n, () => wasm.activationBackward(ACTIVATION_CODES.sigmoid, yFrom, dyFrom, to, n));
          assert.deepStrictEqual(got, want, `backward, ${n} floats, ${what}`);
        }
      }
    });

    test('the backend runs them for the sigmoid only, with the same bits', async (t) => {
      const products = nativeOrSkip(t, METHODS);
      if (!products) return;
      const { withNative, wasmOnly, calls } = await nativeBackendPair(module, products, METHODS);
      const inputs = new Float32Array(forwardInputs(new Rng(23)).buffer).slice(0, 60 * 128);
      const results = [withNative, wasmOnly].map((kernels) =>
        (['sigmoid', 'relu', 'tanh'] as const).map((kind) => {
          const x = Matrix.from(60, 128, inputs),
            y = new Matrix(60, 128, new Float32Array(60 * 128)),
            dx = new Matrix(60, 128, new Float32Array(60 * 128));
          kernels.activationForward(kind, x, y);
          kernels.activationBackward(kind, y, x, dx);
          return [...new Uint32Array(y.data.buffer), ...new Uint32Array(dx.data.buffer)];
        }),
      );
      assert.deepStrictEqual(results[0], results[1], 'the same outputs and gradients for sigmoid, ReLU and tanh');
      assert.deepStrictEqual(calls, { sigmoidForward: 1, sigmoidBackward: 1 }, 'the native sigmoid ran, once each way, and for no other activation');
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const outside = memory.buffer.byteLength - 8;
      words(base, 64).fill(0x3f000000);
      const before = [...words(base, 64)];
      for (const [what, call] of [
        ['out outside memory', () => native.sigmoidForward(memory.buffer, base, outside, 16)],
        ['x misaligned', () => native.sigmoidForward(memory.buffer, base + 2, base, 16)],
        ['dx outside memory', () => native.sigmoidBackward(memory.buffer, base, base, outside, 16)],
        ['a count that is no u32', () => native.sigmoidBackward(memory.buffer, base, base, base, -1)],
        ['too few arguments', () => (native.sigmoidForward as (...args: unknown[]) => void)(memory.buffer, base, base)],
      ] as const) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual([...words(base, 64)], before, `${what}: nothing written`);
      }
    });
  }
});
