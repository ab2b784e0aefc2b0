"""PackNet: after each task prune its free weights by magnitude, retrain briefly, and freeze what it keeps."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..errors import ConfigError
from ..optim import make_optimizer
from .base import Param, Strategy, register

FREE = -1   # owner of a weight no task has kept (yet): trainable by the current task; zero once pruned


@register
class PackNet(Strategy):
    """PackNet (Mallya & Lazebnik 2018) on the multi-head MLP, for task-incremental streams.

    Every weight of the hidden layers has an owner: a task, or FREE. Task t trains the free weights only
    (and its own output head; the hidden biases train on task 0 and stay fixed after it, as in the paper).
    At the end of task t, in each layer, the fraction `prune` of the free weights with the smallest
    magnitude is set to zero and stays free; the others become task t's. Then `retrain_epochs` epochs
    retrain task t's weights with the pruned ones held at zero, and they are frozen for good.

    Inference for task k uses the weights owned by tasks 0..k and nothing else (zeros elsewhere), so
    task k's outputs are exactly what they were when it ended: no forgetting, given the task id at
    test time. The network never grows; each task takes a share (1 - prune) of what was free, so
    capacity runs out geometrically: after T tasks a fraction prune^T of the weights is free.

    Memory: one owner label per weight (one byte would do; stored as int8).
    """

    name = "packnet"
    label = "PackNet (task id at test)"
    params = {
        "prune": Param(0.5, 0.0, 1.0, high_open=True,
                       help="fraction of each task's free weights pruned (left free for later tasks)"),
        "retrain_epochs": Param(1, 0, 1000, type=int, help="epochs of retraining after pruning"),
    }

    def setup(self, model, stream, config):
        """Every hidden-layer weight starts free; needs a multi-head model (one head per task)."""
        super().setup(model, stream, config)
        if stream.scenario != "task" or getattr(model, "n_heads", 1) != len(stream):
            raise ConfigError(f"packnet needs the task id at test time and one head per task: scenario "
                              f"{stream.scenario!r} is not allowed; use scenario 'task'")
        self.pruned_names = [name for name, p in model.named_parameters()
                             if name.startswith("body.") and p.dim() == 2]
        self.owner = {name: torch.full(p.shape, FREE, dtype=torch.int8, device=p.device)
                      for name, p in model.named_parameters() if name in self.pruned_names}
        self.n_outputs = model.n_outputs
        self.t = -1
        self.masks: dict[str, torch.Tensor] = {}
        return model

    # ---- which weights task t may change --------------------------------------------------------------
    def trainable_masks(self, model: nn.Module, t: int, retraining: bool = False) -> dict[str, torch.Tensor]:
        """For each parameter, True where task t may change it: free weights (retraining: its own), its head."""
        masks = {}
        for name, p in model.named_parameters():
            if name in self.owner:
                masks[name] = self.owner[name] == (t if retraining else FREE)
            elif name.startswith("head."):
                m = torch.zeros_like(p, dtype=torch.bool)
                m[t * self.n_outputs:(t + 1) * self.n_outputs] = True
                masks[name] = m
            else:   # hidden biases: shared, trained with the first task only
                masks[name] = torch.full_like(p, t == 0, dtype=torch.bool)
        return masks

    def _freeze_others(self, model: nn.Module, t: int, retraining: bool = False) -> None:
        self.masks = self.trainable_masks(model, t, retraining)
        self.snapshot = {name: p.detach().clone() for name, p in model.named_parameters()}

    def before_task(self, model, task, stream) -> None:
        """Task t may change the free weights and its head; remember the rest to hold it exactly."""
        self.t = task.id
        self._freeze_others(model, task.id)

    def after_backward(self, model) -> None:
        """Zero the gradient of every weight task t may not change (the optimizer's moments stay zero there)."""
        for name, p in model.named_parameters():
            if p.grad is not None:
                p.grad.mul_(self.masks[name])

    def after_step(self, model) -> None:
        """Put back every weight task t may not change, bit for bit (a kept optimizer's momentum cannot move it)."""
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(torch.where(self.masks[name], p, self.snapshot[name]))

    # ---- end of a task: prune, retrain, freeze ---------------------------------------------------------
    def prune_task(self, model: nn.Module, t: int) -> None:
        """In each layer, zero the `prune` fraction of free weights with the smallest |w|; task t keeps the rest."""
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, owner in self.owner.items():
                w = params[name]
                free = owner == FREE
                n_prune = int(round(self.prune * int(free.sum())))
                magnitude = torch.where(free, w.abs(), torch.full_like(w, float("inf")))
                pruned = torch.zeros_like(free)
                if n_prune:
                    pruned.view(-1)[magnitude.view(-1).topk(n_prune, largest=False).indices] = True
                w[pruned] = 0.0
                owner[free & ~pruned] = t

    def retrain(self, model: nn.Module, task) -> None:
        """`retrain_epochs` epochs on the task with only its kept weights (and head) changing."""
        if self.retrain_epochs == 0:
            return
        self._freeze_others(model, task.id, retraining=True)
        optimizer = make_optimizer(model.parameters(), self.config)
        x, y, bs = task.x_train, task.y_train, self.config.batch_size
        gen = torch.Generator(device=x.device).manual_seed(self.config.seed * 1009 + task.id)
        for _ in range(self.retrain_epochs):
            order = torch.randperm(len(y), generator=gen, device=x.device)
            for s in range(0, len(y), bs):
                idx = order[s:s + bs]
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(x[idx], task.id), y[idx]).backward()
                self.after_backward(model)
                optimizer.step()
                self.after_step(model)

    def after_task(self, model, task, stream) -> None:
        """Prune the task's free weights, retrain what it keeps, and freeze it."""
        self.prune_task(model, task.id)
        self.retrain(model, task)
        self.masks, self.snapshot = {}, {}   # only needed while a task trains

    # ---- inference ----------------------------------------------------------------------------------------
    def task_weights(self, model: nn.Module, k: int) -> dict[str, torch.Tensor]:
        """The hidden-layer weights task k uses: those owned by tasks 0..k, zero elsewhere."""
        params = dict(model.named_parameters())
        return {name: torch.where((owner >= 0) & (owner <= k), params[name], torch.zeros((), device=owner.device))
                for name, owner in self.owner.items()}

    def forward(self, model, x, task):
        """An earlier task (int id) sees only its own and older weights; the current and later ones see all."""
        if isinstance(task, int) and task < self.t:
            return functional_call(model, self.task_weights(model, task), (x, task), strict=False)
        return model(x, task)

    def free_fraction(self) -> float:
        """Fraction of the hidden-layer weights no task owns (capacity left for later tasks)."""
        free = sum(int((o == FREE).sum()) for o in self.owner.values())
        return free / sum(o.numel() for o in self.owner.values())

    def trainable_share(self, t: int) -> float:
        """Fraction of the hidden-layer weights task t could train: those free when it started."""
        share = sum(int(((o == FREE) | (o >= t)).sum()) for o in self.owner.values())
        return share / sum(o.numel() for o in self.owner.values())
