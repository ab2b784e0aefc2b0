"""What a training run returns: the accuracy matrix, curves on a global step axis, timing and config."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import metrics


@dataclass
class RunResult:
    """One run of one method over a task stream.

    acc_matrix[i, j] is the accuracy on task j after training task i (every task, trained or not);
    init_acc[j] the accuracy on task j of the untrained model (b_j, for FWT). The curves hold one row
    per evaluation: `steps[k]` optimizer steps done so far, `curve_acc[k, j]` accuracy on task j.
    """

    method: str
    acc_matrix: np.ndarray
    init_acc: np.ndarray
    steps: np.ndarray
    curve_acc: np.ndarray
    task_boundaries: list[int]
    epoch_loss: list[float]
    seconds: float
    train_seconds: float
    config: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    task_names: list[str] = field(default_factory=list)
    model: Any = field(default=None, repr=False, compare=False)
    strategy: Any = field(default=None, repr=False, compare=False)

    @property
    def n_tasks(self) -> int:
        """Number of tasks in the stream."""
        return len(self.init_acc)

    def summary(self) -> dict[str, float]:
        """ACC, average forgetting, BWT and FWT of this run (see cl_helpers.metrics for definitions)."""
        R, b = self.acc_matrix, self.init_acc
        return {
            "acc": metrics.average_accuracy(R),
            "forgetting": metrics.average_forgetting(R),
            "bwt": metrics.backward_transfer(R),
            "fwt": metrics.forward_transfer(R, b),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: config, data source, accuracy matrix, metrics, curves and seconds."""
        return {
            "method": self.method,
            **self.summary(),
            "seconds": round(self.seconds, 3),
            "train_seconds": round(self.train_seconds, 3),
            "acc_matrix": np.round(self.acc_matrix, 6).tolist(),
            "init_acc": np.round(self.init_acc, 6).tolist(),
            "task_names": self.task_names,
            "steps": self.steps.tolist(),
            "curve_acc": np.round(self.curve_acc, 6).tolist(),
            "task_boundaries": self.task_boundaries,
            "config": self.config,
            "source": self.source,
        }
