#!/usr/bin/env python3
"""Golden numbers for Layer Norm and Group Norm from PyTorch, the independent oracle of
test/nn/example-norm-pytorch.test.ts.

Run with Debian's python3-torch (`apt-get install python3-torch`; PyTorch 1.13 has LayerNorm and
GroupNorm but not RMSNorm, whose oracle stays the float64 reference in example-norm-oracle.test.ts):

    /usr/bin/python3 scripts/make-norm-goldens.py > test/fixtures/norm-goldens.json

Inputs are closed-form (no random generator to match across languages), the computation is float64:
y = norm(x)·γ + β with eps 1e-5, and the gradients of L = Σ dy·y by autograd.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
EPS = 1e-5
M, N = 9, 24  # 24 units: groups of 24, 12, 6, 3

x = [[math.sin(0.37 * i + 0.91 * j) * (1 + 0.5 * i) + 0.1 * j - 0.3 * i for j in range(N)] for i in range(M)]
dy = [[math.cos(0.53 * i - 0.29 * j) for j in range(N)] for i in range(M)]
gamma = [1 + 0.05 * j for j in range(N)]
beta = [0.02 * j - 0.2 for j in range(N)]


def case(name, groups):
    X = torch.tensor(x, requires_grad=True)
    G = torch.tensor(gamma, requires_grad=True)
    B = torch.tensor(beta, requires_grad=True)
    if groups is None:
        Y = F.layer_norm(X, (N,), G, B, eps=EPS)
    else:
        Y = F.group_norm(X, groups, G, B, eps=EPS)  # (N, C) input: C channels in `groups` groups
    (Y * torch.tensor(dy)).sum().backward()
    return {
        'name': name,
        'groups': 1 if groups is None else groups,
        'y': Y.detach().tolist(),
        'dx': X.grad.tolist(),
        'dgamma': G.grad.tolist(),
        'dbeta': B.grad.tolist(),
    }


json.dump({
    'generator': 'scripts/make-norm-goldens.py',
    'torch': torch.__version__,
    'eps': EPS,
    'x': x, 'dy': dy, 'gamma': gamma, 'beta': beta,
    'cases': [case('layer_norm', None), case('group_norm_2', 2), case('group_norm_4', 4), case('group_norm_8', 8)],
}, sys.stdout, indent=1)
sys.stdout.write('\n')
