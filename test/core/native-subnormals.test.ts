/**
 * @file The native checks and scalings around the rescaled products (native/subnormals.c:
 * hasSubnormal, rescalable, scaleByPowerOfTwo) give the wasm kernels' results (assembly/
 * subnormals.ts), run side by side on one wasm memory: the same answers, and the same bits after
 * scaling, for every class of float at its edges (±0, the smallest and largest subnormals, 2^−126,
 * 2^−102 and 2^104 and their neighbours, ∞, NaN) at every count from 1 to 40 (whole vectors of
 * 16 and the tails after them) and at every position of the float that decides. The answers are
 * also checked against their definitions, computed here from the bits; a scaling up and back
 * gives every rescalable float back. A wrong call throws a RangeError and writes nothing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { bitsOf } from '../helpers/float-bits.js';
import { nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

const METHODS = ['hasSubnormal', 'rescalable', 'scaleByPowerOfTwo'] as const;

/** A float from its bits. */
function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

/** Magnitudes' bits at the edges the kernels decide on, each with its sign flipped too. */
const EDGES = [
  0, // ±0
  1, // 2^−149
  0x007fffff, // the largest subnormal
  0x00800000, // 2^−126
  (127 - 102) << 23, // 2^−102: the smallest that scales down by 2^−24 and stays normal
  ((127 - 102) << 23) - 1,
  ((127 + 104) << 23) - 1, // just below 2^104: the largest that scales up by 2^24
  (127 + 104) << 23,
  0x3f800000, // 1
  0x7f7fffff, // the largest finite
  0x7f800000, // ∞
  0x7fc00000, // NaN
  0x7f800001, // a signalling NaN's bits
].flatMap((bits) => [bits, (bits | 0x80000000) >>> 0]);

const magnitude = (bits: number) => bits & 0x7fffffff;
const isSubnormal = (bits: number) => magnitude(bits) !== 0 && magnitude(bits) < 0x00800000;
const scalesUp = (bits: number) => magnitude(bits) < (127 + 104) << 23;
const scalesDown = (bits: number) => magnitude(bits) < 0x7f800000 && (magnitude(bits) === 0 || magnitude(bits) >= (127 - 102) << 23);

describe('native subnormal checks and scalings: the wasm kernels’ results', async () => {
  for (const module of await relaxedSimdModules()) {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const wasm = await instantiateKernelModule(module, memory);
    const at = wasm.heapBase() + 64; // 4-byte aligned, past the module's own data
    // After the floats a call is given, one it must not read or write: a subnormal, or a NaN (neither scales).
    const place = (bits: readonly number[], after = 0x00000001) => new Uint32Array(memory.buffer, at, bits.length + 1).set([...bits, after]);
    const read = (count: number) => [...new Uint32Array(memory.buffer, at, count)];

    test('hasSubnormal and rescalable: the same answers as the wasm kernels and as their definitions, at every count and position', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      let checked = 0;
      for (let count = 1; count <= 40; count++) {
        for (let position = 0; position < count; position++) {
          for (const edge of EDGES) {
            // Ordinary floats (1.5, −3, 0.25 …: every check passes them) with one edge among them.
            const bits = Array.from({ length: count }, (_, i) => bitsOf(((i % 7) - 3) * 0.75 + 0.25));
            bits[position] = edge;
            place(bits);
            const expected = {
              hasSubnormal: bits.some(isSubnormal),
              up: bits.every(scalesUp),
              down: bits.every(scalesDown),
            };
            assert.equal(
              native.hasSubnormal(memory.buffer, at, count) !== 0,
              expected.hasSubnormal,
              `hasSubnormal, ${count} floats, ${edge.toString(16)} at ${position}`,
            );
            assert.equal(wasm.hasSubnormal(at, count) !== 0, expected.hasSubnormal);
            place(bits, 0x7fc00000);
            for (const [up, wanted] of [
              [1, expected.up],
              [0, expected.down],
            ] as const) {
              assert.equal(
                native.rescalable(memory.buffer, at, count, up) !== 0,
                wanted,
                `rescalable(up ${up}), ${count} floats, ${edge.toString(16)} at ${position}`,
              );
              assert.equal(wasm.rescalable(at, count, up) !== 0, wanted);
            }
            checked++;
          }
        }
      }
      assert.equal(checked, 820 * EDGES.length);
    });

    test('scaleByPowerOfTwo: the wasm kernel’s bits, up and down, and every rescalable float given back', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      // Every class the backend scales: subnormals (up), normals near each edge, ±0; and a sweep of exponents' bits.
      const values: number[] = [];
      for (const edge of EDGES) if (magnitude(edge) < 0x7f800000) values.push(edge);
      for (let exponentField = 0; exponentField < 255; exponentField += 3) {
        for (const fraction of [0, 1, 0x2aaaaa, 0x7fffff]) values.push((exponentField << 23) | fraction, ((exponentField << 23) | fraction | 0x80000000) >>> 0);
      }
      for (let count = 1; count <= 40; count++) {
        for (const exponent of [24, -24, 23, -23, 100, -100]) {
          const bits = Array.from({ length: count }, (_, i) => values[(i * 7 + count * 13 + exponent) % values.length]!);
          place(bits);
          wasm.scaleByPowerOfTwo(at, count, exponent);
          const byWasm = read(count + 1);
          place(bits);
          native.scaleByPowerOfTwo(memory.buffer, at, count, exponent);
          assert.deepEqual(read(count + 1), byWasm, `${count} floats times 2^${exponent}, and the float after them left alone`);
        }
      }
      // Up by 2^24 and back, and down and back: exact for the floats rescalable says so of.
      for (const [exponent, check] of [
        [24, scalesUp],
        [-24, scalesDown],
      ] as const) {
        const bits = values.filter(check);
        place(bits);
        native.scaleByPowerOfTwo(memory.buffer, at, bits.length, exponent);
        const scaled = read(bits.length);
        for (let i = 0; i < bits.length; i++) {
          assert.equal(fromBits(scaled[i]!), fromBits(bits[i]!) * 2 ** exponent, `${bits[i]!.toString(16)} times 2^${exponent} exactly`);
        }
        native.scaleByPowerOfTwo(memory.buffer, at, bits.length, -exponent);
        assert.deepEqual(read(bits.length), bits, `times 2^${exponent} and back`);
      }
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const native = nativeOrSkip(t, METHODS);
      if (!native) return;
      const bits = [1, 2, 3, 0x00800000];
      const calls: Array<[string, () => unknown]> = [
        ['a region past the memory', () => native.scaleByPowerOfTwo(memory.buffer, memory.buffer.byteLength - 8, 4, 24)],
        ['a misaligned region', () => native.scaleByPowerOfTwo(memory.buffer, at + 2, 4, 24)],
        ['an exponent below 23', () => native.scaleByPowerOfTwo(memory.buffer, at, 4, 22)],
        ['an exponent above 100', () => native.scaleByPowerOfTwo(memory.buffer, at, 4, -101)],
        ['an exponent not whole', () => native.scaleByPowerOfTwo(memory.buffer, at, 4, 24.5)],
        ['a count that is no u32', () => native.hasSubnormal(memory.buffer, at, -1)],
        ['a region past the memory', () => native.rescalable(memory.buffer, at, memory.buffer.byteLength, 1)],
        ['no memory', () => (native.hasSubnormal as (...args: unknown[]) => number)(new Float32Array(4), at, 4)],
      ];
      for (const [what, call] of calls) {
        place(bits);
        assert.throws(call, RangeError, what);
        assert.deepEqual(read(bits.length), bits, `${what}: nothing written`);
      }
    });
  }
});
