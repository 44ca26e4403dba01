/**
 * @file Test support: a small MNIST-shaped data set drawn from a seed, sparse like MNIST (most
 * pixels 0), each digit lighting its own band of pixels plus noise, so that a few steps learn
 * something. Different seeds give different data (and content hashes).
 */
import { Rng } from '../../src/core/rng.js';
import type { MnistData, Split } from '../../src/data/mnist.js';

const WIDTH = 784;

export function craftedMnist(seed = 42): MnistData {
  const rng = new Rng(seed);
  const split = (count: number): Split => {
    const pixels = new Uint8Array(count * WIDTH);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = Math.floor(rng.uniform() * 10);
      for (let p = 0; p < WIDTH; p++) {
        const band = Math.floor(p / 78) === labels[i];
        if (band ? rng.uniform() < 0.7 : rng.uniform() < 0.05) pixels[i * WIDTH + p] = Math.floor(rng.uniform() * 256);
      }
    }
    return { pixels, labels, count, width: WIDTH };
  };
  return { train: split(240), validation: split(60), test: split(60), source: `crafted ${seed}` };
}
