"""Memory Aware Synapses: importance from how much each parameter moves the network's output, no labels needed."""
from __future__ import annotations

import torch
from torch import nn

from ..fisher import per_sample_gradient_stat
from ..penalties import quadratic_penalty
from .base import Param, Strategy, register


def mas_importance(model: nn.Module, inputs: torch.Tensor, task: int | torch.Tensor | None = None,
                   method: str = "auto", chunk_size: int | None = None) -> dict[str, torch.Tensor]:
    """Omega = (1/N) sum_n |d ||z_n||^2 / d theta| per parameter, z_n the logits of the task's head on x_n.

    The output is the logits (before the softmax) that ``model(x, task)`` returns, i.e. only the given
    task's head of a multi-head model; the gradient is taken per sample, then its absolute value averaged
    (Aljundi et al. 2018). Same fast paths as `cl_helpers.fisher_diagonal` (closed form for Linear layers).
    """
    def directions(logits: torch.Tensor, start: int):
        # d ||z||^2 / dz = 2 z: one vector per sample, weight 1
        return (2 * logits)[None], torch.ones(1, len(logits), device=logits.device, dtype=logits.dtype)

    return per_sample_gradient_stat(model, inputs, directions, reduce="abs", task=task, method=method,
                                    chunk_size=chunk_size)


@register
class MAS(Strategy):
    """Memory Aware Synapses (Aljundi et al. 2018): penalty lam * sum_i Omega_i (theta_i - theta*_i)^2.

    At each task's end, Omega += `mas_importance` on `importance_samples` of the task's training inputs (drawn at
    random from the run's seed), through the task's head; theta* becomes the current parameters. The
    importance accumulates over tasks; no labels are used.

    Cost: per step, three element-wise operations per parameter tensor and one for the gradient
    (`quadratic_penalty`); the importance, at each task's end, one forward and backward over `importance_samples`
    inputs (closed form for Linear layers).
    """

    name = "mas"
    label = "MAS"
    params = {
        "lam": Param(0.1, 0.0, 1e12, low_open=True, log=True, help="penalty strength lambda"),
        "importance_samples": Param(1000, 1, 10_000_000, type=int, log=True,
                                    help="training inputs of each task the importance is averaged over"),
    }

    def setup(self, model, stream, config):
        """Zero importance and no anchor before the first task ends."""
        self.importance: dict[str, torch.Tensor] | None = None
        self.anchor: list[torch.Tensor] | None = None
        return super().setup(model, stream, config)

    def after_task(self, model, task, stream) -> None:
        """Add this task's importance to Omega; the anchor becomes the current parameters."""
        x, _, _ = self.task_subset(task, self.importance_samples)
        new = mas_importance(model, x, task=task.id)
        self.importance = new if self.importance is None else {k: v + new[k] for k, v in self.importance.items()}
        self.anchor = [p.detach().clone() for p in self.parameters_to_train(model)]

    def penalty(self, model):
        """lam * sum Omega (theta - theta*)^2; None before the first task ends."""
        if self.anchor is None:
            return None
        return quadratic_penalty(self.parameters_to_train(model), self.anchor, self.importance, self.lam)
