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


SYMBOLS = {"lam": r"$\lambda$", "c": r"$c$", "alpha": r"$\alpha$", "gamma": r"$\gamma$", "xi": r"$\xi$",
           "temperature": r"$T$"}  # hyperparameters as the chapters write them


def plot_rank_curves(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """New-task and old-task accuracy after fine-tuning against the rank (log 2 axis); full fine-tuning as dashes.

    Forgetting is not drawn here (it is not an accuracy): `plot_rank_sweep` shows it against what was learnt.
    """
    lora = sorted((r for r in results if r.rank is not None), key=lambda r: r.rank)
    if not lora:
        raise ConfigError("plot_rank_curves needs LoRA results; allowed: the list rank_sweep() returned")
    full = next((r for r in results if r.rank is None), None)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    ranks = [r.rank for r in lora]
    series = [("new task, LoRA", lambda r: r.new_after, "C0"),
              ("old task after, LoRA", lambda r: r.old_after, "C1")]
    for name, fn, color in series:
        ax.plot(ranks, [fn(r) for r in lora], "o-", color=color, label=name)
        if full is not None:
            ax.axhline(fn(full), color=color, ls="--", lw=1.2,
                       label=f"{name.split(',')[0]}, full fine-tuning ({fn(full):.2f})")
    ax.axhline(lora[0].old_before, color="black", ls=":", lw=1.2,
               label=f"old task before fine-tuning ({lora[0].old_before:.2f})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ranks, [str(r) for r in ranks])
    ax.set_xlabel("LoRA rank r")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "LoRA: what the rank buys and costs")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.grid(alpha=0.3)
    return ax.figure


def plot_rank_sweep(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """Forgetting against new-task accuracy, one point per rank (full fine-tuning as a star): learn vs forget."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.2))
    lora = sorted((r for r in results if r.rank is not None), key=lambda r: r.rank)
    ax.plot([r.new_after for r in lora], [r.forgetting for r in lora], "o-", label="LoRA")
    for k, r in enumerate(lora):
        # alternate labels below-right and above-left so that neighbouring ranks do not overprint
        offset, ha = ((5, -11), "left") if k % 2 == 0 else ((-5, 6), "right")
        ax.annotate(f"r={r.rank}", (r.new_after, r.forgetting), textcoords="offset points", xytext=offset,
                    fontsize=8, ha=ha)
    for r in results:
        if r.rank is None:
            ax.plot(r.new_after, r.forgetting, "*", ms=14, color="C3", label="full fine-tuning")
    ax.set_ylim(bottom=min(0.0, min(r.forgetting for r in results) - 0.01))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("new-task accuracy (learns more ->)")
    ax.set_ylabel("old-task forgetting (forgets more ->)")
    ax.set_title(title or "LoRA learns less and forgets less")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.grid(alpha=0.3)
    return ax.figure


def plot_sweep(results: Sequence[RunResult], param: str, baseline: RunResult | None = None, log: bool = True,
               ax=None, title: str | None = None):
    """Accuracies (left) and forgetting (right) against the swept value; the baseline's as dashed lines.

    `ax`: None or a pair of axes. The x axis names the hyperparameter by its symbol (lam -> lambda).
    """
    if not results:
        raise ConfigError("plot_sweep needs at least one result; allowed: the list sweep() returned")
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(12, 4))
    acc_ax, fgt_ax = ax
    x = [r.strategy.hparams[param] for r in results]
    panels = [(acc_ax, [("ACC (final average accuracy)", lambda r: r.summary()["acc"], "C0"),
                        ("new-task accuracy (mean R[j, j], j >= 1)", lambda r: new_task_accuracy(r.acc_matrix), "C2")]),
              (fgt_ax, [("average forgetting", lambda r: r.summary()["forgetting"], "C3")])]
    for a, series in panels:
        for name, fn, color in series:
            a.plot(x, [fn(r) for r in results], "o-", color=color, label=name)
            if baseline is not None:
                a.axhline(fn(baseline), color=color, ls="--", lw=1.2,
                          label=f"{baseline.method}: {fn(baseline):.3f} (dashed)")
        if log:
            a.set_xscale("log")
        a.set_xlabel(SYMBOLS.get(param, param) + (" (log scale)" if log else ""))
        a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
        a.grid(alpha=0.3)
    acc_ax.set_ylabel("test accuracy")
    acc_ax.set_ylim(0, 1.02)
    fgt_values = [r.summary()["forgetting"] for r in results] + ([baseline.summary()["forgetting"]] if baseline else [])
    fgt_ax.set_ylim(min(0.0, min(fgt_values)) - 0.01, max(fgt_values) * 1.15 + 0.01)
    fgt_ax.axhline(0, color="black", lw=0.8)
    fgt_ax.set_ylabel("average forgetting (lower is better)")
    method = results[0].method
    fig = acc_ax.figure
    fig.suptitle(title or f"{method}: sweeping {SYMBOLS.get(param, param)}")
    fig.tight_layout()
    return fig


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
    styles = ("--", ":", "-.", (0, (1, 3)))  # distinguishable even when the baselines nearly coincide
    for k, (name, value) in enumerate((baselines or {}).items()):
        a.axhline(value, ls=styles[k % len(styles)], lw=1.5, color=f"C{k + 3}", label=f"{name}: ACC {value:.3f}")
    a.set_xscale("log")
    a.set_ylim(0, 1.02)
    a.set_xlabel("buffer size (examples in memory, log scale)")
    a.set_ylabel("final ACC (all tasks)")
    a.set_title("replay: a larger memory forgets less")
    a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    a.grid(alpha=0.3)
    plot_acc_matrix(current, ax=b, title=f"R[i, j], buffer size = {size}")
    fig.tight_layout()
    return fig
