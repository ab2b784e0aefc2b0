"""One hyperparameter swept over values on one stream, and a table of what it trades (stability vs plasticity).

"New-task accuracy" here is the mean of R[j, j] over the tasks after the first (j >= 1): how well each new task
is learnt while the method protects the earlier ones. Task 0 is left out because no method constrains it.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..metrics import new_task_accuracy

from ..errors import ConfigError
from ..results import RunResult
from ..strategies import get_strategy
from ..tasks import TaskStream
from ..train import TrainConfig, train_stream


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
