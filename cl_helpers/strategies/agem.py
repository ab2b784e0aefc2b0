"""A-GEM: project the gradient so that the loss on a memory of past tasks does not go up."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..buffer import ReplayBuffer
from ..penalties import flat_grad_of, flat_grads, set_flat_grads
from .base import Strategy, register
from .replay import memory_params


def project_gradient(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM's rule: g if g . g_ref >= 0, else g - (g . g_ref / g_ref . g_ref) g_ref (flat vectors).

    Written without a branch so that it never waits for the device: the coefficient is zero when the
    two gradients agree.
    """
    dot = torch.dot(g, g_ref)
    coef = torch.where(dot < 0, dot / torch.dot(g_ref, g_ref).clamp_min(1e-12), torch.zeros_like(dot))
    return g - coef * g_ref


@register
class AGEM(Strategy):
    """Averaged Gradient Episodic Memory (Chaudhry et al. 2019, "Efficient lifelong learning with A-GEM").

    At the end of each task its training examples are offered to an episodic memory of `buffer_size`
    examples (reservoir sampling, so tasks of equal size share it equally). On every later step, after
    the backward pass, the reference gradient g_ref of the cross-entropy on `replay_batch_size` memory
    examples is computed at the current parameters; if the step's gradient g points against it
    (g . g_ref < 0), g is replaced by its projection g - (g . g_ref / g_ref . g_ref) g_ref, the closest
    gradient that does not increase the memory loss to first order. g and g_ref are taken over all
    trainable parameters as one vector.

    Cost: from the second task on, each step has a second forward/backward on the memory batch (256
    examples by default, as in the paper), so a step costs about three naive steps; that is the
    method's own work.
    """

    name = "agem"
    label = "A-GEM"
    params = {
        **memory_params(256, "memory examples for the reference gradient"),
    }

    def setup(self, model, stream, config):
        """An empty episodic memory on the data's device, seeded from the run's seed."""
        self.memory = ReplayBuffer(self.buffer_size, "reservoir", seed=config.seed,
                                   device=stream[0].x_train.device)
        return super().setup(model, stream, config)

    def after_backward(self, model: nn.Module) -> None:
        """Replace the gradient by its projection when it would increase the loss on the memory."""
        if len(self.memory) == 0:
            return
        params = [p for p in self.parameters_to_train(model) if p.grad is not None]
        x, y, tids = self.memory.sample(self.replay_batch_size)
        # flat_grad_of leaves .grad (the step's gradient g) untouched.
        g_ref = flat_grad_of(F.cross_entropy(self.forward(model, x, tids), y), params)
        set_flat_grads(params, project_gradient(flat_grads(params), g_ref))

    def after_task(self, model, task, stream) -> None:
        """Offer the task's training examples (as the task showed them) to the episodic memory."""
        self.memory.add(task.x_train, task.y_train, task.id)
