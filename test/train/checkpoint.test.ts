// biome-ignore-all lint/suspicious/noExplicitAny: these tests edit raw safetensors headers as free-form JSON, on purpose (malformed files)
/**
 * @file Checkpoints: a trained network (with BN, after real SGD steps) survives a save/load into a
 * fresh backend bit for bit, for every estimator; the bytes are a safetensors file by two
 * independent readers (the header parsed by hand here, and scripts/read_checkpoint.py in Python
 * with struct and, where installed, torch.frombuffer); every kind of damage the loader promises to
 * catch is a CheckpointError naming the file, and so is every truncation and a fuzz of header bytes.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JsKernels } from '../../src/core/js-kernels.js';
import type { FloatArray } from '../../src/core/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { drawInitialWeights, MLP } from '../../src/nn/mlp.js';
import { Sgd } from '../../src/nn/sgd.js';
import { type BatchNormOptions, type Estimator, makeSpec } from '../../src/nn/spec.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { backendsUnderTest } from '../helpers/backends.js';

const inputSize = 6,
  hiddenSizes = [5, 4],
  outputSize = 3,
  batch = 8;
const SOURCE = 'runs/model-under-test.safetensors';

/** A small net trained `steps` SGD steps on random data, so every tensor and statistic has moved from its initial value. */
function trainedNet(batchNorm: boolean | Partial<BatchNormOptions>, steps = 5, hiddenBias?: boolean): MLP {
  const kernels = new JsKernels();
  const rng = new Rng(7);
  const spec = makeSpec({ inputSize, hiddenSizes, outputSize, batchNorm, ...(hiddenBias === undefined ? {} : { hiddenBias }) });
  const net = new MLP(kernels, spec, drawInitialWeights(spec, 0.5, rng));
  const optimizer = new Sgd(kernels, 0.1);
  for (let step = 0; step < steps; step++) {
    const x = net.inputFor(batch);
    rng.fillNormal(x.data, 1);
    const labels = Array.from({ length: batch }, () => rng.int(outputSize));
    net.trainStep(x, labels, optimizer);
  }
  return net;
}

/** The tensors the network lists for a checkpoint, by name. */
function layoutOf(net: MLP): Map<string, { dtype: string; shape: number[] }> {
  return new Map(net.checkpointTensors().map(({ name, dtype, shape }) => [name, { dtype, shape }]));
}

/** Every tensor a checkpoint holds, by name, as the network holds it (for bitwise comparison). */
function stateOf(net: MLP): Map<string, FloatArray | number> {
  const state = new Map<string, FloatArray | number>();
  for (const { name, value } of net.parameters()) state.set(name, value.data);
  net.norms.forEach((norm, i) => {
    if (!norm) return;
    state.set(`bn.${i}.moving_mean`, norm.movingMean.data);
    state.set(`bn.${i}.moving_variance`, norm.movingVariance.data);
    state.set(`bn.${i}.batch_mean_sum`, norm.batchMeanSum);
    state.set(`bn.${i}.batch_variance_sum`, norm.batchVarianceSum);
    state.set(`bn.${i}.unbiased_variance_sum`, norm.unbiasedVarianceSum);
    state.set(`bn.${i}.averaged_batches`, norm.averagedBatches);
  });
  return state;
}

function bits(value: FloatArray | number): Uint8Array | number {
  return typeof value === 'number' ? value : new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
}

function assertSameState(restored: MLP, original: MLP): void {
  const want = stateOf(original),
    got = stateOf(restored);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, value] of want) {
    assert.equal(got.get(name)!.constructor, value.constructor, `${name}: element type`);
    assert.deepEqual(bits(got.get(name)!), bits(value), `${name}: bits`);
  }
}

/** Inference-mode logits for a fixed random batch, as bytes. */
function inferenceBits(net: MLP, seed: number, rows = 10): Uint8Array {
  const x = net.inputFor(rows);
  new Rng(seed).fillNormal(x.data, 1);
  const logits = net.forward(x, 'infer');
  return bits(logits.data) as Uint8Array;
}

