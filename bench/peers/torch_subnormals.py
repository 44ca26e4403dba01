"""@file PyTorch's side of bench/subnormals.ts: steps per second of the article's network without BN
(784-128-128-128-10, batch 60, plain SGD) on one thread, for model 1 (std 0.05, lr 0.01, ReLU) and
model 8 (std 10, lr 2, sigmoid), with subnormal floats kept (PyTorch's default) and flushed to zero
(torch.set_flush_denormal(True)). Batches are consecutive slices of the MNIST training images.

Usage: python3 torch_subnormals.py --data-dir DIR [--steps N]
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(data_dir, name):
    path = os.path.join(data_dir, name)
    raw = gzip.open(path + '.gz').read() if os.path.exists(path + '.gz') else open(path, 'rb').read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def steps_per_second(images, labels, std, lr, activation, steps):
    torch.manual_seed(1)
    layers = [nn.Linear(a, b) for a, b in zip([784, 128, 128, 128], [128, 128, 128, 10])]
    for layer in layers:
        nn.init.normal_(layer.weight, 0, std)
        nn.init.zeros_(layer.bias)
    optimizer = torch.optim.SGD([p for layer in layers for p in layer.parameters()], lr=lr)
    started = time.perf_counter()
    for step in range(steps):
        start = (step * 60) % (len(images) - 60)
        h = images[start:start + 60]
        for layer in layers[:-1]:
            h = activation(layer(h))
        loss = F.cross_entropy(layers[-1](h), labels[start:start + 60])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--steps', type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = torch.from_numpy(read_idx(args.data_dir, 'train-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255.0)
    labels = torch.from_numpy(read_idx(args.data_dir, 'train-labels-idx1-ubyte').astype(np.int64))
    for flush in (False, True):
        torch.set_flush_denormal(flush)
        for name, std, lr, activation in (('model 1 (ReLU)', 0.05, 0.01, F.relu), ('model 8 (sigmoid, std 10, lr 2)', 10, 2, torch.sigmoid)):
            rate = steps_per_second(images, labels, std, lr, activation, args.steps)
            print(f"PyTorch {torch.__version__}, 1 thread, subnormals {'flushed' if flush else 'kept'}: {name} {rate:.0f} steps/s")


if __name__ == '__main__':
    main()
