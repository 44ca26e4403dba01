"""@file The benchmark's workload in PyTorch on one thread: the article's network 784-128-128-128-10
with ReLU (nn.Linear without bias under BN, BatchNorm1d with eps 1e-3 and momentum 0.01, which is
1 - bnlab's decay 0.99), batch 60, SGD lr 0.01, mean cross-entropy. Reads the MNIST IDX files itself
from the folder it is given and splits them as TensorFlow does (validation = the first 5,000 training
images). Batches are pre-made tensors, so the data pipeline is not measured. Prints one JSON record,
or with --serve answers run/evaluate commands on stdin so a caller can alternate its runs with ours.

Usage: python3 torch_mlp.py --data-dir DIR [--weights FILE] [--warmup N] [--runs N] [--steps N]
       [--eval-repeats N] [--seed N] [--serve]
"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LAYER_SIZES = [784, 128, 128, 128, 10]
BATCH_SIZE = 60
LEARNING_RATE = 0.01
INIT_STD = 0.05
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # PyTorch's momentum is 1 - the decay 0.99 of bnlab and TensorFlow
VALIDATION_SIZE = 5000
DISTINCT_BATCHES = 100  # PREMADE_BATCHES in bench/workload.ts
EVAL_BATCH_SIZE = 1000


def read_idx(data_dir, name):
    """The elements of an unsigned-byte IDX file (plain or .gz), as a uint8 array shaped by its header."""
    path = os.path.join(data_dir, name)
    if os.path.exists(path):
        with open(path, 'rb') as f:
            raw = f.read()
    elif os.path.exists(path + '.gz'):
        with gzip.open(path + '.gz', 'rb') as f:
            raw = f.read()
    else:
        raise SystemExit(f'{path} not found: give --data-dir a folder with the four MNIST IDX files')
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f'{path} is not an unsigned-byte IDX file')
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_split(data_dir):
    images = read_idx(data_dir, 'train-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255.0
    labels = read_idx(data_dir, 'train-labels-idx1-ubyte').astype(np.int64)
    validation = (torch.from_numpy(images[:VALIDATION_SIZE].copy()), torch.from_numpy(labels[:VALIDATION_SIZE].copy()))
    train = (torch.from_numpy(images[VALIDATION_SIZE:].copy()), torch.from_numpy(labels[VALIDATION_SIZE:].copy()))
    return train, validation


def build_model(batch_norm, initial_weights):
    layers = []
    for i in range(len(LAYER_SIZES) - 1):
        is_output = i == len(LAYER_SIZES) - 2
        linear = nn.Linear(LAYER_SIZES[i], LAYER_SIZES[i + 1], bias=is_output or not batch_norm)
        with torch.no_grad():
            linear.weight.copy_(initial_weights[i].t())  # bnlab stores [in, out]; nn.Linear holds [out, in]
            if linear.bias is not None:
                linear.bias.zero_()
        layers.append(linear)
        if not is_output:
            if batch_norm:
                layers.append(nn.BatchNorm1d(LAYER_SIZES[i + 1], eps=BN_EPS, momentum=BN_MOMENTUM))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def initial_weights_from(path, seed):
    """The [in, out] matrices from a raw little-endian float32 file (bnlab's), or N(0, 0.05^2) draws."""
    shapes = [(LAYER_SIZES[i], LAYER_SIZES[i + 1]) for i in range(len(LAYER_SIZES) - 1)]
    if path:
        flat = np.fromfile(path, dtype='<f4')
        expected = sum(a * b for a, b in shapes)
        if flat.size != expected:
            raise SystemExit(f'{path} holds {flat.size} floats, the network needs {expected}')
        out, offset = [], 0
        for a, b in shapes:
            out.append(torch.from_numpy(flat[offset:offset + a * b].reshape(a, b).copy()))
            offset += a * b
        return out
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(a, b, generator=generator) * INIT_STD for a, b in shapes]


def make_batches(train, seed):
    images, labels = train
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(images.shape[0], generator=generator)
    batches = []
    for b in range(DISTINCT_BATCHES):
        index = order[b * BATCH_SIZE:(b + 1) * BATCH_SIZE]
        batches.append((images[index].contiguous(), labels[index].contiguous()))
    return batches


class Trainer:
    """One network of the workload with its optimizer, trained stretch by stretch on the pre-made batches."""

    def __init__(self, batch_norm, batches, initial_weights):
        self.model = build_model(batch_norm, initial_weights)
        self.model.train()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.batches = batches
        self.position = 0

    def run(self, steps):
        """Trains `steps` steps; returns wall and process CPU milliseconds and the last loss."""
        self.model.train()
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = None
        for _ in range(steps):
            x, y = self.batches[self.position]
            self.position = (self.position + 1) % len(self.batches)
            self.optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.optimizer.step()
        wall_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000  # all threads of the process
        return {'steps': steps, 'wallMs': wall_ms, 'cpuMs': cpu_ms, 'lastLoss': loss.item() if loss is not None else float('nan')}


