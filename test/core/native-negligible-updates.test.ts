/**
 * @file The native search for negligible weight updates and the moves of their block
 * (native/negligible-updates.c) give the wasm kernels' results (assembly/negligible-updates.ts),
 * run side by side on one wasm memory: keptUpdates the same row and column lists and counts, and
 * the same words after them, for weights at the test's edges (2^−60 and just below, subnormals, ±0,
 * ∞, NaN) and bounds set exactly at, above and below the weights' side of the test; checked also
 * against the test written out here with Math.fround. columnSums, sparseColumnSums and
 * columnMaxima the same floats (bits; a NaN maximum NaN on both). gatherColumns, gatherBlock,
 * scatterColumns and scatterBlock the same memory, words before and after included, for lists in
 * increasing order (the compress and expand path: empty, one column, every column, widths 1-40,
 * 128, 784) and lists that repeat or go back (one float at a time, in the wasm kernel's order), and
 * regions that overlap. The 256-bit kernels' edges too (widths around multiples of 8, lists kept at
 * the ends of rows), with each region in turn ending at the memory's end, where a vector read or
 * written past it faults. A wrong call (a list naming a column past its row, a region outside the
 * memory, an entry past k) throws a RangeError and writes nothing. The backend's use of them is
 * covered where the rescaled products are (native-rescaled.test.ts: the same bits with and
 * without the native code, updates left out on gathered blocks).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { instantiateKernelModule } from '../../src/core/wasm/kernel-module.js';
import { type NativeKernels, NEGLIGIBLE_UPDATE_KERNELS } from '../../src/core/wasm/native-products.js';
import { layOutRegions, nativeOrSkip, relaxedSimdModules } from '../helpers/native-backends.js';

const TWO_TO_MINUS_60 = 2 ** -60;
const LIMIT = 2 ** 20;

/** Floats of many sizes and both signs: ordinary, tiny, subnormal, ±0, and now and then ∞ or NaN. */
function variedFloats(rng: Rng, count: number, specials = true): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = rng.uniform();
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    if (specials && r < 0.02) out[i] = [Infinity, -Infinity, NaN, 0, -0][rng.int(5)]!;
    else if (r < 0.1)
      out[i] = sign * 2 ** -(130 + rng.int(19)); // subnormal
    else if (r < 0.2)
      out[i] = sign * TWO_TO_MINUS_60 * (r < 0.15 ? 1 : 1 - 2 ** -24); // the test's edge
    else if (r < 0.25) out[i] = 0;
    else out[i] = sign * 2 ** (rng.int(60) - 40) * (1 + rng.uniform());
  }
  return out;
}

/** The test of negligible-updates.ts written out: which columns and rows are kept, padded to whole tiles of 4. */
function keptByDefinition(
  sums: Float32Array,
  maxima: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  scale: number,
  unscale: number,
): { rows: number[]; cols: number[] } {
  const f = Math.fround;
  if (!(Math.abs(f(scale)) <= LIMIT) || m > LIMIT) return { rows: [...Array(k).keys()], cols: [...Array(n).keys()] };
  const factor = f(1 / (2 ** 27 * Math.abs(f(scale)) * unscale));
  const colKept = new Array<boolean>(n).fill(false);
  const rows: number[] = [];
  for (let i = 0; i < k; i++) {
    let any = false;
    for (let j = 0; j < n; j++) {
      const old = Math.abs(c[i * n + j]!);
      const negligible = f(sums[i]! * maxima[j]!) < f(old * factor) && old >= TWO_TO_MINUS_60 && old < Infinity;
      if (!negligible) {
        colKept[j] = true;
        any = true;
      }
    }
    if (any) rows.push(i);
  }
  let flagged = colKept.filter(Boolean).length;
  for (let j = 0; flagged % 4 !== 0 && j < n; j++) {
    if (!colKept[j]) {
      colKept[j] = true;
      flagged++;
    }
  }
  return { rows, cols: colKept.flatMap((kept, j) => (kept ? [j] : [])) };
}

/** A kernel call by name, made natively or in wasm. */
type Move = [string, (useNative: boolean) => void];

