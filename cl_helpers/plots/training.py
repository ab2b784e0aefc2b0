"""Accuracy during training: every task's curve on one global step axis, and a run's curves beside its matrix."""
from __future__ import annotations

import matplotlib.pyplot as plt

from ..results import RunResult
from .matrices import plot_acc_matrix

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per task, so curves differ in marker as well as colour


def plot_curves(result: RunResult, ax=None, title: str | None = None):
    """Accuracy on every task after each epoch, on the global step axis, with task boundaries drawn."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    steps = result.steps
    for j in range(result.n_tasks):
        # Solid from the moment task j is trained on, dotted before (untrained: forward transfer only).
        start = result.task_boundaries[j]
        before = steps <= start
        line, = ax.plot(steps[~before | (steps == start)], result.curve_acc[~before | (steps == start), j],
                        marker=MARKERS[j % len(MARKERS)], ms=4, label=_task_label(result, j))
        ax.plot(steps[before], result.curve_acc[before, j], ls=":", color=line.get_color(), alpha=0.6)
    for j, b in enumerate(result.task_boundaries[1:], start=1):
        ax.axvline(b, color="grey", ls="--", lw=0.8)
    ymax = ax.get_ylim()[1]
    for j, b in enumerate(result.task_boundaries):
        ax.text(b, 1.02, f" task {j}", transform=ax.get_xaxis_transform(), fontsize=8, color="grey")
    ax.set_ylim(0, max(1.0, ymax))
    ax.set_xlabel("training step (mini-batches, all tasks)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or f"{result.method}: accuracy on each task during training", pad=16)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(result.n_tasks, 5))
    ax.grid(alpha=0.3)
    return ax.figure


def _task_label(result: RunResult, j: int) -> str:
    name = result.task_names[j] if j < len(result.task_names) else ""
    return f"task {j} ({name})" if name else f"task {j}"


def plot_run(result: RunResult):
    """Curves and accuracy matrix of one run side by side."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [2.2, 1]})
    plot_curves(result, ax=a)
    plot_acc_matrix(result, ax=b)
    fig.tight_layout()
    return fig