def time_training(batch_norm, batches, initial_weights, warmup, runs, steps):
    trainer = Trainer(batch_norm, batches, initial_weights)
    trainer.run(warmup)
    results = [trainer.run(steps) for _ in range(runs)]
    record = {
        'stepsPerSecond': statistics.median(steps / r['wallMs'] * 1000 for r in results),
        'runStepsPerSecond': [steps / r['wallMs'] * 1000 for r in results],
        'cpuStepsPerSecond': statistics.median(steps / r['cpuMs'] * 1000 for r in results),
        'plan': {'warmupSteps': warmup, 'runs': runs, 'stepsPerRun': steps},
        'lastLoss': results[-1]['lastLoss'] if results else float('nan'),
    }
    return record, trainer.model


def serve(batches, initial_weights, validation):
    """Answers one JSON line per command line on stdin, so the caller can alternate its own runs with ours:
    `run withoutBn|withBn STEPS`, `evaluate REPEATS` (the BN network). Ends at end of input."""
    trainers = {}
    print(json.dumps(describe()), flush=True)
    for line in iter(input_line, None):
        words = line.split()
        if not words:
            continue
        if words[0] == 'run' and len(words) == 3 and words[1] in ('withoutBn', 'withBn'):
            trainer = trainers.get(words[1])
            if trainer is None:
                trainer = trainers[words[1]] = Trainer(words[1] == 'withBn', batches, initial_weights)
            print(json.dumps(trainer.run(int(words[2]))), flush=True)
        elif words[0] == 'evaluate' and len(words) == 2 and 'withBn' in trainers:
            print(json.dumps(time_evaluation(trainers['withBn'].model, validation, int(words[1]))), flush=True)
        else:
            print(json.dumps({'error': f'unknown command: {line.strip()}'}), flush=True)


def input_line():
    try:
        return input()
    except EOFError:
        return None


def describe():
    return {'version': torch.__version__, 'threads': torch.get_num_threads(), 'blas': loaded_blas()}


def time_evaluation(model, validation, repeats):
    images, labels = validation
    model.eval()

    def evaluate():
        correct = 0
        with torch.no_grad():
            for start in range(0, images.shape[0], EVAL_BATCH_SIZE):
                logits = model(images[start:start + EVAL_BATCH_SIZE])
                F.cross_entropy(logits, labels[start:start + EVAL_BATCH_SIZE])
                correct += int((logits.argmax(dim=1) == labels[start:start + EVAL_BATCH_SIZE]).sum())
        return correct / images.shape[0]

    accuracy = evaluate()
    elapsed_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        accuracy = evaluate()
        elapsed_ms.append((time.perf_counter() - started) * 1000)
    return {'medianMs': statistics.median(elapsed_ms), 'images': int(images.shape[0]), 'accuracy': accuracy}


def loaded_blas():
    """The BLAS library this process really runs on (what the dynamic linker mapped), e.g. OpenBLAS or the reference BLAS."""
    try:
        with open('/proc/self/maps') as maps:
            paths = {line.split()[-1] for line in maps if 'blas' in line.lower() and '/' in line}
    except OSError:
        return 'unknown'
    for path in sorted(paths):
        if 'openblas' in path.lower():
            return f'OpenBLAS ({path})'
    for path in sorted(paths):
        if 'libblas' in path:
            return f'reference BLAS ({path})'
    return ', '.join(sorted(paths)) or 'unknown'


def main():
    parser = argparse.ArgumentParser(description='PyTorch peer of the bnlab training benchmark')
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--weights', default=None, help='raw float32 initial weights, [in, out] per layer')
    parser.add_argument('--warmup', type=int, default=500)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--eval-repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--serve', action='store_true', help='answer run/evaluate commands on stdin (see serve)')
    args = parser.parse_args()

    torch.set_num_threads(1)  # one core, as bnlab uses
    torch.manual_seed(args.seed)
    train, validation = load_split(args.data_dir)
    batches = make_batches(train, args.seed)
    initial_weights = initial_weights_from(args.weights, args.seed)
    if args.serve:
        serve(batches, initial_weights, validation)
        return
    without_bn, _ = time_training(False, batches, initial_weights, args.warmup, args.runs, args.steps)
    with_bn, model_with_bn = time_training(True, batches, initial_weights, args.warmup, args.runs, args.steps)
    evaluation = time_evaluation(model_with_bn, validation, args.eval_repeats)
    print(json.dumps({
        **describe(),
        'withoutBn': without_bn,
        'withBn': with_bn,
        'evaluate': evaluation,
    }))


if __name__ == '__main__':
    main()
