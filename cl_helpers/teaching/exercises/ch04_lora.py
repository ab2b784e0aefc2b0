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


# Forming the out x in matrix B A first is what exercise 4.1 asks not to do. Its sign: with A and B of about 1e20
# and x of about 1e-20 (all positive), every entry of B A is past float32's largest value (about 3.4e38) and
# becomes inf, while x A^T (N x r) is of order 1 and (x A^T) B^T of order 1e20: only the bottleneck stays finite.
BIG = 1e20


def _huge_adapter():
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(2, 4, generator=gen) / BIG + 0.5 / BIG
    W = torch.randn(3, 4, generator=gen)
    b = torch.randn(3, generator=gen)
    A = (torch.rand(1, 4, generator=gen) + 0.5) * BIG
    B = (torch.rand(3, 1, generator=gen) + 0.5) * BIG
    return x, W, b, A, B


def _forward_cases():
    base = lambda x, W, b: x @ W.T + b  # noqa: E731
    update = lambda x, A, B: (x @ A.T) @ B.T  # noqa: E731
    wrong = {
        "修正量少了 alpha / r 的縮放":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + update(x, A, B),
        "只乘了 alpha：縮放是 alpha / r":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + alpha * update(x, A, B),
        "乘了 r / alpha（倒過來了）：縮放是 alpha / r":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (r / alpha) * update(x, A, B),
        "少了原本的 W x + b：LoRA 是把修正量加到凍結的 layer 的輸出上":
            lambda x, W, b, A, B, alpha, r: (alpha / r) * update(x, A, B),
        "原本那一項少了 bias b":
            lambda x, W, b, A, B, alpha, r: x @ W.T + (alpha / r) * update(x, A, B),
        "alpha / r 乘到了整個輸出；它只縮放修正量 B A x":
            lambda x, W, b, A, B, alpha, r: (alpha / r) * (base(x, W, b) + update(x, A, B)),
        "A 和 B 順序反了：x 先經過 A（r x in），再經過 B（out x r）":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (alpha / r) * (x @ B) @ A,
        "A 和 B 沒有轉置：x 的每一列是一個樣本，修正量是 (x @ A.T) @ B.T":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (alpha / r) * (x @ A) @ B,
        "先算出了 out x in 的 B A（在這個 case 裡它的元素超出 float32 的範圍，變成 inf）："
        "讓 x 先經過 A（r 維的瓶頸）再經過 B，中間的結果只有 N x r":
            lambda x, W, b, A, B, alpha, r: base(x, W, b) + (alpha / r) * x @ (B @ A).T,
    }
    return [
        Case("4 -> 4 的 layer，rank 2，alpha 8", (*_layer(0, 3, 4, 4, 2), 8.0, 2), mistakes=wrong),
        Case("6 -> 3 的 layer，rank 2，alpha 3", (*_layer(1, 5, 6, 3, 2), 3.0, 2), mistakes=wrong),
        Case("5 -> 5 的 layer，rank 1，alpha 4", (*_layer(2, 2, 5, 5, 1), 4.0, 1), mistakes=wrong),
        Case("3 -> 3 的 layer，rank 3，alpha 6", (*_layer(4, 2, 3, 3, 3), 6.0, 3), mistakes=wrong),
        Case("剛初始化的 adapter（B = 0）：輸出和原本的 layer 一樣", (*_layer(3, 4, 6, 3, 2, zero_B=True),
                                                                            16.0, 2), mistakes=wrong),
        Case("A、B 約 1e20，x 約 1e-20：先算出 B A 會 overflow 成 inf，經過 r 維的瓶頸就不會",
             (*_huge_adapter(), 2.0, 1), mistakes=wrong),
    ]


lora_forward_exercise = Exercise(
    "練習 4.1：LoRA 的 forward", reference_lora_forward, _forward_cases,
    hints=["輸出是兩個部分相加：凍結的 layer 本身（就是一般 nn.Linear 的計算），加上縮放過的低秩修正量。"
           "x 的每一列是一個樣本，所以矩陣都要從右邊乘、而且要轉置。",
           "把形狀一步一步寫下來：x 是 (N, in)，A 是 (r, in)，B 是 (out, r)。修正量要從 (N, in) 先變成 (N, r)，"
           "再變成 (N, out)；哪一個矩陣（轉置後）負責哪一步？縮放 alpha / r 只乘在修正量上，不乘在凍結的那一部分。"],
    name="lora_forward_exercise")


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
        "把凍結的原本權重也算進去了（每層 in * out）：只有 A 和 B 會被訓練":
            lambda s, r: sum(r * (i + o) + i * o for i, o in s),
        "把凍結的 bias 也算成可訓練（每層 out 個）：LoRA 不訓練 bias":
            lambda s, r: sum(r * (i + o) + o for i, o in s),
        "只算了 A（rank * in）：B（out x rank）也會被訓練":
            lambda s, r: sum(r * i for i, o in s),
        "只算了 B（out * rank）：A（rank x in）也會被訓練":
            lambda s, r: sum(r * o for i, o in s),
        "算成 rank * in * out：adapter 是兩個細長的矩陣，共 rank * (in + out) 個參數":
            lambda s, r: sum(r * i * o for i, o in s),
        "算的是整個模型的參數（full fine-tuning），不是 adapter 的":
            lambda s, r: sum(i * o + o for i, o in s),
        "漏了最後一層：layer_shapes 裡的每一層都有 adapter":
            lambda s, r: sum(r * (i + o) for i, o in s[:-1]),
        "漏了第一層：layer_shapes 裡的每一層都有 adapter":
            lambda s, r: sum(r * (i + o) for i, o in s[1:]),
    }
    course = [(784, 256), (256, 256), (256, 10)]
    return [
        Case("課程的 MLP 784-256-256-10，rank 8", (course, 8), mistakes=wrong),
        Case("課程的 MLP，rank 1", (course, 1), mistakes=wrong),
        Case("兩層 20 -> 6 -> 3，rank 2", ([(20, 6), (6, 3)], 2), mistakes=wrong),
        Case("一層 3 -> 5，rank 2", ([(3, 5)], 2), mistakes=wrong),
    ]


lora_params_exercise = Exercise(
    "練習 4.2：LoRA 的 trainable parameters", reference_lora_trainable_params, _count_cases,
    hints=["只數會被訓練的參數：每一層的 adapter 有兩個矩陣 A 與 B，W 和 b 凍結，不算。先寫下 A、B 的形狀"
           "（rank、in_features、out_features 各在哪一邊？）；一個矩陣的參數個數是它形狀的乘積。",
           "先用一層算一個例子：784 -> 256、rank 8 的一層，A 的形狀是 (8, 784)，B 的形狀是 (256, 8)。"
           "把這個算法寫成 d_in、d_out、rank 的式子，再對 layer_shapes 的每一層加總。"],
    name="lora_params_exercise",
    compare=_same_count)
