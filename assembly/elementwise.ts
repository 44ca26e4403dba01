/**
 * @file The element-wise and per-column kernels: bias add, bias gradient, activations forward and
 * backward, inference-mode scale-and-shift, and the SGD update. Vector loops over 4 floats with a
 * scalar tail; sigmoid and tanh are the SIMD float32 versions of fast-math.ts (within ~2 ulp of the
 * reference's f64 Math).
 */
import { sigmoidForward, tanhForward } from './fast-math';

/** x[i,:] += v[0,:] for every row i of x[m,n]. */
export function addRowVector(x: usize, v: usize, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2;
  for (let i = 0; i < m; i++) {
    const row = x + <usize>i * rowBytes;
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) v128.store(row + j, f32x4.add(v128.load(row + j), v128.load(v + j)));
    for (; j < rowBytes; j += 4) store<f32>(row + j, load<f32>(row + j) + load<f32>(v + j));
  }
}

/** out[0,j] += Σ_i x[i,j] over x[m,n]: 16 columns at a time in registers, then one add into out. */
export function addColumnSums(x: usize, out: usize, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  let j: usize = 0;
  for (; j + 64 <= rowBytes; j += 64) {
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let at = x + j;
    for (let i = 0; i < m; i++) {
      s0 = f32x4.add(s0, v128.load(at)); s1 = f32x4.add(s1, v128.load(at, 16));
      s2 = f32x4.add(s2, v128.load(at, 32)); s3 = f32x4.add(s3, v128.load(at, 48));
      at += rowBytes;
    }
    const o = out + j;
    v128.store(o, f32x4.add(v128.load(o), s0)); v128.store(o, f32x4.add(v128.load(o, 16), s1), 16);
    v128.store(o, f32x4.add(v128.load(o, 32), s2), 32); v128.store(o, f32x4.add(v128.load(o, 48), s3), 48);
  }
  for (; j + 16 <= rowBytes; j += 16) {
    let s0 = f32x4.splat(0);
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) s0 = f32x4.add(s0, v128.load(at));
    v128.store(out + j, f32x4.add(v128.load(out + j), s0));
  }
  for (; j < rowBytes; j += 4) {
    let sum: f32 = 0;
    for (let i = 0, at = x + j; i < m; i++, at += rowBytes) sum += load<f32>(at);
    store<f32>(out + j, load<f32>(out + j) + sum);
  }
}

/** The activation codes shared with the TypeScript side. */
export const RELU = 0, SIGMOID = 1, TANH = 2, IDENTITY = 3;

/** out = f(x) over `count` floats; out may be x. ReLU sends NaN and −0 to +0, as `x > 0 ? x : 0` does. */
export function activationForward(kind: i32, x: usize, out: usize, count: i32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  if (kind == RELU) {
    const zero = f32x4.splat(0);
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      const v = v128.load(x + j);
      v128.store(out + j, v128.and(v, f32x4.gt(v, zero)));
    }
    for (; j < bytes; j += 4) {
      const v = load<f32>(x + j);
      store<f32>(out + j, v > 0 ? v : 0);
    }
  } else if (kind == SIGMOID) {
    sigmoidForward(x, out, count);
  } else if (kind == TANH) {
    tanhForward(x, out, count);
  } else if (out != x) {
    memory.copy(out, x, bytes);
  }
}

/** dx = dy ⊙ f'(x) through y = f(x), over `count` floats; dx may be dy. */
export function activationBackward(kind: i32, y: usize, dy: usize, dx: usize, count: i32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  const one = f32x4.splat(1);
  let j: usize = 0;
  if (kind == RELU) {
    reluBackward(y, dy, dx, count);
  } else if (kind == SIGMOID) { // f' = y(1 − y)
    for (; j < vectorBytes; j += 16) {
      const v = v128.load(y + j);
      v128.store(dx + j, f32x4.mul(f32x4.mul(v128.load(dy + j), v), f32x4.sub(one, v)));
    }
    for (; j < bytes; j += 4) {
      const v = load<f32>(y + j);
      store<f32>(dx + j, load<f32>(dy + j) * v * (1 - v));
    }
  } else if (kind == TANH) { // f' = 1 − y²
    for (; j < vectorBytes; j += 16) {
      const v = v128.load(y + j);
      v128.store(dx + j, f32x4.mul(v128.load(dy + j), f32x4.sub(one, f32x4.mul(v, v))));
    }
    for (; j < bytes; j += 4) {
      const v = load<f32>(y + j);
      store<f32>(dx + j, load<f32>(dy + j) * (1 - v * v));
    }
  } else if (dx != dy) {
    memory.copy(dx, dy, bytes);
  }
}

/**
 * ReLU's backward: dx = dy where y > 0, else +0 (NaN and −0 in y pass nothing), over `count`
 * floats; dx may be dy.
 */
// @ts-ignore: decorator
@inline export function reluBackward(y: usize, dy: usize, dx: usize, count: i32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  const zero = f32x4.splat(0);
  let j: usize = 0;
  for (; j < vectorBytes; j += 16) v128.store(dx + j, v128.and(v128.load(dy + j), f32x4.gt(v128.load(y + j), zero)));
  for (; j < bytes; j += 4) store<f32>(dx + j, load<f32>(y + j) > 0 ? load<f32>(dy + j) : 0);
}

/** y[i,j] = x[i,j]·scale[j] + shift[j] over x[m,n]; y may be x. */
export function scaleShiftColumns(x: usize, scale: usize, shift: usize, y: usize, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2, vectorBytes = <usize>(n & ~3) << 2;
  for (let i = 0; i < m; i++) {
    const offset = <usize>i * rowBytes;
    let j: usize = 0;
    for (; j < vectorBytes; j += 16) {
      v128.store(y + offset + j, f32x4.add(f32x4.mul(v128.load(x + offset + j), v128.load(scale + j)), v128.load(shift + j)));
    }
    for (; j < rowBytes; j += 4) store<f32>(y + offset + j, load<f32>(x + offset + j) * load<f32>(scale + j) + load<f32>(shift + j));
  }
}

/** param −= learningRate·grad over `count` floats. */
export function sgdStep(param: usize, grad: usize, count: i32, learningRate: f32): void {
  const bytes = <usize>count << 2, vectorBytes = <usize>(count & ~3) << 2;
  const rate = f32x4.splat(learningRate);
  let j: usize = 0;
  for (; j < vectorBytes; j += 16) v128.store(param + j, f32x4.sub(v128.load(param + j), f32x4.mul(rate, v128.load(grad + j))));
  for (; j < bytes; j += 4) store<f32>(param + j, load<f32>(param + j) - learningRate * load<f32>(grad + j));
}
