"""A LoRA rank sweep drawn against the rank: new-task accuracy and old-task forgetting, full fine-tuning for scale."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt

from .errors import ConfigError
from .finetune import FinetuneResult


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