/** A strictly increasing list of about `fraction` of `cols` columns. */
function increasingList(rng: Rng, cols: number, fraction: number): number[] {
  return [...Array(cols).keys()].filter(() => rng.uniform() < fraction);
}

describe('native negligible-update search and block moves: the wasm kernels’ results', async () => {
  for (const module of await relaxedSimdModules()) {
    const memory = new WebAssembly.Memory({ initial: 256 });
    const wasm = await instantiateKernelModule(module, memory);
    /** The four moves between src's wide rows and the packed block at out, each natively or in wasm. */
    const moves = (
      native: NativeKernels,
      r: { src: number; out: number; rows: number; cols: number; listAt: number; count: number; rowListAt: number },
    ): Move[] => [
      [
        'gatherColumns',
        (n) =>
          n
            ? native.gatherColumns(memory.buffer, r.src, r.rows, r.cols, r.listAt, r.count, r.out)
            : wasm.gatherColumns(r.src, r.rows, r.cols, r.listAt, r.count, r.out),
      ],
      [
        'scatterColumns',
        (n) =>
          n
            ? native.scatterColumns(memory.buffer, r.out, r.rows, r.count, r.src, r.cols, r.listAt)
            : wasm.scatterColumns(r.out, r.rows, r.count, r.src, r.cols, r.listAt),
      ],
      [
        'gatherBlock',
        (n) =>
          n
            ? native.gatherBlock(memory.buffer, r.src, r.cols, r.rowListAt, r.rows, r.listAt, r.count, r.out)
            : wasm.gatherBlock(r.src, r.cols, r.rowListAt, r.rows, r.listAt, r.count, r.out),
      ],
      [
        'scatterBlock',
        (n) =>
          n
            ? native.scatterBlock(memory.buffer, r.out, r.src, r.cols, r.rowListAt, r.rows, r.listAt, r.count)
            : wasm.scatterBlock(r.out, r.src, r.cols, r.rowListAt, r.rows, r.listAt, r.count),
      ],
    ];
    const base = wasm.heapBase() + 64;
    const bytes = () => new Uint8Array(memory.buffer);
    const layout = <const S extends readonly number[]>(sizes: S) => layOutRegions(base, sizes);
    /** Runs `call` once natively and once in wasm on the same starting memory (from `from`, base unless given, to end) and returns both memories' bytes. */
    const bothWays = (end: number, call: (native: boolean) => void, from = base): [Uint8Array, Uint8Array] => {
      const start = bytes().slice(from, end);
      call(true);
      const afterNative = bytes().slice(from, end);
      bytes().set(start, from);
      call(false);
      const afterWasm = bytes().slice(from, end);
      return [afterNative, afterWasm];
    };
    const noise = (rng: Rng, end: number, from = base) => {
      const words = new Uint32Array(memory.buffer, from, (end - from) / 4);
      for (let i = 0; i < words.length; i++) words[i] = Math.floor(rng.uniform() * 2 ** 32);
    };
    /** Fresh noise in the wide rows and the block before each move (after a gather, scattering the block back would change nothing, and a float left unwritten would go unseen). */
    const freshRows = (rng: Rng, regions: ReadonlyArray<readonly [number, number]>) => {
      for (const [at, floats] of regions) noise(rng, at + floats * 4, at);
    };
    /**
     * Regions of `sizes` floats laid out as `layout` lays them out, but near the memory's end, the
     * last ending exactly there (a vector read or written past it faults), and where the first starts.
     */
    const layoutAtEnd = (sizes: readonly number[]) => {
      const memoryEnd = memory.buffer.byteLength;
      const last = memoryEnd - sizes.at(-1)! * 4;
      const start = (last - layOutRegions(0, sizes.slice(0, -1)).end) & ~63;
      return { offsets: [...layOutRegions(start, sizes.slice(0, -1)).offsets, last], start, end: memoryEnd };
    };

    test('keptUpdates: the same lists, counts and words after them as the wasm kernel, and as the test written out', (t) => {
      const native = nativeOrSkip(t, NEGLIGIBLE_UPDATE_KERNELS);
      if (!native) return;
      const rng = new Rng(15);
      let kept = 0,
        left = 0,
        padded = 0;
      const shapes = [
        [60, 1, 1],
        [60, 3, 5],
        [60, 17, 16],
        [60, 40, 17],
        [60, 128, 128],
        [60, 784, 128],
        [2, 9, 130],
        [60, 128, 10],
        [60, 5, 33],
        [60, 6, 8], // n at the 256-bit kernel's edges: one whole vector; a 16-column chunk and one; a chunk, one and a masked 7; two chunks, one and a masked 7
        [60, 5, 24],
        [60, 4, 31],
        [60, 2, 47],
      ] as const;
      for (const [m, k, n] of shapes) {
        for (const [scale, unscaleA, unscaleB] of [
          [-0.01, 1, 1],
          [-2, 1, 2 ** -24],
          [-0.01, 2 ** -24, 2 ** -24],
          [0, 1, 1],
          [3e6, 1, 1], // past the limit: everything kept
          [NaN, 1, 1],
        ] as const) {
          const unscale = unscaleA * unscaleB;
          for (const mm of k === 3 ? [m, LIMIT + 1] : [m]) {
            const { offsets, end } = layout([k, n, k * n, k, n, 2]);
            const [sums, maxima, c, keptRows, keptCols, counts] = offsets;
            noise(rng, end);
            const cValues = variedFloats(rng, k * n);
            const sumValues = variedFloats(rng, k, false).map(Math.abs);
            const factor = Math.fround(1 / (2 ** 27 * Math.abs(Math.fround(scale)) * unscale));
            // Maxima that put some elements exactly at the test's edge: sums·max = |old|·factor, and a step either side.
            const maximaValues = Float32Array.from({ length: n }, (_, j) => {
              const i = rng.int(k);
              const edge = Math.fround((Math.abs(cValues[i * n + j]!) * factor) / (sumValues[i]! || 1));
              const r = rng.uniform();
              return r < 0.3 ? edge : r < 0.6 ? Math.fround(edge * (1 - 2 ** -23)) : r < 0.95 ? Math.abs(variedFloats(rng, 1, false)[0]!) : NaN;
            });
            new Float32Array(memory.buffer, sums, k).set(sumValues);
            new Float32Array(memory.buffer, maxima, n).set(maximaValues);
            new Float32Array(memory.buffer, c, k * n).set(cValues);
            const [afterNative, afterWasm] = bothWays(end, (useNative) => {
              const args = [sums, maxima, c, mm, k, n, scale, unscaleA, unscaleB, keptRows, keptCols, counts] as const;
              if (useNative) native.keptUpdates(memory.buffer, ...args);
              else wasm.keptUpdates(...args);
            });
            const label = `${mm}×${k}×${n}, scale ${scale}, unscale ${unscaleA}·${unscaleB}`;
            assert.deepStrictEqual(afterNative, afterWasm, `${label}: the same memory`);
            const words = new Uint32Array(memory.buffer);
            const [rowCount, colCount] = [words[counts / 4]!, words[counts / 4 + 1]!];
            const expected = keptByDefinition(sumValues, maximaValues, cValues, mm, k, n, scale, unscale);
            assert.deepStrictEqual([...words.subarray(keptRows / 4, keptRows / 4 + rowCount)], expected.rows, `${label}: rows`);
            assert.deepStrictEqual([...words.subarray(keptCols / 4, keptCols / 4 + colCount)], expected.cols, `${label}: columns`);
            kept += colCount;
            left += n - colCount;
            if (colCount % 4 === 0 && colCount < n && colCount > 0) padded++;
          }
        }
      }
      assert.ok(kept > 0 && left > 0 && padded > 0, `columns kept (${kept}), left out (${left}), padded to a tile (${padded} cases)`);
    });

    test('columnSums, sparseColumnSums and columnMaxima: the same floats', (t) => {
      const native = nativeOrSkip(t, NEGLIGIBLE_UPDATE_KERNELS);
      if (!native) return;
      const rng = new Rng(16);
      for (const [m, k] of [
        [60, 128],
        [60, 784],
        [2, 1],
        [7, 17],
        [60, 33],
        [1, 40],
      ] as const) {
        const { offsets, end } = layout([m * k, k, m * k, m * k]);
        const [a, sums, indices, values] = offsets;
        noise(rng, end);
        new Float32Array(memory.buffer, a, m * k).set(variedFloats(rng, m * k));
        let [afterNative, afterWasm] = bothWays(end, (useNative) =>
          useNative ? native.columnSums(memory.buffer, a, m, k, sums) : wasm.columnSums(a, m, k, sums),
        );
        assert.deepStrictEqual(afterNative, afterWasm, `columnSums ${m}×${k}`);
        [afterNative, afterWasm] = bothWays(end, (useNative) =>
          useNative ? native.columnMaxima(memory.buffer, a, m, k, sums) : wasm.columnMaxima(a, m, k, sums),
        );
        const maximaOf = (after: Uint8Array) =>
          [...new Float32Array(after.slice(sums - base, sums - base + k * 4).buffer)].map((x) => (Number.isNaN(x) ? 'NaN' : x));
        assert.deepStrictEqual(maximaOf(afterNative), maximaOf(afterWasm), `columnMaxima ${m}×${k}: the same maxima (NaN where a NaN was)`);
        assert.ok(maximaOf(afterWasm).includes('NaN') || m * k < 100, 'a NaN maximum among them');
        // sparse: the nonzeros of m rows in row order
        const entries = Math.floor(m * k * 0.2);
        const columns = Uint32Array.from({ length: entries }, () => rng.int(k));
        new Uint32Array(memory.buffer, indices, entries).set(columns);
        new Float32Array(memory.buffer, values, entries).set(variedFloats(rng, entries));
        [afterNative, afterWasm] = bothWays(end, (useNative) =>
          useNative ? native.sparseColumnSums(memory.buffer, indices, values, entries, k, sums) : wasm.sparseColumnSums(indices, values, entries, k, sums),
        );
        const sumsOf = (after: Uint8Array) =>
          [...new Float32Array(after.slice(sums - base, sums - base + k * 4).buffer)].map((x) => (Number.isNaN(x) ? 'NaN' : x));
        assert.deepStrictEqual(sumsOf(afterNative), sumsOf(afterWasm), `sparseColumnSums ${m}×${k}`);
      }
    });

    test('gatherColumns, gatherBlock, scatterColumns, scatterBlock: the same memory, for increasing lists and others, and regions that overlap', (t) => {
      const native = nativeOrSkip(t, NEGLIGIBLE_UPDATE_KERNELS);
      if (!native) return;
      const rng = new Rng(17);
      let cases = 0;
      const widths = [...Array.from({ length: 40 }, (_, i) => i + 1), 128, 784];
      for (const cols of widths) {
        const rows = cols > 100 ? 3 : 1 + (cols % 4);
        const lists = [
          [],
          [cols - 1],
          [...Array(cols).keys()],
          increasingList(rng, cols, 0.5),
          increasingList(rng, cols, 0.9),
          Array.from({ length: Math.min(cols, 6) }, () => rng.int(cols)), // repeats, out of order
          [...Array(cols).keys()].reverse(),
        ];
        for (const list of lists) {
          const count = list.length;
          const rowList = Array.from({ length: rows }, () => rng.int(rows));
          const { offsets, end } = layout([rows * cols, rows * Math.max(count, 1), Math.max(count, 1), rows]);
          const [src, out, listAt, rowListAt] = offsets;
          noise(rng, end);
          new Uint32Array(memory.buffer, listAt, count).set(list);
          new Uint32Array(memory.buffer, rowListAt, rows).set(rowList);
          const calls: Move[] = [
            ...moves(native, { src, out, rows, cols, listAt, count, rowListAt }),
            // out overlapping src (a row later): one float at a time on both
            [
              'gatherColumns overlapping',
              (n) =>
                n ? native.gatherColumns(memory.buffer, src, rows, cols, listAt, count, src + 4) : wasm.gatherColumns(src, rows, cols, listAt, count, src + 4),
            ],
          ];
          for (const [name, call] of calls) {
            freshRows(rng, [
              [src, rows * cols],
              [out, rows * count],
            ]);
            const [afterNative, afterWasm] = bothWays(end, call);
            assert.deepStrictEqual(afterNative, afterWasm, `${name}: ${rows} rows of ${cols}, ${count} columns listed (${list.slice(0, 5).join(', ')}…)`);
            cases++;
          }
        }
      }
      // A gather scattered back gives the rows as they were.
      const { offsets, end } = layout([3 * 784, 3 * 784, 784]);
      const [src, out, listAt] = offsets;
      noise(rng, end);
      const list = increasingList(rng, 784, 0.6);
      new Uint32Array(memory.buffer, listAt, list.length).set(list);
      const before = bytes().slice(src, src + 3 * 784 * 4);
      native.gatherColumns(memory.buffer, src, 3, 784, listAt, list.length, out);
      const rowsOfSrc = new Float32Array(memory.buffer, src, 3 * 784);
      for (let r = 0; r < 3; r++) for (const j of list) rowsOfSrc[r * 784 + j] = 0;
      native.scatterColumns(memory.buffer, out, 3, list.length, src, 784, listAt);
      assert.deepStrictEqual(bytes().slice(src, src + 3 * 784 * 4), before, 'gathered and scattered back: the same bits');
      assert.ok(cases >= 42 * 7 * 5, `${cases} cases`);
    });

    test('at the 8-column edges and the end of the memory: the same memory as the wasm kernels, nothing read or written past a region', (t) => {
      const native = nativeOrSkip(t, NEGLIGIBLE_UPDATE_KERNELS);
      if (!native) return;
      const rng = new Rng(19);
      let cases = 0;
      const widths = [...Array.from({ length: 17 }, (_, i) => i + 1), 23, 24, 25, 31, 32, 33, 39, 40, 47, 63, 64, 65, 130];
      for (const cols of widths) {
        const rows = 2 + (cols % 2);
        const lists = [[...Array(cols).keys()], increasingList(rng, cols, 0.5), increasingList(rng, cols, 0.1), [...Array(cols).keys()].slice(-3), [cols - 1]];
        for (const list of lists) {
          const count = list.length;
          const rowList = [rows - 1, ...Array.from({ length: rows - 1 }, () => rng.int(rows))]; // the last row among them
          // The wide rows at the memory's end, then the packed block.
          for (const wideLast of [true, false]) {
            const sizes = wideLast ? [rows * Math.max(count, 1), count, rows, rows * cols] : [rows * cols, count, rows, rows * count];
            const { offsets, start, end } = layoutAtEnd(sizes);
            const [src, listAt, rowListAt, out] = wideLast ? [offsets[3]!, offsets[1]!, offsets[2]!, offsets[0]!] : offsets;
            noise(rng, end, start);
            new Uint32Array(memory.buffer, listAt, count).set(list);
            new Uint32Array(memory.buffer, rowListAt, rows).set(rowList);
            const calls = moves(native, { src, out, rows, cols, listAt, count, rowListAt });
            for (const [name, call] of calls) {
              freshRows(rng, [
                [src, rows * cols],
                [out, rows * count],
              ]);
              const [afterNative, afterWasm] = bothWays(end, call, start);
              const where = wideLast ? 'the wide rows' : 'the block';
              assert.deepStrictEqual(
                afterNative,
                afterWasm,
                `${name}, ${where} at the end: ${rows} rows of ${cols}, ${count} columns listed (${list.slice(0, 5).join(', ')}…)`,
              );
              cases++;
            }
          }
        }
        // The sums and maxima of `cols` columns: the matrix at the end, then the sums.
        for (const m of [1, 7]) {
          for (const matrixLast of [true, false]) {
            const { offsets, start, end } = layoutAtEnd(matrixLast ? [cols, m * cols] : [m * cols, cols]);
            const [a, sums] = matrixLast ? [offsets[1]!, offsets[0]!] : offsets;
            noise(rng, end, start);
            new Float32Array(memory.buffer, a, m * cols).set(variedFloats(rng, m * cols));
            for (const name of ['columnSums', 'columnMaxima'] as const) {
              const [afterNative, afterWasm] = bothWays(end, (n) => (n ? native[name](memory.buffer, a, m, cols, sums) : wasm[name](a, m, cols, sums)), start);
              assert.deepStrictEqual(afterNative, afterWasm, `${name} ${m}×${cols}, ${matrixLast ? 'the matrix' : 'the sums'} at the end`);
              cases++;
            }
          }
        }
        // The test on c[k, cols] at the end (each row's last vector masked where cols is no multiple of 8).
        const k = 5;
        const { offsets, start, end } = layoutAtEnd([k, cols, k, cols, 2, k * cols]);
        const [sums, maxima, keptRows, keptCols, counts, c] = offsets;
        noise(rng, end, start);
        new Float32Array(memory.buffer, sums, k).set(variedFloats(rng, k, false).map(Math.abs));
        new Float32Array(memory.buffer, maxima, cols).set(variedFloats(rng, cols, false).map((x) => Math.abs(x) * 2 ** -40));
        new Float32Array(memory.buffer, c, k * cols).set(variedFloats(rng, k * cols));
        const [afterNative, afterWasm] = bothWays(
          end,
          (useNative) => {
            const args = [sums, maxima, c, 60, k, cols, -0.01, 1, 1, keptRows, keptCols, counts] as const;
            if (useNative) native.keptUpdates(memory.buffer, ...args);
            else wasm.keptUpdates(...args);
          },
          start,
        );
        assert.deepStrictEqual(afterNative, afterWasm, `keptUpdates ${k}×${cols}, c at the end`);
        cases++;
      }
      assert.ok(cases >= 30 * (5 * 2 * 4 + 2 * 2 * 2 + 1), `${cases} cases`);
    });

    test('a wrong call throws a RangeError and writes nothing', (t) => {
      const native = nativeOrSkip(t, NEGLIGIBLE_UPDATE_KERNELS);
      if (!native) return;
      const { offsets, end } = layout([4 * 16, 4 * 16, 16, 4, 16]);
      const [src, out, listAt, rowListAt, sums] = offsets;
      noise(new Rng(18), end);
      new Uint32Array(memory.buffer, listAt, 3).set([1, 5, 16]); // 16 is past a row of 16
      new Uint32Array(memory.buffer, rowListAt, 2).set([0, 3]);
      const outside = memory.buffer.byteLength - 8;
      const before = bytes().slice(base, end);
      const wrong: Array<[string, () => void]> = [
        ['a list past the row', () => native.gatherColumns(memory.buffer, src, 4, 16, listAt, 3, out)],
        ['a list past the row', () => native.scatterColumns(memory.buffer, out, 4, 3, src, 16, listAt)],
        ['a list past the row', () => native.gatherBlock(memory.buffer, src, 16, rowListAt, 2, listAt, 3, out)],
        ['a list past the row', () => native.scatterBlock(memory.buffer, out, src, 16, rowListAt, 2, listAt, 3)],
        ['src outside memory', () => native.gatherColumns(memory.buffer, outside, 4, 16, listAt, 2, out)],
        ['a listed row outside memory', () => native.gatherBlock(memory.buffer, outside - 64, 16, rowListAt, 2, listAt, 2, out)],
        ['an entry past k', () => native.sparseColumnSums(memory.buffer, listAt, src, 3, 16, sums)],
        ['maxima outside memory', () => native.columnMaxima(memory.buffer, src, 4, 16, outside)],
        ['sums misaligned', () => native.columnSums(memory.buffer, src, 4, 16, sums + 2)],
        ['kept lists outside memory', () => native.keptUpdates(memory.buffer, sums, sums, src, 60, 4, 16, -0.01, 1, 1, outside, listAt, rowListAt)],
        ['a count that is no u32', () => native.gatherColumns(memory.buffer, src, -1, 16, listAt, 2, out)],
      ];
      for (const [what, call] of wrong) {
        assert.throws(call, RangeError, what);
        assert.deepStrictEqual(bytes().slice(base, end), before, `${what}: nothing written`);
      }
    });
  }
});
