/**
 * @file Whether this CPU multiplies subnormal floats slowly, measured once per process: the one
 * fact that decides whether the wasm backend rescales subnormal factors (wasm-kernels.ts'
 * `scaleAwaySubnormals`). An Intel core takes every vector operation with a subnormal operand or
 * result in a microcode assist (about a hundred cycles); there, the rescaling made the saturated
 * sigmoid networks 1.6-2.1× faster. An AMD Zen core does that arithmetic at full speed; there, the
 * rescaling's scans, scalings and rescaled kernels only cost: on a Zen 3 EPYC they made models 6
 * and 8 without BN 2.8-3.2× slower. Either way the product has the same bits, so the choice
 * changes a run's speed, never its numbers. docs/performance.md, "Subnormals rescaled only where
 * they are slow".
 */

/**
 * A product with subnormal operands this many times slower than the same product on normal ones
 * counts as slow. Measured: about 1× on AMD Zen 3 (per-product minima); an assist per vector
 * operation makes it tens of times slower on Intel.
 */
export const SLOW_SUBNORMALS = 2;

/** Each timing window, long enough to dwarf a browser's coarsened clock (100 µs steps without cross-origin isolation). */
const WINDOW_MS = 1;

/** Rounds of the two timings; the least time of each is kept (a pause only ever adds time). */
const ROUNDS = 3;

/**
 * How many times slower `multiply(true)` (a product of subnormal floats) runs than
 * `multiply(false)` (the same product of normal ones), from the least time per product over
 * ROUNDS alternating rounds. A subnormal run stops once it has taken SLOW_SUBNORMALS times the
 * normal one (its ratio is then above SLOW_SUBNORMALS, and reported as at least what it reached),
 * so the whole measurement takes about 10 ms at most. `now` is the clock (milliseconds).
 */
export function measureSubnormalSlowdown(multiply: (subnormal: boolean) => void, now: () => number = () => performance.now()): number {
  // Runs up to `count` products, or fewer once `limitMs` has passed; reads the clock after each, in both runs alike.
  const run = (subnormal: boolean, count: number, limitMs: number) => {
    const started = now();
    let done = 0,
      elapsed = 0;
    while (done < count && elapsed < limitMs) {
      multiply(subnormal);
      done++;
      elapsed = now() - started;
    }
    return { done, elapsed };
  };
  let repetitions = Number.POSITIVE_INFINITY; // the first round finds how many products fill a window
  let normalMs = Number.POSITIVE_INFINITY,
    subnormalMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const normal = run(false, repetitions, round === 0 ? WINDOW_MS : Number.POSITIVE_INFINITY);
    repetitions = normal.done;
    normalMs = Math.min(normalMs, normal.elapsed / normal.done);
    const subnormal = run(true, repetitions, normal.elapsed * SLOW_SUBNORMALS);
    subnormalMs = Math.min(subnormalMs, subnormal.elapsed / Math.max(subnormal.done, 1));
  }
  return subnormalMs / normalMs;
}

let measured: number | undefined;

/** measureSubnormalSlowdown's ratio for this process, measured by the first caller's `measure` and kept: the CPU does not change. */
export function subnormalSlowdown(measure: () => number): number {
  measured ??= measure();
  return measured;
}
