#!/usr/bin/env python3
"""Golden numbers for Weight Normalization from PyTorch, the independent oracle of
test/nn/weight-norm-pytorch.test.ts.

Run with Debian's python3-torch (PyTorch 1.13, which has torch.nn.utils.weight_norm):

    /usr/bin/python3 scripts/make-weight-norm-goldens.py > test/fixtures/weight-norm-goldens.json

A linear layer with weight norm (Salimans & Kingma 2016), in float64, on closed-form inputs (no
random generator to match across languages). PyTorch's Linear weight is [out, in], so weight_v is
the transpose of bnlab's v [in, out], and weight_norm(dim=0) normalizes each output unit's row,
bnlab's column. Cases:

- plain: y = x·w + b with w = g·v/‖v‖, gradients of L = Σ dy·y by autograd (∇v, ∇g, ∇b, ∇x);
- mean_only: the paper's mean-only batch normalization, y = x·w − mean over the batch of x·w + b,
  its gradients through the batch mean by autograd;
- init: the paper's data-dependent initialization on x: t = x·v/‖v‖, g = 1/σ[t], b = −μ[t]/σ[t]
  (σ the biased standard deviation over the batch), and the layer's output with those values.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
M, K, N = 9, 7, 10  # 10 units: two 4-lane vectors and a scalar tail in the SIMD kernels

x = [[math.sin(0.37 * i + 0.91 * k) * (1 + 0.2 * i) + 0.1 * k - 0.3 * i for k in range(K)] for i in range(M)]
v = [[math.cos(0.41 * k - 0.23 * j) * (0.5 + 0.1 * j) for j in range(N)] for k in range(K)]  # bnlab's [in, out]
g = [0.6 + 0.15 * j for j in range(N)]
b = [0.03 * j - 0.1 for j in range(N)]
dy = [[math.cos(0.53 * i - 0.29 * j) for j in range(N)] for i in range(M)]


def layer():
    linear = torch.nn.Linear(K, N)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(v).T)
        linear.bias.copy_(torch.tensor(b))
    linear = torch.nn.utils.weight_norm(linear, dim=0)
    with torch.no_grad():
        linear.weight_g.copy_(torch.tensor(g).reshape(N, 1))
    return linear


def case(name, mean_only):
    linear = layer()
    X = torch.tensor(x, requires_grad=True)
    Y = linear(X)  # x·w + b, w recomputed from weight_g and weight_v by weight_norm's hook
    if mean_only:
        Y = Y - Y.mean(dim=0, keepdim=True) + linear.bias  # x·w − mean over the batch of x·w, + b
    (Y * torch.tensor(dy)).sum().backward()
    return {
        'name': name,
        'meanOnly': mean_only,
        'y': Y.detach().tolist(),
        'dx': X.grad.tolist(),
        'dv': linear.weight_v.grad.T.tolist(),
        'dg': linear.weight_g.grad.reshape(N).tolist(),
        'db': linear.bias.grad.tolist(),
    }


def init_case():
    V = torch.tensor(v).T  # [out, in]
    t = F.linear(torch.tensor(x), V / V.norm(dim=1, keepdim=True))
    mu, sigma = t.mean(dim=0), t.std(dim=0, unbiased=False)
    g0, b0 = 1 / sigma, -mu / sigma
    linear = layer()
    with torch.no_grad():
        linear.weight_g.copy_(g0.reshape(N, 1))
        linear.bias.copy_(b0)
        y = linear(torch.tensor(x))
    return {'name': 'init', 'g': g0.tolist(), 'b': b0.tolist(), 'y': y.tolist()}


json.dump({
    'generator': 'scripts/make-weight-norm-goldens.py',
    'torch': torch.__version__,
    'x': x, 'v': v, 'g': g, 'b': b, 'dy': dy,
    'cases': [case('plain', False), case('mean_only', True)],
    'init': init_case(),
}, sys.stdout, indent=1)
sys.stdout.write('\n')
