"""Progressive Networks: a new column of layers per task; earlier columns frozen, read through lateral links."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .base import Strategy, register


class ProgressiveNet(nn.Module):
    """`n_columns` MLP columns; layer l >= 1 of column k also reads layer l-1 of every column j < k (linear laterals).

    Column k's output is its own head: task k's logits. Computing them needs columns 0..k only, so a
    later column can never change an earlier task's outputs.
    """

    def __init__(self, input_size: int, hidden: Sequence[int], n_outputs: int, n_columns: int):
        super().__init__()
        self.widths = [input_size, *hidden, n_outputs]
        self.n_columns = n_columns
        self.active = n_columns   # columns a batch of mixed task ids is computed through (set per task)
        self.columns = nn.ModuleList()
        self.laterals = nn.ModuleList()
        for k in range(n_columns):
            w = self.widths
            self.columns.append(nn.ModuleList(nn.Linear(w[i], w[i + 1]) for i in range(len(w) - 1)))
            # Column 0 has no earlier columns to read; column k reads the k earlier ones, side by side.
            self.laterals.append(nn.ModuleList(nn.Linear(k * w[i], w[i + 1], bias=False)
                                               for i in range(1, len(w) - 1)) if k else nn.ModuleList())

    def column_logits(self, x: torch.Tensor, upto: int) -> list[torch.Tensor]:
        """The logits of columns 0..upto on inputs x."""
        acts = [x.flatten(1)] * (upto + 1)
        last = len(self.widths) - 2
        for i in range(last + 1):
            new = []
            for k in range(upto + 1):
                out = self.columns[k][i](acts[k])
                if i >= 1 and k >= 1:
                    out = out + self.laterals[k][i - 1](torch.cat(acts[:k], dim=1))
                new.append(out if i == last else F.relu(out))
            acts = new
        return acts

    def forward(self, x: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        """Logits of each example's own column (`task`: one id, or one per example below `active`)."""
        if isinstance(task, int):
            return self.column_logits(x, task)[task]
        out = torch.stack(self.column_logits(x, self.active - 1), dim=1)
        return out.gather(1, task.view(-1, 1, 1).expand(-1, 1, out.shape[2])).squeeze(1)

    def column(self, k: int) -> list[nn.Parameter]:
        """Column k's parameters: its layers and its laterals from earlier columns."""
        return [*self.columns[k].parameters(), *self.laterals[k].parameters()]

    def n_parameters(self, n_columns: int) -> int:
        """Scalars in the first `n_columns` columns (what the network holds after that many tasks)."""
        return sum(p.numel() for k in range(n_columns) for p in self.column(k))


@register
class Progressive(Strategy):
    """Progressive Neural Networks (Rusu et al. 2016) for task-incremental streams.

    Task t trains column t alone (its layers and its lateral connections); every earlier column is frozen
    and feeds column t through the laterals, so old features are reused but never changed, and each task
    is answered by its own column: no forgetting at all, given the task id at test time. The price is
    capacity: every task adds a full column plus laterals from all earlier ones, so the parameters grow
    with each task (column k costs one column plus k laterals per layer after the first). The laterals
    here are plain linear maps; Rusu et al. also put a small non-linear adapter on them.

    The model given to the run is replaced by a ProgressiveNet with the run's hidden sizes per column.
    """

    name = "progressive"
    label = "Progressive Networks (task id at test)"

    def setup(self, model, stream, config):
        """A ProgressiveNet with one column per task, all frozen until their task starts."""
        super().setup(model, stream, config)
        if stream.scenario != "task":
            raise ConfigError(f"progressive needs the task id at test time: scenario {stream.scenario!r} is not "
                              "allowed; use scenario 'task'")
        device = stream[0].x_train.device
        net = ProgressiveNet(stream.input_size, config.hidden, stream.n_outputs, len(stream)).to(device)
        net.requires_grad_(False)
        return net

    def before_task(self, model, task, stream) -> None:
        """Only column `task.id` trains; batches go through the columns up to it."""
        model.requires_grad_(False)
        for p in model.column(task.id):
            p.requires_grad_(True)
        model.active = task.id + 1

    def parameters_to_train(self, model):
        """Every parameter; frozen columns get no gradient and the optimizer skips them (a kept Adam too)."""
        return list(model.parameters())

    def after_task(self, model, task, stream) -> None:
        """Freeze the finished column."""
        model.requires_grad_(False)
