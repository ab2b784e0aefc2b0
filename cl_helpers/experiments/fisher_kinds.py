"""The four kinds of diagonal Fisher compared on the same samples: totals, correlation, time."""
from __future__ import annotations

import time
from typing import Iterable, Mapping

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..fisher import FISHER_KINDS, fisher_diagonal

def compare_fisher_kinds(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor,
                         kinds: Iterable[str] = FISHER_KINDS, seed: int = 0,
                         task: int | None = None) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, float]]:
    """The diagonal Fisher of `model` on the same samples for each kind, and the seconds each took."""
    fishers, seconds = {}, {}
    for kind in kinds:
        gen = torch.Generator(device=inputs.device).manual_seed(seed)  # only the sampled kind draws from it
        start = time.perf_counter()
        fishers[kind] = fisher_diagonal(model, inputs, labels, kind=kind, task=task, generator=gen)
        seconds[kind] = time.perf_counter() - start
    return fishers, seconds


def _flat(fisher: Mapping[str, torch.Tensor]) -> np.ndarray:
    return torch.cat([f.detach().reshape(-1) for f in fisher.values()]).cpu().double().numpy()  # MPS has no float64


def fisher_kind_stats(fishers: Mapping[str, Mapping[str, torch.Tensor]],
                      reference: str = "exact") -> dict[str, dict[str, float]]:
    """Per kind: total (sum over all parameters), total relative to `reference`, and Pearson correlation with it."""
    if reference not in fishers:
        raise ConfigError(f"reference kind {reference!r} is not among {', '.join(fishers)}; allowed: one of them")
    ref = _flat(fishers[reference])
    out = {}
    for kind, fisher in fishers.items():
        v = _flat(fisher)
        if v.shape != ref.shape:
            raise ConfigError(f"Fisher {kind!r} has {v.size} entries, {reference!r} {ref.size}; allowed: the same model")
        out[kind] = {"total": float(v.sum()), "ratio": float(v.sum() / ref.sum()),
                     "corr": float(np.corrcoef(v, ref)[0, 1])}
    return out


def format_fisher_kinds(fishers: Mapping[str, Mapping[str, torch.Tensor]], seconds: Mapping[str, float] | None = None,
                        reference: str = "exact") -> str:
    """A plain-text table of `fisher_kind_stats`, with the seconds each kind took if given."""
    stats = fisher_kind_stats(fishers, reference)
    head = f"{'kind':<11}{'total F':>10}{'/ ' + reference:>10}{'corr with ' + reference:>17}"
    lines = [head + (f"{'ms':>8}" if seconds else "")]
    for kind, s in stats.items():
        line = f"{kind:<11}{s['total']:>10.4g}{s['ratio']:>10.2f}{s['corr']:>17.3f}"
        lines.append(line + (f"{1000 * seconds[kind]:>8.0f}" if seconds else ""))
    return "\n".join(lines)


def sampled_fisher_ratios(model: nn.Module, inputs: torch.Tensor, draws: int = 64, seed: int = 0,
                          task: int | None = None) -> np.ndarray:
    """Total of the sampled Fisher over `draws` independent label draws, each divided by the exact Fisher's total.

    The sampled Fisher is an unbiased estimate of the exact one, so the mean of these ratios tends to 1 as
    draws grow, while a single draw can be far from it (rare classes drawn by chance carry large gradients).
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ConfigError(f"draws {draws!r} is not a positive integer; allowed: 1, 2, ...")
    exact = sum(float(f.sum()) for f in fisher_diagonal(model, inputs, kind="exact", task=task).values())
    gen = torch.Generator(device=inputs.device).manual_seed(seed)
    totals = [sum(float(f.sum()) for f in fisher_diagonal(model, inputs, kind="sampled", task=task,
                                                          generator=gen).values()) for _ in range(draws)]
    return np.array(totals) / exact
