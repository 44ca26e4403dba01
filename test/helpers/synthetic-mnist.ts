/**
 * @file A small MNIST-shaped task for training tests on the reference backend: easy to learn, fast
 * to train, the same bytes for a seed everywhere.
 */
import { Rng } from '../../src/core/rng.js';
import type { MnistData, Split } from '../../src/data/mnist.js';

const WIDTH = 784;

/** `count` images whose label c lights pixels [78c, 78c + 78) (bytes 128..255) plus a little noise. */
export function syntheticSplit(count: number, seed: number): Split {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * WIDTH); // [count, 784]
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    for (let p = 0; p < 78; p++) pixels[i * WIDTH + label * 78 + p] = 128 + rng.int(128);
    for (let n = 0; n < 20; n++) pixels[i * WIDTH + rng.int(WIDTH)] = rng.int(256);
  }
  return { pixels, labels, count, width: WIDTH };
}

/** 600 training, 100 validation and 100 test images of the synthetic task. */
export function syntheticMnist(): MnistData {
  return { train: syntheticSplit(600, 1), validation: syntheticSplit(100, 2), test: syntheticSplit(100, 3), source: 'synthetic' };
}
