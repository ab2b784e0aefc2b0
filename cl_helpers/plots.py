"""Plots of runs: accuracy curves on one global step axis, the accuracy-matrix heatmap, method comparisons."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .results import RunResult


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
                        marker="o", ms=3, label=_task_label(result, j))
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
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax.figure


def _task_label(result: RunResult, j: int) -> str:
    name = result.task_names[j] if j < len(result.task_names) else ""
    return f"task {j} ({name})" if name else f"task {j}"


def plot_task_examples(stream, n: int = 6, index: int = 0):
    """The first `n` test images of every task as the model sees them (permuted, rotated, or a class pair)."""
    T = len(stream)
    fig, axes = plt.subplots(T, n, figsize=(1.1 * n, 1.15 * T), squeeze=False)
    for t, task in enumerate(stream):
        for k in range(n):
            ax = axes[t][k]
            ax.imshow(task.x_test[index + k].view(*stream.image_shape).cpu(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"label {int(task.y_test[index + k])}", fontsize=7)
        axes[t][0].set_ylabel(f"task {t}\n{task.name}", fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def plot_predictions(result: RunResult, task_id: int = 0, ax=None):
    """Which classes the final model predicts for task `task_id`'s test images, next to the true classes."""
    import torch

    stream_task = result.strategy.stream[task_id]
    model, strategy = result.model, result.strategy
    model.eval()
    with torch.no_grad():
        pred = strategy.forward(model, stream_task.x_test, task_id).argmax(1).cpu()
    n_out = int(max(pred.max(), stream_task.y_test.max())) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    true = torch.bincount(stream_task.y_test.cpu(), minlength=n_out)
    got = torch.bincount(pred, minlength=n_out)
    x = np.arange(n_out)
    ax.bar(x - 0.2, true.numpy(), 0.4, label="true class")
    ax.bar(x + 0.2, got.numpy(), 0.4, label="predicted class (final model)")
    ax.set_xticks(x)
    ax.set_xlabel("class")
    ax.set_ylabel("test images")
    ax.set_title(f"{result.method}: task {task_id} ({stream_task.name}) after all {result.n_tasks} tasks")
    ax.legend(fontsize=8)
    return ax.figure


def plot_acc_matrix(result_or_matrix, ax=None, title: str | None = None):
    """Heatmap of R[i, j] (accuracy on task j after training task i) with the numbers written in."""
    R = result_or_matrix.acc_matrix if isinstance(result_or_matrix, RunResult) else np.asarray(result_or_matrix)
    if ax is None:
        size = 1.0 + 0.7 * len(R)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(R, vmin=0, vmax=1, cmap="viridis")
    for i in range(R.shape[0]):
        for j in range(R.shape[1]):
            ax.text(j, i, f"{R[i, j]:.2f}", ha="center", va="center", fontsize=9,
                    color="black" if R[i, j] > 0.6 else "white")
    ax.set_xticks(range(R.shape[1]))
    ax.set_yticks(range(R.shape[0]))
    ax.set_xlabel("evaluated on task j")
    ax.set_ylabel("after training task i")
    name = result_or_matrix.method if isinstance(result_or_matrix, RunResult) else ""
    ax.set_title(title or f"accuracy matrix R[i, j] {name}".strip())
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure


def plot_comparison(results: Sequence[RunResult], ax=None, title: str | None = None):
    """Bar chart of ACC and average forgetting per method."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 + 1.1 * len(results), 3.8))
    names = [r.method for r in results]
    summ = [r.summary() for r in results]
    x = np.arange(len(results))
    acc = ax.bar(x - 0.2, [s["acc"] for s in summ], 0.4, label="ACC (final average accuracy)")
    fgt = ax.bar(x + 0.2, [s["forgetting"] for s in summ], 0.4, label="average forgetting")
    ax.bar_label(acc, fmt="%.2f", fontsize=8)
    ax.bar_label(fgt, fmt="%.2f", fontsize=8)
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_title(title or "method comparison")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return ax.figure


def plot_run(result: RunResult):
    """Curves and accuracy matrix of one run side by side."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [2.2, 1]})
    plot_curves(result, ax=a)
    plot_acc_matrix(result, ax=b)
    fig.tight_layout()
    return fig
