"""Chapter 5's pictures of replay: how often reservoir sampling keeps each item, and accuracy against buffer size."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from .errors import check_int
from .plots import plot_acc_matrix
from .results import RunResult

AddFn = Callable[[list, int, int, Any, Callable[[int], int]], None]


def keep_frequencies(add: AddFn, n_items: int = 200, capacity: int = 20, repeats: int = 500,
                     seed: int = 0) -> np.ndarray:
    """Offer items 0..n_items-1 to an empty list with `add` (a reservoir_add), `repeats` times: how often each stays.

    `add(buffer, capacity, n_seen, item, rand_int)` is called once per item, with rand_int(n) a uniform integer
    in [0, n) from one seeded generator. Uniform reservoir sampling keeps every item with rate capacity / n_items.
    """
    n_items = check_int("n_items", n_items, 1)
    capacity = check_int("capacity", capacity, 1)
    repeats = check_int("repeats", repeats, 1)
    rng = np.random.default_rng(seed)

    def rand_int(n: int) -> int:
        return int(rng.integers(n))

    counts = np.zeros(n_items)
    for _ in range(repeats):
        buffer: list = []
        for n in range(n_items):
            add(buffer, capacity, n, n, rand_int)
        counts[[i for i in buffer if 0 <= i < n_items]] += 1
    return counts / repeats


def plot_keep_frequencies(freq: np.ndarray, capacity: int, ax=None, title: str | None = None):
    """Keep rate of each stream position next to the uniform rate capacity / n_items."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    n = len(freq)
    ax.bar(np.arange(n), freq, width=1.0, color="tab:blue", alpha=0.7,
           label="kept in the final buffer (fraction of runs)")
    ax.axhline(capacity / n, color="black", ls="--", lw=1.2, label=f"uniform: capacity / n_items = {capacity / n:.2f}")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0, max(float(np.max(freq)) * 1.15, 2 * capacity / n))
    ax.set_xlabel("item number in the stream (0 = first item)")
    ax.set_ylabel("keep rate")
    ax.set_title(title or "reservoir sampling: every item has the same chance to be in memory")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return ax.figure


def plot_buffer_effect(acc_by_size: Mapping[int, float], current: RunResult,
                       baselines: Mapping[str, float] | None = None):
    """Left: final ACC against buffer size for the sizes tried so far (current one circled); right: R of this run."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    sizes = sorted(acc_by_size)
    a.plot(sizes, [acc_by_size[s] for s in sizes], marker="o", color="tab:green", label="replay (sizes tried)")
    size = current.config.get("hparams", {}).get("buffer_size")
    acc = current.summary()["acc"]
    a.scatter([size], [acc], s=160, facecolors="none", edgecolors="black", linewidths=2, zorder=5,
              label=f"buffer size = {size}: ACC {acc:.3f}")
    for k, (name, value) in enumerate((baselines or {}).items()):
        a.axhline(value, ls="--", lw=1, color=f"C{k + 3}", label=f"{name}: ACC {value:.3f}")
    a.set_xscale("log")
    a.set_ylim(0, 1.02)
    a.set_xlabel("buffer size (examples in memory, log scale)")
    a.set_ylabel("final ACC (all tasks)")
    a.set_title("replay: a larger memory forgets less")
    a.legend(fontsize=8, loc="lower right")
    a.grid(alpha=0.3)
    plot_acc_matrix(current, ax=b, title=f"R[i, j], buffer size = {size}")
    fig.tight_layout()
    return fig
