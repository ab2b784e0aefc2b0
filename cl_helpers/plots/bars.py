"""Bar charts: methods side by side, full vs LoRA fine-tuning, predicted classes, reservoir keep rates."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..errors import ConfigError
from ..results import RunResult

if TYPE_CHECKING:  # results of cl_helpers.experiments.finetune; plots never import experiments at run time
    from ..experiments.finetune import FinetuneResult


def _pair(ax, n_bars: int, height: float = 3.8):
    """Two axes side by side (accuracy, forgetting): the given pair, or a new figure sized for n_bars groups."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(2.0 + 1.3 * n_bars, height))
        return ax
    if isinstance(ax, (list, tuple, np.ndarray)) and len(ax) == 2:
        return ax
    raise ConfigError(f"ax {ax!r} is not a pair of axes; allowed: None or two matplotlib Axes (accuracy, forgetting)")


def forgetting_axis(ax, values) -> None:
    """Label an axis as forgetting (never 'accuracy') and make room for negative bars and their labels."""
    values = np.asarray(values, dtype=float)
    low, high = min(0.0, float(np.min(values))), max(0.0, float(np.max(values)))
    pad = 0.25 * max(high - low, 0.05)   # room for two-line labels (mean, then ± sd) above and below the bars
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("average forgetting (lower is better)")


def _seeds(results) -> list[list[RunResult]]:
    """Each entry as a list of runs: a RunResult alone, or the same method over several seeds."""
    return [[r] if isinstance(r, RunResult) else list(r) for r in results]


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def plot_comparison(results, ax=None, title: str | None = None):
    """ACC and average forgetting per method, on two axes; a method given as several seeds' runs shows mean +- sd.

    `results`: RunResults, or per method a list of RunResults (one per seed). `ax`: None or a pair of axes.
    """
    groups = _seeds(results)
    acc_ax, fgt_ax = _pair(ax, len(groups))
    names = [g[0].method for g in groups]
    acc = [_mean_sd([r.summary()["acc"] for r in g]) for g in groups]
    fgt = [_mean_sd([r.summary()["forgetting"] for r in g]) for g in groups]
    n_seeds = min(len(g) for g in groups)
    x = np.arange(len(groups))
    for a, stats, color, label in ((acc_ax, acc, "C0", "final average accuracy (ACC)"),
                                   (fgt_ax, fgt, "C3", "average forgetting")):
        means, sds = [m for m, _ in stats], [sd for _, sd in stats]
        bars = a.bar(x, means, 0.6, color=color, yerr=sds if n_seeds > 1 else None, capsize=3,
                     error_kw={"lw": 1})
        fmt = [f"{round(m, 2) + 0.0:.2f}" + (f"\n±{sd:.2f}" if n_seeds > 1 else "") for m, sd in stats]   # no "-0.00"
        a.bar_label(bars, labels=fmt, fontsize=7, padding=2)
        a.set_xticks(x, names, rotation=30, ha="right")
        a.set_title(label + (f", mean ± sd over {n_seeds} seeds" if n_seeds > 1 else ""), fontsize=10)
        a.grid(axis="y", alpha=0.3)
    acc_ax.set_ylim(0, 1.18)
    acc_ax.set_ylabel("ACC (higher is better)")
    forgetting_axis(fgt_ax, [m - sd for m, sd in fgt] + [m + sd for m, sd in fgt])
    fig = acc_ax.figure
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_finetuning(results: Sequence[FinetuneResult], ax=None, title: str | None = None,
                    labels: Sequence[str] | None = None):
    """Per method: new-task and old-task accuracy after fine-tuning (left), forgetting of the old task (right).

    `labels`: one name per result instead of its own label ("full", "LoRA r=8"); ", " starts a new line.
    """
    if labels is not None and len(labels) != len(results):
        raise ConfigError(f"{len(labels)} labels for {len(results)} results; allowed: one label per result")
    if ax is None:  # about 1.1 inch per group and axis: the three-line tick labels never touch
        _, ax = plt.subplots(1, 2, figsize=(2.6 + 2.3 * len(results), 4.0))
    acc_ax, fgt_ax = _pair(ax, len(results) + 1)
    x = np.arange(len(results))
    for k, (name, values) in enumerate((("new task, after", [r.new_after for r in results]),
                                        ("old task, after", [r.old_after for r in results]))):
        b = acc_ax.bar(x + (k - 0.5) * 0.36, values, 0.36, label=name, color=f"C{k}")
        # a white box under each label: the dotted "before" line runs at about the bars' height and must not cross it
        acc_ax.bar_label(b, fmt="%.2f", fontsize=8, padding=2, bbox=dict(fc="white", ec="none", pad=0.4), zorder=4)
    acc_ax.axhline(results[0].old_before, color="grey", ls=":", lw=1.2, zorder=1,
                   label=f"old task before fine-tuning ({results[0].old_before:.3f})")
    names = [r.label for r in results] if labels is None else list(labels)
    ticks = [f"{name}".replace(", ", "\n") + f"\n{r.trainable:,} params" for name, r in zip(names, results)]
    acc_ax.set_xticks(x, ticks, fontsize=8)
    acc_ax.set_ylim(0, 1.3)  # headroom: the legend sits above the bars, clear of the tick labels below
    acc_ax.set_yticks(np.linspace(0, 1, 6))
    acc_ax.set_ylabel("test accuracy")
    acc_ax.set_title(title or "full fine-tuning vs LoRA", fontsize=10)
    acc_ax.legend(fontsize=7.5, loc="upper center", ncol=2)
    acc_ax.grid(axis="y", alpha=0.3)
    fgt = [r.forgetting for r in results]
    b = fgt_ax.bar(x, fgt, 0.5, color="C3")
    fgt_ax.bar_label(b, fmt="%.3f", fontsize=8, padding=2)
    fgt_ax.set_xticks(x, ticks, fontsize=8)
    fgt_ax.set_title("forgetting of the old task (before - after)", fontsize=10)
    forgetting_axis(fgt_ax, fgt)
    fgt_ax.set_ylabel("forgetting (lower is better)")
    fgt_ax.grid(axis="y", alpha=0.3)
    fig = acc_ax.figure
    fig.tight_layout()
    return fig


def prediction_counts(result: RunResult, task_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) class counts of the final model on task `task_id`'s test images, one entry per class."""
    import torch

    stream_task = result.strategy.stream[task_id]
    model, strategy = result.model, result.strategy
    model.eval()
    with torch.no_grad():
        pred = strategy.forward(model, stream_task.x_test, task_id).argmax(1).cpu()
    n_out = int(max(pred.max(), stream_task.y_test.max())) + 1
    true = torch.bincount(stream_task.y_test.cpu(), minlength=n_out)
    return true.numpy(), torch.bincount(pred, minlength=n_out).numpy()


def plot_predictions(result: RunResult, task_id: int = 0, ax=None):
    """Which classes the final model predicts for task `task_id`'s test images, next to the true classes."""
    stream_task = result.strategy.stream[task_id]
    true, got = prediction_counts(result, task_id)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(true))
    ax.bar(x - 0.2, true, 0.4, label="true class")
    ax.bar(x + 0.2, got, 0.4, label="predicted class (final model)")
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
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return ax.figure