/** The header of a safetensors file, read by hand: length, JSON, and where the data starts. */
function readHeader(bytes: Uint8Array): { header: Record<string, any>; dataStart: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerBytes))) as Record<string, any>;
  return { header, dataStart: 8 + headerBytes };
}

/** A copy of `bytes` whose header went through `edit`; the data bytes are kept as they were. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const { header, dataStart } = readHeader(bytes);
  edit(header);
  return withRawHeader(bytes, new TextEncoder().encode(JSON.stringify(header)), dataStart);
}

function withRawHeader(bytes: Uint8Array, json: Uint8Array, dataStart = readHeader(bytes).dataStart): Uint8Array {
  const data = bytes.subarray(dataStart);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function withMetadata(bytes: Uint8Array, edit: (metadata: Record<string, string>) => void): Uint8Array {
  return withHeader(bytes, (header) => edit(header.__metadata__));
}

function assertRefused(bytes: Uint8Array, pattern: RegExp, expected?: Parameters<typeof decodeCheckpoint>[3]): CheckpointError {
  let caught: unknown;
  try {
    decodeCheckpoint(bytes, new JsKernels(), SOURCE, expected);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof CheckpointError,
    `expected a CheckpointError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`,
  );
  assert.ok(caught.message.includes(SOURCE), `the message names the file: ${caught.message}`);
  assert.match(caught.message, pattern);
  return caught;
}

describe('checkpoint round trip', () => {
  const cases: Array<{ label: string; batchNorm: boolean | Partial<BatchNormOptions>; hiddenBias?: boolean }> = [
    { label: 'without BN (hidden biases)', batchNorm: false },
    { label: 'with BN, ema estimator', batchNorm: { estimator: 'ema' } },
    { label: 'with BN, average estimator (unbiased)', batchNorm: { estimator: 'average', unbiased: true } },
    { label: 'with BN, average estimator (biased)', batchNorm: { estimator: 'average', unbiased: false } },
    { label: 'with BN, batch estimator', batchNorm: { estimator: 'batch' } },
    { label: 'with BN, no gamma or beta, hidden biases', batchNorm: { scale: false, center: false }, hiddenBias: true },
  ];
  for (const { label, batchNorm, hiddenBias } of cases) {
    test(`${label}: every tensor and the inference outputs are identical bit for bit`, () => {
      checkRoundTrip(trainedNet(batchNorm, 5, hiddenBias));
    });
  }

  function checkRoundTrip(net: MLP): void {
    const bytes = encodeCheckpoint(net, { steps: '5', seed: '7' }, '0.1.0');
    const { net: restored, metadata } = decodeCheckpoint(bytes, new JsKernels(), SOURCE);
    assert.deepEqual(restored.spec, net.spec);
    assertSameState(restored, net);
    if (net.norms[0]) assert.ok(net.norms[0].averagedBatches > 0, 'the statistics moved');
    assert.deepEqual(inferenceBits(restored, 99), inferenceBits(net, 99));
    assert.equal(metadata.steps, '5');
    assert.equal(metadata.seed, '7');
    assert.equal(metadata['bnlab.version'], '0.1.0');
    assert.equal(metadata['bnlab.format'], '1');
    // Encoding is deterministic: the restored network writes the same bytes.
    assert.deepEqual(encodeCheckpoint(restored, { steps: '5', seed: '7' }, '0.1.0'), bytes);
  }

  test('a restored network keeps training exactly as the original would', () => {
    const net = trainedNet({ estimator: 'average' }, 3);
    const restored = decodeCheckpoint(encodeCheckpoint(net), new JsKernels(), SOURCE).net;
    for (const model of [net, restored]) {
      const stepRng = new Rng(1234);
      const optimizer = new Sgd(model.kernels, 0.1);
      for (let step = 0; step < 3; step++) {
        const x = model.inputFor(batch);
        stepRng.fillNormal(x.data, 1);
        model.trainStep(
          x,
          Array.from({ length: batch }, () => stepRng.int(outputSize)),
          optimizer,
        );
      }
    }
    assertSameState(restored, net);
    assert.equal(restored.norms[0]!.averagedBatches, 6);
  });

  test('the estimator in the spec comes back, and changing it after loading changes the outputs', () => {
    const net = trainedNet({ estimator: 'average' });
    const restored = decodeCheckpoint(encodeCheckpoint(net), new JsKernels(), SOURCE).net;
    assert.equal(restored.inferenceStatistics?.estimator satisfies Estimator | undefined, 'average');
    const averageBits = inferenceBits(restored, 5);
    restored.useInferenceStatistics({ estimator: 'ema' });
    assert.notDeepEqual(inferenceBits(restored, 5), averageBits);
    // The network saves what it now infers with (once saved with the estimator it had before).
    const saved = decodeCheckpoint(encodeCheckpoint(restored), new JsKernels(), SOURCE).net;
    assert.equal(saved.spec.batchNorm?.estimator, 'ema');
    assert.deepEqual(inferenceBits(saved, 5), inferenceBits(restored, 5));
  });

  test('a checkpoint loads bit for bit into every backend under test (the tensors land in its own memory)', async () => {
    const net = trainedNet({ estimator: 'average' });
    const bytes = encodeCheckpoint(net);
    for (const kernels of await backendsUnderTest()) {
      const restored = decodeCheckpoint(bytes, kernels, SOURCE).net;
      assertSameState(restored, net);
      assert.deepEqual(encodeCheckpoint(restored), bytes, `${kernels.variant}: the restored network writes the same bytes`);
    }
  });

  test('extra metadata may not use the reserved bnlab. prefix', () => {
    const net = trainedNet(false, 1);
    assert.throws(() => encodeCheckpoint(net, { 'bnlab.spec': '{}' }), /reserved/);
  });
});

describe('checkpoint bytes are a safetensors file', () => {
  test('the header parsed by hand: contiguous aligned offsets, every tensor the little-endian bytes of the network', () => {
    const net = trainedNet({ estimator: 'average' });
    const bytes = encodeCheckpoint(net, { steps: '5' }, '9.9.9');
    const { header, dataStart } = readHeader(bytes);
    assert.equal(dataStart % 8, 0, 'the header is padded to a multiple of 8');
    const metadata = header.__metadata__ as Record<string, string>;
    const {
      norm: _norm,
      exampleNorm: _exampleNorm,
      renorm: _renorm,
      ghost: _ghost,
      placement: _placement,
      weightNorm: _weightNorm,
      ...formatOneSpec
    } = net.spec;
    assert.deepEqual(JSON.parse(metadata['bnlab.spec']!), formatOneSpec, "a BN network's spec as format 1 wrote it (its batchNorm says the norm)");
    assert.equal(metadata['bnlab.format'], '1');
    assert.equal(metadata['bnlab.version'], '9.9.9');

    const layout = layoutOf(net);
    const names = Object.keys(header).filter((name) => name !== '__metadata__');
    assert.deepEqual(names.sort(), [...layout.keys()].sort());
    const state = stateOf(net);
    const entries = names
      .map((name) => ({ name, ...(header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] }) }))
      .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
    let end = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart);
    for (const {
      name,
      dtype,
      shape,
      data_offsets: [begin, stop],
    } of entries) {
      assert.equal(begin, end, `${name} starts where the previous tensor ended`);
      const width = { F32: 4, F64: 8, I64: 8 }[dtype as 'F32' | 'F64' | 'I64'];
      assert.ok(width, `${name}: dtype ${dtype}`);
      assert.equal(begin % width, 0, `${name} is aligned to its element size`);
      assert.equal(stop - begin, shape.reduce((a, b) => a * b, 1) * width, `${name}: byte size = dtype × shape`);
      assert.deepEqual(shape, layout.get(name)!.shape);
      const expected = state.get(name)!;
      if (dtype === 'I64') {
        assert.equal(view.getBigInt64(begin, true), BigInt(expected as number));
      } else {
        const values = expected as FloatArray;
        for (let i = 0; i < values.length; i++) {
          const read = dtype === 'F32' ? view.getFloat32(begin + 4 * i, true) : view.getFloat64(begin + 8 * i, true);
          assert.ok(Object.is(read, values[i]), `${name}[${i}]: ${read} vs ${values[i]}`);
        }
      }
      end = stop;
    }
    assert.equal(dataStart + end, bytes.length, 'the tensors fill the data to the end of the file');
  });

  const scriptPath = fileURLToPath(new URL('../../../scripts/read_checkpoint.py', import.meta.url));

  type PythonRead = { tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>; metadata: Record<string, string> };

  /** The script's JSON from the first interpreter that has what `reader` needs; null when none does. */
  function runReader(path: string, reader: 'struct' | 'torch'): PythonRead | null {
    for (const python of ['python3', '/usr/bin/python3']) {
      const run = spawnSync(python, [scriptPath, path, '--json', '--values', '--reader', reader], { encoding: 'utf8', timeout: 120_000 });
      if (run.error || /No module named 'torch'/.test(run.stderr)) continue; // this interpreter is missing, or lacks torch
      assert.equal(run.status, 0, `${python} ${reader} reader failed: ${run.stderr}`);
      return JSON.parse(run.stdout) as PythonRead;
    }
    return null;
  }

  /** Returns false when no interpreter could run the reader. */
  function checkAgainstPython(reader: 'struct' | 'torch'): boolean {
    const net = trainedNet({ estimator: 'average' });
    const folder = mkdtempSync(join(tmpdir(), 'bnlab-checkpoint-'));
    try {
      const path = join(folder, 'model.safetensors');
      writeFileSync(path, encodeCheckpoint(net, { steps: '5' }, '0.1.0'));
      const read = runReader(path, reader);
      if (!read) return false;
      assert.equal(read.metadata['bnlab.format'], '1');
      assert.equal(read.metadata.steps, '5');
      const state = stateOf(net);
      const layout = layoutOf(net);
      assert.deepEqual(Object.keys(read.tensors).sort(), [...layout.keys()].sort());
      for (const [name, tensor] of Object.entries(read.tensors)) {
        assert.equal(tensor.dtype, layout.get(name)!.dtype, `${name}: dtype`);
        assert.deepEqual(tensor.shape, layout.get(name)!.shape, `${name}: shape`);
        const expected = state.get(name)!;
        // Python prints each value's shortest round-trip decimal, so parsing it gives the same double.
        assert.deepEqual(tensor.values, typeof expected === 'number' ? [expected] : Array.from(expected), `${name}: values`);
      }
      return true;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  test('scripts/read_checkpoint.py reads every name, shape and value with json + struct', (t) => {
    if (!checkAgainstPython('struct')) t.skip('python3 is not installed');
  });

  test('scripts/read_checkpoint.py reads every value with torch.frombuffer', (t) => {
    if (!checkAgainstPython('torch')) t.skip('no python3 with torch here');
  });
});

