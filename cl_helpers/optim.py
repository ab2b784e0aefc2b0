"""The optimizer every training loop of the course uses (the engine's and PackNet's retraining alike)."""
from __future__ import annotations

from typing import Iterable, Protocol

import torch


class OptimizerSettings(Protocol):
    """What make_optimizer reads of a configuration (TrainConfig has both)."""

    optimizer: str
    lr: float


def make_optimizer(params: Iterable[torch.nn.Parameter], config: OptimizerSettings) -> torch.optim.Optimizer:
    """A fresh optimizer of the configured kind ("adam" or "sgd") over `params`."""
    params = list(params)
    if config.optimizer == "adam":
        # The fused kernel updates all parameters in one pass instead of ~10 element-wise passes per
        # tensor (the same Adam up to float rounding); where this torch or device lacks it, the default.
        try:
            return torch.optim.Adam(params, lr=config.lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr)
