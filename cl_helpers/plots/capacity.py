"""Architecture methods' capacity: parameters against the number of tasks, and PackNet's prune fraction."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..results import RunResult
from .matrices import plot_acc_matrix


def plot_parameter_growth(counts: Mapping[str, Sequence[int]], ax=None, title: str | None = None):
    """Parameters held after 1, 2, ... tasks, one line per method (growing vs fixed)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]   # distinct markers and dashes: lines may overlap
    for i, (name, values) in enumerate(counts.items()):
        marker, dash = styles[i % len(styles)]
        ax.plot(range(1, len(values) + 1), values, marker=marker, ls=dash, label=name)
    ax.set_xlabel("number of tasks")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("parameters (count)")
    ax.set_title(title or "model size against the number of tasks")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax.figure


def plot_prune_effect(tried: Mapping[float, tuple[float, float]], current: RunResult):
    """Left: last task's accuracy and free capacity after it, per prune fraction tried; right: R of this run."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    xs = sorted(tried)
    a.plot(xs, [tried[x][0] for x in xs], marker="o", color="tab:blue", label="last task's accuracy")
    a.plot(xs, [tried[x][1] for x in xs], marker="s", color="tab:gray", label="share of weights still free at the end")
    prune = current.config["hparams"]["prune"]
    a.axvline(prune, color="black", lw=1, ls=":")
    a.set_xlim(0, 1)
    a.set_ylim(0, 1.02)
    a.set_xlabel("prune fraction (share of free weights left for later tasks)")
    a.set_ylabel("accuracy / fraction of weights")
    a.set_title("PackNet: capacity for later tasks")
    a.legend(fontsize=8, loc="upper left")
    a.grid(alpha=0.3)
    plot_acc_matrix(current, ax=b, title=f"R[i, j], prune = {prune:g}")
    fig.tight_layout()
    return fig
