/**
 * @file Benchmark of the data path (issue 15; `node dist/bench/data-path.js [--rounds R] [--no-pin]`):
 * a training step with BN (model 1) fed two ways, in alternating rounds of 500 steps on one pinned
 * CPU, each in its own backend:
 *   - copied: the earlier draw, each row's bytes copied from the split into wasm memory
 *     (`Batcher.next`), then `bytesToFloats`;
 *   - gathered: `BatchFeeder`, the batch's indices and one `gatherBytesToFloats` from the split
 *     kept in the backend's memory;
 * then the validation pass (`net.evaluate` over 5,000 images, batches of 1,000) read the earlier
 * way (the split's bytes copied in at each call, each batch's labels copied into an Array) and as
 * the trainer reads it now (the backend's copy of the validation bytes, label views). Medians of
 * the rounds and of each round's ratio; the step in process CPU time (other processes taking the
 * CPU do not inflate it), the draw alone in wall time. It is a benchmark, not a test.
 */

import type { Kernels } from '../src/core/kernels.js';
import { BatchFeeder } from '../src/data/batch-feeder.js';
import { type MnistData, PIXEL_SCALE, splitExamples } from '../src/data/mnist.js';
import { residentPixels } from '../src/data/resident-pixels.js';
import type { ExampleSource } from '../src/nn/example-source.js';
import type { MLP } from '../src/nn/mlp.js';
import { Sgd } from '../src/nn/sgd.js';
import { loadMnist } from '../src/node/mnist-files.js';
import { enableRelaxedSimd, loadKernels } from '../src/node/wasm-files.js';
import { pinToOneCpu } from './pin-cpu.js';
import { BATCH_SIZE, benchBatcher, buildBenchNetwork, LEARNING_RATE, median, stopwatch } from './workload.js';

const STEPS_PER_ROUND = 500;
type Draw = 'copied' | 'gathered';

interface Trainer {
  net: MLP;
  draw(): void;
  step(): void;
}

function trainer(kernels: Kernels, data: MnistData, draw: Draw): Trainer {
  const net = buildBenchNetwork(kernels, 'withBn');
  const optimizer = new Sgd(kernels, LEARNING_RATE);
  const x = net.inputFor(BATCH_SIZE),
    labels = new Uint8Array(BATCH_SIZE);
  let next: () => void;
  if (draw === 'copied') {
    const batcher = benchBatcher(data.train),
      bytes = kernels.byteBuffer(BATCH_SIZE * data.train.width);
    next = () => {
      batcher.next(bytes.data, labels);
      kernels.bytesToFloats(bytes.data, PIXEL_SCALE, x);
    };
  } else {
    const feeder = new BatchFeeder(kernels, data.train, BATCH_SIZE, { shuffle: true, seed: 1 });
    next = () => feeder.next(x, labels);
  }
  return { net, draw: next, step: () => net.trainStep(x, labels, optimizer) };
}

/** The earlier validation source: the split's own bytes, and labels in an Array (evaluate copied them per batch). */
function earlierValidation(data: MnistData): ExampleSource {
  const examples = splitExamples(data.validation);
  return { count: examples.count, labels: Array.from(examples.labels), copyRows: examples.copyRows };
}

function ratios(values: number[], against: number[]): number {
  return median(values.map((value, i) => value / against[i]!));
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 21;
  enableRelaxedSimd();
  const pinned = process.argv.includes('--no-pin') ? { reason: '--no-pin' } : pinToOneCpu();
  const data = await loadMnist();
  const trainers: Record<Draw, Trainer> = {
    copied: trainer(await loadKernels('wasm'), data, 'copied'),
    gathered: trainer(await loadKernels('wasm'), data, 'gathered'),
  };
  const stepCpu: Record<Draw, number[]> = { copied: [], gathered: [] },
    drawWall: Record<Draw, number[]> = { copied: [], gathered: [] };
  for (let round = 0; round <= rounds; round++) {
    for (const draw of (round % 2 ? ['copied', 'gathered'] : ['gathered', 'copied']) as Draw[]) {
      const { draw: next, step } = trainers[draw];
      let drawMs = 0;
      const elapsed = stopwatch();
      for (let s = 0; s < STEPS_PER_ROUND; s++) {
        const started = performance.now();
        next();
        drawMs += performance.now() - started;
        step();
      }
      if (round === 0) continue; // warm-up
      stepCpu[draw].push((elapsed().cpuMs / STEPS_PER_ROUND) * 1000);
      drawWall[draw].push((drawMs / STEPS_PER_ROUND) * 1000);
    }
  }
  const net = trainers.gathered.net;
  const sources: Record<'earlier' | 'now', ExampleSource> = {
    earlier: earlierValidation(data),
    now: splitExamples(data.validation, residentPixels(net.kernels, data.validation.pixels)),
  };
  const evaluateCpu: Record<keyof typeof sources, number[]> = { earlier: [], now: [] };
  for (let round = 0; round <= rounds; round++) {
    for (const way of (round % 2 ? ['earlier', 'now'] : ['now', 'earlier']) as Array<keyof typeof sources>) {
      const elapsed = stopwatch();
      net.evaluate(sources[way], 1000);
      if (round > 0) evaluateCpu[way].push(elapsed().cpuMs);
    }
  }
  const same = JSON.stringify(net.evaluate(sources.earlier, 1000)) === JSON.stringify(net.evaluate(sources.now, 1000));
  console.log(`${net.kernels.variant}; ${'cpu' in pinned ? `pinned to CPU ${pinned.cpu}` : `not pinned (${pinned.reason})`}; ${rounds} rounds`);
  for (const draw of ['copied', 'gathered'] as Draw[]) {
    console.log(
      `${draw.padEnd(9)} draw ${median(drawWall[draw]).toFixed(1).padStart(6)} µs (wall)  step ${median(stepCpu[draw]).toFixed(1).padStart(6)} µs (CPU), ${(1e6 / median(stepCpu[draw])).toFixed(0)} steps/s`,
    );
  }
  console.log(
    `gathered / copied, median of the rounds' ratios: draw ${ratios(drawWall.gathered, drawWall.copied).toFixed(3)}×, step ${ratios(stepCpu.gathered, stepCpu.copied).toFixed(3)}×`,
  );
  console.log(
    `validation pass (CPU): earlier ${median(evaluateCpu.earlier).toFixed(2)} ms, now ${median(evaluateCpu.now).toFixed(2)} ms, ratio ${ratios(evaluateCpu.now, evaluateCpu.earlier).toFixed(3)}×; the same evaluation: ${same}`,
  );
}

await main();
