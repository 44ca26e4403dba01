"""@file The benchmark's workload in PyTorch on one thread: the article's network 784-128-128-128-10
with ReLU (nn.Linear without bias under BN, BatchNorm1d with eps 1e-3 and momentum 0.01, which is
1 - bnlab's decay 0.99), batch 60, SGD lr 0.01, mean cross-entropy. Reads the MNIST IDX files itself
from the folder it is given and splits them as TensorFlow does (validation = the first 5,000 training
images). Batches are pre-made tensors, so the data pipeline is not measured. Prints one JSON record.

Usage: python3 torch_mlp.py --data-dir DIR [--weights FILE] [--warmup N] [--runs N] [--steps N]
       [--eval-repeats N] [--seed N]
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
DISTINCT_BATCHES = 100
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


def time_training(batch_norm, batches, initial_weights, warmup, runs, steps):
    model = build_model(batch_norm, initial_weights)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    position = 0

    def run_steps(count):
        nonlocal position
        loss = None
        for _ in range(count):
            x, y = batches[position]
            position = (position + 1) % len(batches)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        return loss

    run_steps(warmup)
    run_steps_per_second, run_cpu_steps_per_second, last_loss = [], [], float('nan')
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = run_steps(steps)
        elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu_started
        last_loss = loss.item()
        run_steps_per_second.append(steps / elapsed)
        run_cpu_steps_per_second.append(steps / cpu_elapsed)
    record = {
        'stepsPerSecond': statistics.median(run_steps_per_second),
        'runStepsPerSecond': run_steps_per_second,
        'cpuStepsPerSecond': statistics.median(run_cpu_steps_per_second),  # process CPU time, all threads
        'plan': {'warmupSteps': warmup, 'runs': runs, 'stepsPerRun': steps},
        'lastLoss': last_loss,
    }
    return record, model


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
    args = parser.parse_args()

    torch.set_num_threads(1)  # one core, as bnlab uses
    torch.manual_seed(args.seed)
    train, validation = load_split(args.data_dir)
    batches = make_batches(train, args.seed)
    initial_weights = initial_weights_from(args.weights, args.seed)
    without_bn, _ = time_training(False, batches, initial_weights, args.warmup, args.runs, args.steps)
    with_bn, model_with_bn = time_training(True, batches, initial_weights, args.warmup, args.runs, args.steps)
    evaluation = time_evaluation(model_with_bn, validation, args.eval_repeats)
    print(json.dumps({
        'version': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': loaded_blas(),
        'withoutBn': without_bn,
        'withBn': with_bn,
        'evaluate': evaluation,
    }))


if __name__ == '__main__':
    main()
