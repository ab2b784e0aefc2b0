"""Chapter 3 exercises: the EWC penalty, and the empirical Fisher from per-sample gradients."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .core import Case, Exercise


# ---- exercise A: the EWC penalty --------------------------------------------------------------------------------
def reference_ewc_penalty(params, anchors, fisher, lam):
    """(lam / 2) * sum over every tensor and element of fisher * (params - anchors)**2, as a tensor."""
    total = sum((fisher[name] * (params[name] - anchors[name]) ** 2).sum() for name in params)
    return lam / 2 * total


def _tensors(seed: int, shapes: dict) -> tuple[dict, dict, dict]:
    gen = torch.Generator().manual_seed(seed)
    params = {k: torch.randn(s, generator=gen) for k, s in shapes.items()}
    anchors = {k: torch.randn(s, generator=gen) for k, s in shapes.items()}
    fisher = {k: torch.rand(s, generator=gen) for k, s in shapes.items()}  # a Fisher is >= 0
    return params, anchors, fisher


def _over(fn):
    """sum over tensors of fn(theta, theta*, F), for writing the wrong variants briefly."""
    return lambda p, a, f: sum(fn(p[k], a[k], f[k]) for k in p)


def _penalty_cases():
    wrong = {
        "少了 1/2：EWC 的 penalty 是 (lambda / 2) * sum F (theta - theta*)^2":
            lambda p, a, f, lam: lam * _over(lambda x, y, w: (w * (x - y) ** 2).sum())(p, a, f),
        "lambda 乘了兩次（lambda^2 / 2）：只乘一次 lam / 2":
            lambda p, a, f, lam: lam ** 2 / 2 * _over(lambda x, y, w: (w * (x - y) ** 2).sum())(p, a, f),
        "差沒有平方：要用 (theta - theta*)**2":
            lambda p, a, f, lam: lam / 2 * _over(lambda x, y, w: (w * (x - y)).sum())(p, a, f),
        "(theta* - theta) 沒有平方：方向不該有影響，把差平方":
            lambda p, a, f, lam: lam / 2 * _over(lambda x, y, w: (w * (y - x)).sum())(p, a, f),
        "Fisher 被平方了：F 只乘一次，F * (theta - theta*)**2":
            lambda p, a, f, lam: lam / 2 * _over(lambda x, y, w: (w ** 2 * (x - y) ** 2).sum())(p, a, f),
        "分別平方再相減，theta^2 - theta*^2，而不是 (theta - theta*)^2":
            lambda p, a, f, lam: lam / 2 * _over(lambda x, y, w: (w * (x ** 2 - y ** 2)).sum())(p, a, f),
        "對元素取平均而不是加總：penalty 要對每一個參數加總":
            lambda p, a, f, lam: lam / 2 * torch.cat([(f[k] * (p[k] - a[k]) ** 2).reshape(-1) for k in p]).mean(),
        "每個 tensor 內用了 .mean() 再對 tensor 加總：tensor 內也要用 .sum()":
            lambda p, a, f, lam: lam / 2 * _over(lambda x, y, w: (w * (x - y) ** 2).mean())(p, a, f),
        "只算了第一個 tensor：要對 params 裡的每個名稱（weight 與 bias）加總":
            lambda p, a, f, lam: lam / 2 * (f[next(iter(p))] * (p[next(iter(p))] - a[next(iter(p))]) ** 2).sum(),
    }
    one = _tensors(0, {"weight": (2, 3)})
    two = _tensors(1, {"layer.weight": (3, 4), "layer.bias": (3,)})
    three = _tensors(2, {"body.0.weight": (4, 5), "body.0.bias": (4,), "head.weight": (2, 4), "head.bias": (2,)})
    same = (three[0], {k: v.clone() for k, v in three[0].items()}, three[2])
    return [
        Case("一個 weight tensor，lambda = 3", (*one, 3.0), mistakes=wrong),
        Case("一個 weight 與一個 bias，lambda = 0.5", (*two, 0.5), mistakes=wrong),
        Case("兩層，lambda = 100", (*three, 100.0), mistakes=wrong),
        Case("theta 等於 theta*：penalty 是 0", (*same, 10.0), mistakes=wrong),
    ]


ewc_penalty_exercise = Exercise(
    "練習 A（EWC penalty）", reference_ewc_penalty, _penalty_cases,
    hints=["三個 dict 的 key 相同。對每個名稱，算出這個 tensor 的每個元素離 anchor 多遠，平方之後用同名的 Fisher 加權，"
           "再把這個 tensor 的所有元素加起來；最後把所有名稱的結果加總。",
           "把所有名稱的項加起來，最後乘一次 lam / 2。用 torch 運算並回傳 tensor，autograd 才能對它微分。"],
    name="ewc_penalty_exercise")


# ---- exercise B: the empirical Fisher -------------------------------------------------------------------------
def reference_empirical_fisher(model, x, y):
    """(1/N) sum_n (d log p(y_n | x_n) / d theta)^2 per parameter name, one backward per sample, true labels."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    for n in range(len(x)):
        log_p = torch.log_softmax(model(x[n:n + 1]), dim=1)[0, y[n]]
        grads = torch.autograd.grad(log_p, list(params.values()))
        for name, g in zip(params, grads):
            fisher[name] += g ** 2
    return {name: f / len(x) for name, f in fisher.items()}


