"""One LoRA adapter per task on a frozen shared base, picked by the task id (an architecture-based method).

Task 0 trains the full model, which then becomes the frozen base; each later task t trains its own adapter
and every example goes through the adapter of its task. Nothing that an earlier task uses ever changes, so
there is no forgetting, at the price of needing the task id at test time. Task 0 trains the full model
rather than an adapter on a frozen random base because a random base gives a rank-r adapter poor features
to work with: the first task would be learnt badly, and every later adapter builds on the same base.
A task whose adapter does not exist yet (a future task) is evaluated on the base alone, which is what FWT
measures.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..lora import check_rank, find_targets, init_adapter, replace_module
from .base import register
from .lora import AdapterStrategy


class TaskRoute:
    """What the per-task layers read: the task id(s) of the current batch and the tasks that have an adapter."""

    def __init__(self):
        self.task: int | torch.Tensor | None = None
        self.live: tuple[int, ...] = ()
        self.live_ids: torch.Tensor | None = None  # each live task id repeated rank times, on the device

    def set_live(self, tasks: tuple[int, ...], rank: int, device) -> None:
        """Make `tasks` the ones whose adapters are used."""
        self.live = tuple(tasks)
        self.live_ids = torch.tensor(tasks, device=device).repeat_interleave(rank) if tasks else None


class TaskLoRALinear(nn.Module):
    """A frozen nn.Linear plus one rank-r adapter per task >= 1; each example uses its own task's adapter."""

    def __init__(self, base: nn.Linear, n_tasks: int, rank: int, alpha: float | None, route: TaskRoute):
        super().__init__()
        self.rank = check_rank(rank, base)
        self.alpha = float(rank) if alpha is None else alpha
        self.scaling = self.alpha / rank
        self.base = base
        self.route = route
        w = base.weight
        self.A = nn.ParameterDict()
        self.B = nn.ParameterDict()
        for t in range(1, n_tasks):
            self.A[str(t)] = nn.Parameter(torch.empty(rank, base.in_features, device=w.device, dtype=w.dtype))
            self.B[str(t)] = nn.Parameter(torch.empty(base.out_features, rank, device=w.device, dtype=w.dtype))
            init_adapter(self.A[str(t)], self.B[str(t)])

    def adapter(self, t: int) -> list[nn.Parameter]:
        """Task t's A and B."""
        return [self.A[str(t)], self.B[str(t)]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) plus the adapter of each example's task (none for task 0 and for tasks not reached yet)."""
        out = self.base(x)
        task, live = self.route.task, self.route.live
        if task is None or not live:
            return out
        if isinstance(task, int):
            if task not in live:
                return out
            A, B = self.adapter(task)
            return out + self.scaling * F.linear(F.linear(x, A), B)
        # One task id per example: all live adapters side by side as one rank-(L*r) adapter, and a mask that
        # keeps, for each example, the r columns of its own task. No host sync, one product each way.
        A = torch.cat([self.A[str(t)] for t in live])
        B = torch.cat([self.B[str(t)] for t in live], dim=1)
        mask = task.view(-1, 1) == self.route.live_ids
        return out + self.scaling * F.linear(F.linear(x, A) * mask, B)

    def extra_repr(self) -> str:
        """Number of adapters, rank and alpha, for print(model)."""
        tasks = sorted(int(t) for t in self.A)
        span = f"{tasks[0]}..{tasks[-1]}" if tasks else "none"
        return f"adapters for tasks {span}, rank={self.rank}, alpha={self.alpha:g}"


@register
class LoRAPerTask(AdapterStrategy):
    """Task 0 trains the full model; each later task trains its own adapter on the frozen base."""

    name = "lora_per_task"
    label = "LoRA per task (task id at test)"

    def wrap(self, model: nn.Module, stream) -> None:
        """The target layers with every later task's adapter made now (a kept optimizer sees them all)."""
        self.route = TaskRoute()
        self.n_tasks = len(stream)
        chosen = find_targets(model, self.targets)
        for name, layer in chosen.items():
            check_rank(self.rank, layer, name)
        self.layers: list[TaskLoRALinear] = []
        for name, layer in chosen.items():
            wrapped = TaskLoRALinear(layer, len(stream), self.rank, self.alpha, self.route)
            replace_module(model, name, wrapped)
            self.layers.append(wrapped)

    def adapter_params(self, t: int | None = None) -> list[nn.Parameter]:
        """Task t's A and B in every layer (None: every task's)."""
        tasks = range(1, self.n_tasks) if t is None else [t]
        return [p for layer in self.layers for s in tasks for p in layer.adapter(s)]

    def start_adapter(self, t: int) -> None:
        """From task t on, examples of tasks 1..t go through their adapters."""
        device = self.layers[0].base.weight.device if self.layers else None
        self.route.set_live(tuple(range(1, t + 1)), self.rank, device)

    def forward(self, model: nn.Module, x: torch.Tensor, task) -> torch.Tensor:
        """The model with each example's task adapter switched in (training and evaluation alike)."""
        self.route.task = task
        try:
            return model(x, task)
        finally:
            self.route.task = None
