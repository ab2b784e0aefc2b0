"""A real language model's numbers, stage by stage: grouped bars of new skill, safety, over-refusal, knowledge."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

STAGE_METRICS = {"new_skill": "new skill (word problems solved)", "safety": "safety (harmful requests refused)",
                 "over_refusal": "over-refusal (harmless requests refused)", "knowledge": "knowledge (capitals named)"}


def plot_stage_bars(rows: Sequence[dict], metrics: Sequence[str] = tuple(STAGE_METRICS), ax=None,
                    title: str | None = None):
    """One group of bars per row (a stage such as 'before' or 'full'), one bar per metric, each labelled."""
    if not rows:
        raise ValueError("plot_stage_bars needs at least one row")
    unknown = [m for m in metrics if m not in STAGE_METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; allowed: {', '.join(STAGE_METRICS)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 1.9 * len(rows) + 2), 4.2))
    width = 0.8 / len(metrics)
    x = np.arange(len(rows))
    for k, metric in enumerate(metrics):
        values = [float(r[metric]) for r in rows]
        bars = ax.bar(x + (k - (len(metrics) - 1) / 2) * width, values, width, color=f"C{k}",
                      label=STAGE_METRICS[metric])
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v + 0.015, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [str(r["stage"]) for r in rows])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("share (0-1)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_title(title or "the real model, stage by stage")
    ax.grid(axis="y", alpha=0.3)
    return ax
