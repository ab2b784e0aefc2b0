"""KL to the stage-0 model: full fine-tuning plus alpha * KL(stage-0 model || model) on the new data (LwF, ch. 5)."""
from __future__ import annotations

import copy
from dataclasses import replace

from torch import nn

from ...strategies.lwf import LwF
from ..penalties import kl_loss
from ..train import ExtraLoss
from .base import Method, register


@register
class KL(Method):
    """Full fine-tuning plus `alpha` * the mean KL(stage-0 model || model) of the next-token distributions.

    LwF's idea (strategies/lwf.py) with the frozen stage-0 model as the teacher, on the new data's own prompts;
    `alpha` is LwF's name for the weight of this term (it was `kl_weight` here). Unlike LwF there is no
    temperature (T = 1), and the weight has no upper bound.
    """

    name = "kl"
    label = "KL to stage 0"
    params = {"alpha": replace(LwF.params["alpha"], high=None,
                               help="weight of the KL(stage-0 model || model) term")}
    aliases = {"kl_weight": "alpha"}

    def extra_loss(self, model: nn.Module) -> ExtraLoss:
        """The KL to a frozen copy of the stage-0 model, one more forward pass of it per step."""
        return kl_loss(copy.deepcopy(self.stage0.model), self.alpha)

    def tag(self) -> str:
        """The label's " 1": the weight."""
        return f" {self.alpha:g}"
