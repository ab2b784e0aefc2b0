"""LoRA: low-rank adapters on every nn.Linear of the transformer blocks, merged into the weights after training."""
from __future__ import annotations

from dataclasses import replace

from torch import nn

from ...lora import add_lora, merge_lora
from ...strategies.lora import LORA_PARAMS
from .base import Method, register

LORA_TARGETS = "blocks"  # every nn.Linear but the output head, like peft's "all-linear" (which skips lm_head)


@register
class LoRA(Method):
    """`cl_helpers.lora.add_lora` adapters of rank `rank` on the blocks' nn.Linear layers, not on the output head.

    The same `rank` and `alpha` as the MNIST strategy (strategies/lora.py, same checks), with this engine's own
    defaults, kept as chapter 8 was tuned: rank 4 (not 8; the toy's blocks are 32 to 128 wide), and alpha None
    meaning alpha = 2 * rank here (scale 2, the usual choice for language models, which the learning rate 5e-3
    was tuned with), where the MNIST strategy's None means alpha = rank. The learning rate defaults to 5e-3.
    """

    name = "lora"
    label = "LoRA"
    default_lr = 5e-3
    params = {
        "rank": replace(LORA_PARAMS["rank"], default=4, high=64, help="rank r of each adapter (1..64)"),
        "alpha": replace(LORA_PARAMS["alpha"], help="adapter scale: the update is (alpha / rank) * B A; "
                                                    "None: alpha = 2 * rank (the MNIST strategy's: rank)"),
    }

    def scale_alpha(self) -> float:
        """The alpha the adapters get: `alpha` if given, else 2 * rank."""
        return 2.0 * self.rank if self.alpha is None else self.alpha

    def setup(self, model: nn.Module, stage0, config) -> nn.Module:
        """Wrap the targeted layers in adapters (A random from torch's global generator, B zero); all else frozen."""
        model = super().setup(model, stage0, config)
        add_lora(model, self.rank, alpha=self.scale_alpha(), targets=LORA_TARGETS)
        return model

    def after_training(self, model: nn.Module) -> None:
        """Merge every adapter into its base weight (the update B A is then part of W)."""
        merge_lora(model)

    def tag(self) -> str:
        """The label's " r4" for rank 4, and the alpha when it was given: " r4 a16"."""
        return f" r{self.rank}" + ("" if self.alpha is None else f" a{self.alpha:g}")
