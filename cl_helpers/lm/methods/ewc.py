"""EWC for the language model: full fine-tuning plus (lam/2) * sum F (theta - theta_0)^2 (chapter 3)."""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from ...strategies.ewc import EWC as MnistEWC
from ..penalties import ewc_loss, sequence_fisher
from ..train import ExtraLoss
from .base import Method, register

FISHER_EXAMPLES = 256


def fisher(stage0) -> dict[str, torch.Tensor]:
    """The stage-0 model's empirical Fisher on 256 stage-0 examples (computed once, cached)."""
    if "fisher" not in stage0.cache:
        data = stage0.world.stage0
        g = torch.Generator().manual_seed(20_000)
        stage0.cache["fisher"] = sequence_fisher(stage0.model, data.take(
            torch.randperm(len(data), generator=g)[:FISHER_EXAMPLES]))
    return stage0.cache["fisher"]


@register
class EWC(Method):
    """Full fine-tuning plus `lam`/2 * sum F (theta - theta_0)^2, F the empirical Fisher of the stage-0 model.

    `lam` is the MNIST strategy's parameter (strategies/ewc.py: same name and meaning). Its default differs,
    1e4 rather than 300, because this Fisher has another scale: it is of whole answers' log-likelihoods (summed
    over their tokens) on 256 stage-0 examples. As before, 0 is allowed (plain full fine-tuning) and there is
    no upper bound.
    """

    name = "ewc"
    label = "EWC"
    params = {"lam": replace(MnistEWC.params["lam"], default=1e4, low_open=False, high=None)}
    aliases = {"ewc_lambda": "lam"}

    def extra_loss(self, model: nn.Module) -> ExtraLoss:
        """The quadratic penalty anchored at the stage-0 weights (the model's weights before training)."""
        return ewc_loss(model, fisher(self.stage0), self.lam)

    def tag(self) -> str:
        """The label's " 1e+04": lambda."""
        return f" {self.lam:.0e}"