describe('damaged checkpoints are refused with a CheckpointError that names the file', () => {
  const net = trainedNet({ estimator: 'average' }, 2);
  const good = encodeCheckpoint(net, { steps: '2' }, '0.1.0');

  test('the unharmed file loads (the baseline the damage is measured against)', () => {
    assert.doesNotThrow(() => decodeCheckpoint(good, new JsKernels(), SOURCE));
  });

  test('shorter than the 8-byte header length', () => {
    assertRefused(new Uint8Array(5), /shorter than the 8-byte header length/);
  });

  test('a header length beyond the end of the file', () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    assertRefused(bytes, /header claims \d+ bytes/);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    assertRefused(bytes, /header claims/);
  });

  test('header JSON that does not parse', () => {
    assertRefused(withRawHeader(good, new TextEncoder().encode('{"dense.0.weight": {')), /not valid JSON/);
    assertRefused(withRawHeader(good, new TextEncoder().encode('[1, 2]')), /does not start with "\{"/);
    assertRefused(withRawHeader(good, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/);
  });

  test('a tensor whose offsets fall outside the data', () => {
    const bytes = withHeader(good, (header) => {
      const last = Object.values(header)
        .filter((entry: any) => entry.data_offsets)
        .sort((a: any, b: any) => b.data_offsets[1] - a.data_offsets[1])[0];
      last.data_offsets = [last.data_offsets[0] + 8, last.data_offsets[1] + 8];
    });
    assertRefused(bytes, /data must have no gaps|ends at byte|truncated/);
    // The data cut short of the last tensor's end.
    assertRefused(good.subarray(0, good.length - 4), /ends at byte \d+ of the data, but the file holds only/);
  });

  test('a byte size that disagrees with dtype × shape', () => {
    assertRefused(
      withHeader(good, (header) => {
        header['dense.0.weight'].dtype = 'F64';
      }),
      /spans \d+ bytes, but F64 with shape \[6, 5\] needs \d+/,
    );
    assertRefused(
      withHeader(good, (header) => {
        header['dense.0.weight'].shape = [6, 4];
      }),
      /spans 120 bytes, but F32 with shape \[6, 4\] needs 96/,
    );
  });

  test('overlapping tensors and unknown dtypes break the format', () => {
    assertRefused(
      withHeader(good, (header) => {
        header['dense.1.weight'].data_offsets = header['dense.0.weight'].data_offsets;
      }),
      /overlap|gaps/,
    );
    assertRefused(
      withHeader(good, (header) => {
        header['dense.0.weight'].dtype = 'F33';
      }),
      /unknown dtype "F33"/,
    );
    assertRefused(
      withHeader(good, (header) => {
        header.__metadata__.steps = 2;
      }),
      /metadata values must be strings/,
    );
  });

  test('a missing tensor, and a tensor the spec does not have', () => {
    // Dropping a tensor's entry and its bytes keeps the file valid safetensors; only the spec can tell.
    const dropped = dropTensor(good, 'bn.1.beta');
    assertRefused(dropped, /lacks tensor "bn\.1\.beta", which a 6-5-4-3 network needs/);
    const extra = withHeader(good, (header) => {
      header['bn.2.gamma'] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
    });
    assertRefused(extra, /holds a tensor "bn\.2\.gamma" that a 6-5-4-3 network does not have/);
  });

  test('a tensor of the wrong shape for the spec', () => {
    const bytes = withHeader(good, (header) => {
      header['dense.0.weight'].shape = [5, 6];
    });
    assertRefused(bytes, /"dense\.0\.weight" as F32 \[5, 6\], but a 6-5-4-3 network needs F32 \[6, 5\]/);
    // The spec says 6-5-4-3 but a checkpoint of different widths sits in the file.
    const respecified = withMetadata(good, (metadata) => {
      metadata['bnlab.spec'] = JSON.stringify({ ...net.spec, hiddenSizes: [5, 3] });
    });
    assertRefused(respecified, /6-5-3-3 network needs/);
  });

  test('a 784-128-10 checkpoint where 784-64-10 is expected names both shapes', () => {
    const spec = makeSpec({ hiddenSizes: [128], batchNorm: true });
    const wide = new MLP(new JsKernels(), spec, drawInitialWeights(spec, 0.1, new Rng(1)));
    const bytes = encodeCheckpoint(wide);
    const error = assertRefused(bytes, /holds a 784-128-10 network, but a 784-64-10 network is expected/, {
      inputSize: 784,
      hiddenSizes: [64],
      outputSize: 10,
    });
    assert.match(error.message, /change the layer sizes to 784-128-10/);
    assert.doesNotThrow(() => decodeCheckpoint(bytes, new JsKernels(), SOURCE, spec));
  });

  test('a missing or unparseable bnlab.spec', () => {
    assertRefused(
      withMetadata(good, (metadata) => {
        delete metadata['bnlab.spec'];
      }),
      /has no network spec/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.spec'] = '{"inputSize": 6,';
      }),
      /not valid JSON/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.spec'] = JSON.stringify({ ...net.spec, activation: 'gelu' });
      }),
      /"activation" is "gelu"/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.spec'] = JSON.stringify({ ...net.spec, batchNorm: { ...net.spec.batchNorm, eps: 0 } });
      }),
      /eps must be positive/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.spec'] = '[]';
      }),
      /not a JSON object/,
    );
  });

  test('a format version it does not know, or none', () => {
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.format'] = '4';
      }),
      /format "4", but this bnlab reads only formats "1", "2" and "3"/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.format'] = '3';
      }),
      /"norm" is undefined, not one of none, bn, brn, ghost, ln, gn, rms, wn/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        metadata['bnlab.format'] = '2';
      }),
      /"norm" is undefined, not one of none, bn, brn, ghost, ln, gn, rms/,
    );
    assertRefused(
      withMetadata(good, (metadata) => {
        delete metadata['bnlab.format'];
      }),
      /not a bnlab checkpoint/,
    );
    assertRefused(
      withHeader(good, (header) => {
        delete header.__metadata__;
      }),
      /not a bnlab checkpoint/,
    );
  });

  test('a negative averaged-batch count', () => {
    const bytes = good.slice();
    const { header, dataStart } = readHeader(bytes);
    new DataView(bytes.buffer).setBigInt64(dataStart + header['bn.0.averaged_batches'].data_offsets[0], -1n, true);
    assertRefused(bytes, /averaged -1 batches/);
  });

  test('every truncation of a valid file is refused, never a crash or a RangeError', () => {
    for (let length = 0; length < good.length; length++) assertRefused(good.subarray(0, length), /./);
  });

  test('random damage to header bytes either still loads or is a CheckpointError', () => {
    const { dataStart } = readHeader(good);
    const rng = new Rng(2024);
    let refused = 0;
    for (let trial = 0; trial < 400; trial++) {
      const bytes = good.slice();
      for (let flips = 1 + rng.int(3); flips > 0; flips--) bytes[rng.int(dataStart)] = rng.int(256);
      try {
        decodeCheckpoint(bytes, new JsKernels(), SOURCE);
      } catch (error) {
        assert.ok(error instanceof CheckpointError, `trial ${trial}: ${(error as Error).name}: ${(error as Error).message}`);
        assert.ok(error.message.includes(SOURCE));
        refused++;
      }
    }
    assert.ok(refused > 300, `most header damage is caught (${refused} of 400)`);
  });
});

/** A valid safetensors file without `name`: its entry and its bytes removed, later offsets shifted. */
function dropTensor(bytes: Uint8Array, name: string): Uint8Array {
  const { header, dataStart } = readHeader(bytes);
  const [begin, end] = header[name].data_offsets as [number, number];
  const removed = end - begin;
  delete header[name];
  for (const entry of Object.values(header) as any[]) {
    if (entry.data_offsets && entry.data_offsets[0] >= end) entry.data_offsets = [entry.data_offsets[0] - removed, entry.data_offsets[1] - removed];
  }
  const data = bytes.subarray(dataStart);
  const kept = new Uint8Array(data.length - removed);
  kept.set(data.subarray(0, begin), 0);
  kept.set(data.subarray(end), begin);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + kept.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(kept, 8 + json.length);
  return out;
}
