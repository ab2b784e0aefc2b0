"""One hyperparameter swept over values on one stream: a table and a plot of what it trades (stability vs plasticity).

"New-task accuracy" here is the mean of R[j, j] over the tasks after the first (j >= 1): how well each new task
is learnt while the method protects the earlier ones. Task 0 is left out because no method constrains it.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .errors import ConfigError
from .results import RunResult
from .strategies import get_strategy
from .tasks import TaskStream
from .train import TrainConfig, train_stream


def new_task_accuracy(R) -> float:
    """Mean of R[j, j] over j >= 1: accuracy on each later task right after learning it (R[0, 0] for one task)."""
    R = np.asarray(R, dtype=float)
    d = np.diag(R)
    return float(d[1:].mean()) if len(d) > 1 else float(d[0])


def sweep(stream: TaskStream, method: str, param: str, values: Iterable[Any],
          hparams: Mapping[str, Any] | None = None, config: TrainConfig | None = None,
          progress: bool = False, **overrides) -> list[RunResult]:
    """Train `method` once per value of its hyperparameter `param` (others from `hparams`), same seed and data."""
    values = list(values)
    if not values:
        raise ConfigError(f"sweep of {method} {param} needs at least one value; allowed: a non-empty list")
    hparams = dict(hparams or {})
    # Every setting is checked (range, name) before any training starts.
    strategies = [get_strategy(method, **{**hparams, param: v}) for v in values]
    return [train_stream(stream, s, config, progress=progress, **overrides) for s in strategies]


def format_sweep(results: Sequence[RunResult], param: str, baseline: RunResult | None = None) -> str:
    """A plain-text table: the value of `param`, ACC, average forgetting, new-task accuracy, seconds."""
    lines = [f"{param:>12}{'ACC':>8}{'forgetting':>12}{'new-task acc':>14}{'seconds':>9}"]
    rows = ([(baseline.method, baseline)] if baseline is not None else []) + \
        [(f"{r.strategy.hparams[param]:g}" if isinstance(r.strategy.hparams[param], float) else
          str(r.strategy.hparams[param]), r) for r in results]
    for label, r in rows:
        s = r.summary()
        lines.append(f"{label:>12}{s['acc']:>8.4f}{s['forgetting']:>12.4f}"
                     f"{new_task_accuracy(r.acc_matrix):>14.4f}{r.seconds:>9.1f}")
    return "\n".join(lines)


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
