"""Chapter 4 exercises: the LoRA forward pass, and the number of parameters LoRA trains."""
from __future__ import annotations

import torch

from .core import Case, Exercise, close


# ---- 4.1 the LoRA forward pass --------------------------------------------------------------------------
def reference_lora_forward(x, W, b, A, B, alpha, r):
    """x W^T + b + (alpha / r) x A^T B^T for x (N, in), W (out, in), b (out,), A (r, in), B (out, r)."""
    return x @ W.T + b + (alpha / r) * (x @ A.T) @ B.T


def _layer(seed: int, n: int, d_in: int, d_out: int, r: int, zero_B: bool = False):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=gen)
    W = torch.randn(d_out, d_in, generator=gen)
    b = torch.randn(d_out, generator=gen)
    A = torch.randn(r, d_in, generator=gen)
    B = torch.zeros(d_out, r) if zero_B else torch.randn(d_out, r, generator=gen)
    return x, W, b, A, B


def _forward_cases():
    base = lambda x, W, b: x @ W.T + b  # noqa: E731
    update = lambda x, A, B: (x @ A.T) @ B.T  # noqa: E731
    wrong = {
        "missing the alpha / r scaling of the update":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + update(x, A, B),
        "scaled by alpha only: the scale is alpha / r":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + alpha * update(x, A, B),
        "scaled by r / alpha (upside down): the scale is alpha / r":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (r / alpha) * update(x, A, B),
        "the base term W x + b is missing: LoRA adds the update to the frozen layer's output":
            lambda x, W, b, A, B, alpha, r: (alpha / r) * update(x, A, B),
        "the bias b is missing from the base term":
            lambda x, W, b, A, B, alpha, r: x @ W.T + (alpha / r) * update(x, A, B),
        "the scale alpha / r was applied to the whole output; it scales the update B A x only":
            lambda x, W, b, A, B, alpha, r: (alpha / r) * (base(x, W, b) + update(x, A, B)),
        "A and B swapped: x goes through A first (A is r x in), then B (B is out x r)":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (alpha / r) * (x @ B) @ A,
        "A and B not transposed: with examples as rows of x, the update is (x @ A.T) @ B.T":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (alpha / r) * (x @ A) @ B,
    }
    return [
        Case("4 -> 4 layer, rank 2, alpha 8", (*_layer(0, 3, 4, 4, 2), 8.0, 2), mistakes=wrong),
        Case("6 -> 3 layer, rank 2, alpha 3", (*_layer(1, 5, 6, 3, 2), 3.0, 2), mistakes=wrong),
        Case("5 -> 5 layer, rank 1, alpha 4", (*_layer(2, 2, 5, 5, 1), 4.0, 1), mistakes=wrong),
        Case("3 -> 3 layer, rank 3, alpha 6", (*_layer(4, 2, 3, 3, 3), 6.0, 3), mistakes=wrong),
        Case("fresh adapter (B = 0): the output equals the base layer's", (*_layer(3, 4, 6, 3, 2, zero_B=True),
                                                                            16.0, 2), mistakes=wrong),
    ]


lora_forward_exercise = Exercise(
    "Exercise 4.1: the LoRA forward pass", reference_lora_forward, _forward_cases,
    hints=["Two parts: the frozen layer x @ W.T + b, plus the low-rank update. The update goes through the r-dim "
           "bottleneck: first h = x @ A.T (shape N x r), then h @ B.T (shape N x out).",
           "Return x @ W.T + b + (alpha / r) * (x @ A.T) @ B.T."])


# ---- 4.2 counting trainable parameters ----------------------------------------------------------------
def reference_lora_trainable_params(layer_shapes, rank):
    """Adapter parameters of rank `rank` on every layer: A (rank x in) + B (out x rank); W and b stay frozen."""
    return sum(rank * d_in + d_out * rank for d_in, d_out in layer_shapes)


def _same_count(got, expected) -> bool:
    """Counts must be exactly equal (a relative tolerance would accept a count off by a few)."""
    try:
        return float(got) == float(expected)
    except (TypeError, ValueError):
        return close(got, expected)


def _count_cases():
    wrong = {
        "counted the frozen base weights too (in * out per layer): only A and B are trained":
            lambda s, r: sum(r * (i + o) + i * o for i, o in s),
        "counted the frozen bias as trainable (out per layer): LoRA leaves the bias frozen":
            lambda s, r: sum(r * (i + o) + o for i, o in s),
        "counted only A (rank * in): B (out x rank) is trained too":
            lambda s, r: sum(r * i for i, o in s),
        "counted only B (out * rank): A (rank x in) is trained too":
            lambda s, r: sum(r * o for i, o in s),
        "counted rank * in * out: an adapter is two thin matrices, rank * (in + out) numbers":
            lambda s, r: sum(r * i * o for i, o in s),
        "counted the whole model's parameters (full fine-tuning), not the adapters'":
            lambda s, r: sum(i * o + o for i, o in s),
        "forgot the last layer: every layer in layer_shapes gets an adapter":
            lambda s, r: sum(r * (i + o) for i, o in s[:-1]),
        "forgot the first layer: every layer in layer_shapes gets an adapter":
            lambda s, r: sum(r * (i + o) for i, o in s[1:]),
    }
    course = [(784, 256), (256, 256), (256, 10)]
    return [
        Case("course MLP 784-256-256-10, rank 8", (course, 8), mistakes=wrong),
        Case("course MLP, rank 1", (course, 1), mistakes=wrong),
        Case("two layers 20 -> 6 -> 3, rank 2", ([(20, 6), (6, 3)], 2), mistakes=wrong),
        Case("one layer 3 -> 5, rank 2", ([(3, 5)], 2), mistakes=wrong),
    ]


lora_params_exercise = Exercise(
    "Exercise 4.2: LoRA's trainable parameters", reference_lora_trainable_params, _count_cases,
    hints=["A layer of in_features -> out_features gets A of shape (rank, in) and B of shape (out, rank); W and b "
           "are frozen and do not count.",
           "Return sum(rank * d_in + d_out * rank for d_in, d_out in layer_shapes)."],
    compare=_same_count)
