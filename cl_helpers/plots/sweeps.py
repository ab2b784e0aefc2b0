"""A metric against a knob: a hyperparameter sweep, the LoRA rank (two views), the replay buffer size."""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import matplotlib.pyplot as plt

from ..errors import ConfigError
from ..metrics import new_task_accuracy
from ..results import RunResult
from .matrices import plot_acc_matrix

if TYPE_CHECKING:  # results of cl_helpers.experiments.finetune; plots never import experiments at run time
    from ..experiments.finetune import FinetuneResult


def plot_rank_curves(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """New-task accuracy, old-task accuracy after and forgetting against the rank (log 2 axis); full as dashes."""
    lora = sorted((r for r in results if r.rank is not None), key=lambda r: r.rank)
    if not lora:
        raise ConfigError("plot_rank_curves needs LoRA results; allowed: the list rank_sweep() returned")
    full = next((r for r in results if r.rank is None), None)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    ranks = [r.rank for r in lora]
    series = [("new-task accuracy", lambda r: r.new_after, "C0"),
              ("old-task accuracy after", lambda r: r.old_after, "C1"),
              ("old-task forgetting", lambda r: r.forgetting, "C3")]
    for name, fn, color in series:
        ax.plot(ranks, [fn(r) for r in lora], "o-", color=color, label=name)
        if full is not None:
            ax.axhline(fn(full), color=color, ls="--", lw=1, alpha=0.7)
    if full is not None:
        ax.plot([], [], "k--", lw=1, label="full fine-tuning (dashed)")
    ax.axhline(lora[0].old_before, color="grey", ls=":", lw=1, label="old task before fine-tuning")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ranks, [str(r) for r in ranks])
    ax.set_xlabel("LoRA rank r")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "LoRA: what the rank buys and costs")
    ax.legend(fontsize=8, loc="center right")
    ax.grid(alpha=0.3)
    return ax.figure


def plot_rank_sweep(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """Forgetting against new-task accuracy, one point per rank (full fine-tuning as a star): learn vs forget."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.2))
    lora = [r for r in results if r.rank is not None]
    ax.plot([r.new_after for r in lora], [r.forgetting for r in lora], "o-", label="LoRA")
    for r in lora:
        ax.annotate(f"r={r.rank}", (r.new_after, r.forgetting), textcoords="offset points", xytext=(5, -10),
                    fontsize=8)
    for r in results:
        if r.rank is None:
            ax.plot(r.new_after, r.forgetting, "*", ms=14, color="C3", label="full fine-tuning")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("new-task accuracy (learns more ->)")
    ax.set_ylabel("old-task forgetting (forgets more ->)")
    ax.set_title(title or "LoRA learns less and forgets less")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return ax.figure


def plot_sweep(results: Sequence[RunResult], param: str, baseline: RunResult | None = None, log: bool = True,
               ax=None, title: str | None = None):
    """ACC, forgetting and new-task accuracy against the swept value; the baseline's as dashed lines."""
    if not results:
        raise ConfigError("plot_sweep needs at least one result; allowed: the list sweep() returned")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = [r.strategy.hparams[param] for r in results]
    series = [("ACC (final average accuracy)", lambda r: r.summary()["acc"], "C0"),
              ("new-task accuracy (mean R[j, j], j >= 1)", lambda r: new_task_accuracy(r.acc_matrix), "C2"),
              ("average forgetting", lambda r: r.summary()["forgetting"], "C3")]
    for name, fn, color in series:
        ax.plot(x, [fn(r) for r in results], "o-", color=color, label=name)
        if baseline is not None:
            ax.axhline(fn(baseline), color=color, ls="--", lw=1, alpha=0.7)
    if baseline is not None:
        ax.plot([], [], "k--", lw=1, label=f"{baseline.method} (dashed)")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(param)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    method = results[0].method
    ax.set_title(title or f"{method}: sweeping {param}")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
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