def _per_sample_grads(model, x, labels, of: str = "log_p"):
    """Per-sample gradients of log p(label_n | x_n) (or of p itself) as a list of dicts."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    out = []
    for n in range(len(x)):
        log_p = torch.log_softmax(model(x[n:n + 1]), dim=1)[0, labels[n]]
        target = log_p.exp() if of == "p" else log_p
        out.append(dict(zip(params, torch.autograd.grad(target, list(params.values())))))
    return out


def _mean_of(grads, fn):
    return {k: sum(fn(g[k]) for g in grads) / len(grads) for k in grads[0]}


def _batch_mean_squared(model, x, y):
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    loss = F.nll_loss(torch.log_softmax(model(x), dim=1), y)
    return {k: g ** 2 for k, g in zip(params, torch.autograd.grad(loss, list(params.values())))}


def _accumulated(model, x, y):
    grads, running, out = _per_sample_grads(model, x, y), None, None
    for g in grads:
        running = dict(g) if running is None else {k: running[k] + g[k] for k in g}
        out = {k: v ** 2 for k, v in running.items()} if out is None else {k: out[k] + running[k] ** 2 for k in g}
    return {k: v / len(grads) for k, v in out.items()}


def _exact(model, x, y):
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
    total = None
    for c in range(probs.shape[1]):
        grads = _per_sample_grads(model, x, torch.full_like(y, c))
        term = {k: sum(probs[n, c] * g[k] ** 2 for n, g in enumerate(grads)) / len(x) for k in grads[0]}
        total = term if total is None else {k: total[k] + term[k] for k in term}
    return total


def _tiny_model(seed: int, sizes=(4, 5, 3)) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.Tanh(), nn.Linear(sizes[1], sizes[2]))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return model


def _labelled(seed: int, n: int, sizes=(4, 5, 3)):
    """A tiny model, inputs, and true labels of which some differ from the model's prediction."""
    model = _tiny_model(seed, sizes)
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(n, sizes[0], generator=gen)
    with torch.no_grad():
        pred = model(x).argmax(1)
    y = pred.clone()
    y[::2] = (pred[::2] + 1) % sizes[2]  # every other label disagrees with the model, as on a hard task
    return model, x, y


def _fisher_cases():
    wrong = {
        "把整個 batch 平均 log-likelihood 的 gradient 拿來平方（Avalanche 的 EWC 就是這樣）；要先平方每個樣本自己的 "
        "gradient，再平均":
            _batch_mean_squared,
        "沒有除以 N：Fisher 是對樣本取平均，不是加總":
            lambda m, x, y: {k: v * len(x) for k, v in reference_empirical_fisher(m, x, y).items()},
        "用了預測的標籤 argmax p(y | x)（那是 'argmax' Fisher）；empirical Fisher 用真實標籤 y":
            lambda m, x, y: reference_empirical_fisher(m, x, m(x).argmax(1).detach()),
        "對所有類別以 p(c | x) 加權平均（那是 exact Fisher）；只用真實標籤":
            _exact,
        "對 p(y | x) 而不是 log p(y | x) 取 gradient":
            lambda m, x, y: _mean_of(_per_sample_grads(m, x, y, of="p"), lambda g: g ** 2),
        "用了 |g| 而不是平方 g^2":
            lambda m, x, y: _mean_of(_per_sample_grads(m, x, y), lambda g: g.abs()),
        "gradient 在樣本之間累加了（每個樣本都要歸零，或改用 torch.autograd.grad）":
            _accumulated,
    }
    return [Case("4-5-3 的網路，6 個樣本", _labelled(0, 6), mistakes=wrong),
            Case("3-4-2 的網路，5 個樣本", _labelled(1, 5, (3, 4, 2)), mistakes=wrong),
            Case("4-5-3 的網路，1 個樣本", _labelled(2, 1), mistakes=wrong)]


empirical_fisher_exercise = Exercise(
    "練習 B（empirical Fisher）", reference_empirical_fisher, _fisher_cases,
    hints=["一次只看一個樣本 n：用 x[n:n+1]（保留 batch 維度）做 forward，取 log-softmax 在真實標籤 y[n] 的值，"
           "再對參數求 gradient。torch.autograd.grad 直接回傳 gradient、不累積到 .grad，就不必每次歸零。",
           "把每個 gradient 的平方（g ** 2）加進一個和參數同形狀、一開始是 0 的 dict，最後每一項除以 N = len(x)。"
           "key 用 model.named_parameters() 的名稱。"],
    name="empirical_fisher_exercise")
