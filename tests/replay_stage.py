"""Shared by the generative replay and pseudo-rehearsal tests: a strategy at the start of task 1, the model changed."""
from __future__ import annotations

import torch

from cl_helpers import TrainConfig, build_model


def at_task_1_with_a_changed_model(stream, strategy):
    """Run `strategy`'s hooks through task 0, then perturb the model so the current and previous ones disagree."""
    model = strategy.setup(build_model(stream, (32,)), stream, TrainConfig())
    strategy.before_task(model, stream[0], stream)
    strategy.after_task(model, stream[0], stream)
    with torch.no_grad():
        model.head.weight.add_(torch.randn_like(model.head.weight))
    strategy.before_task(model, stream[1], stream)
    return model
