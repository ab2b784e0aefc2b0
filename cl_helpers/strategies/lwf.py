"""Learning without Forgetting: distil the previous model's outputs on the current inputs."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .base import Param, Strategy, register


def distillation_loss(new_logits: torch.Tensor, old_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(softmax(old / T) || softmax(new / T)), averaged over the batch (zero when they are equal).

    The T^2 factor keeps the gradient's size independent of T (Hinton et al. 2015).
    """
    log_new = F.log_softmax(new_logits / temperature, dim=1)
    log_old = F.log_softmax(old_logits / temperature, dim=1)
    return temperature ** 2 * F.kl_div(log_new, log_old, reduction="batchmean", log_target=True)


@register
class LwF(Strategy):
    """Learning without Forgetting (Li & Hoiem 2016), with a frozen copy of the model from each task's end.

    On task t > 0 the loss is cross-entropy + alpha * T^2 * KL(softmax(old/T) || softmax(new/T)), where
    "old" is the frozen model from the end of task t-1 and both models see the current task's inputs
    (no stored data). Which outputs are distilled:

    * multi-head (task-incremental): each past task's head, one KL term per head, summed as in the paper;
    * single head: the output units of the classes that past tasks used (their union). In domain-
      incremental streams (permuted, rotated, split domain-IL) that is every unit; in class-incremental
      streams it is the units of the past classes only, so the new classes' units stay free to learn.

    Cost: one extra forward of the frozen model per step (no backward through it), plus, for multi-head,
    one forward of the current model over the past heads.
    """

    name = "lwf"
    label = "LwF"
    params = {
        "alpha": Param(1.0, 0.0, 1e4, help="weight of the distillation term", log=True),
        "temperature": Param(2.0, 0.0, 100.0, low_open=True, help="softmax temperature T"),
    }

    def setup(self, model, stream, config):
        """No old model before the first task has ended."""
        self.old_model: nn.Module | None = None
        self.task = 0
        self.past_units: torch.Tensor | None = None
        return super().setup(model, stream, config)

    def before_task(self, model, task, stream) -> None:
        """Remember which task is being trained (its number of past heads)."""
        self.task = task.id

    def after_task(self, model, task, stream) -> None:
        """Freeze a copy of the model as it is at the end of this task."""
        self.old_model = copy.deepcopy(model).eval().requires_grad_(False)
        units = sorted({c for past in stream.tasks[:task.id + 1] for c in past.classes})
        self.past_units = torch.tensor(units, device=task.x_train.device)

    def distillation(self, model: nn.Module, x: torch.Tensor, tids: torch.Tensor,
                     logits: torch.Tensor | None = None) -> torch.Tensor:
        """The term T^2 * KL(old || new) on inputs `x`, without alpha; zero before the first task ends.

        `logits`, the current model's output on `x` when already computed, saves a forward (single head).
        """
        if self.old_model is None:
            return torch.zeros((), device=x.device)
        if getattr(model, "n_heads", 1) > 1:
            # Every past head on every input: one forward over the batch repeated once per past head.
            heads = torch.arange(self.task, device=x.device).repeat_interleave(len(x))
            xs = x.repeat(self.task, *([1] * (x.dim() - 1)))
            with torch.no_grad():
                old = self.forward(self.old_model, xs, heads)
            new = self.forward(model, xs, heads)
            # batchmean over (past heads x batch), times the number of heads: the sum of per-head terms
            return self.task * distillation_loss(new, old, self.temperature)
        with torch.no_grad():
            old = self.forward(self.old_model, x, tids)[:, self.past_units]
        new = logits if logits is not None else self.forward(model, x, tids)
        return distillation_loss(new[:, self.past_units], old, self.temperature)

    def loss(self, model, x, y, tids, logits):
        """Cross-entropy on the current task plus alpha times the distillation term."""
        ce = F.cross_entropy(logits, y)
        if self.old_model is None or self.alpha == 0:
            return ce
        return ce + self.alpha * self.distillation(model, x, tids, logits)
