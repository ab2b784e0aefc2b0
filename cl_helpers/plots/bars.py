"""Bar charts: methods side by side, full vs LoRA fine-tuning, predicted classes, reservoir keep rates."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..results import RunResult

if TYPE_CHECKING:  # results of cl_helpers.experiments.finetune; plots never import experiments at run time
    from ..experiments.finetune import FinetuneResult


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


def plot_finetuning(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """Bars per method: new-task accuracy, old-task accuracy after fine-tuning, and forgetting."""
    if ax is None:
        _, ax = plt.subplots(figsize=(2.5 + 1.6 * len(results), 3.8))
    x = np.arange(len(results))
    bars = [("new task (learnt)", [r.new_after for r in results]),
            ("old task after", [r.old_after for r in results]),
            ("forgetting of old task", [r.forgetting for r in results])]
    for k, (name, values) in enumerate(bars):
        b = ax.bar(x + (k - 1) * 0.27, values, 0.27, label=name)
        ax.bar_label(b, fmt="%.2f", fontsize=8)
    ax.axhline(results[0].old_before, color="grey", ls="--", lw=0.8, label="old task before fine-tuning")
    ax.set_xticks(x, [f"{r.label}\n{r.trainable:,} params" for r in results])
    ax.set_ylim(0, 1.4)
    ax.set_ylabel("accuracy")
    ax.set_title(title or "full fine-tuning vs LoRA")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return ax.figure


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
