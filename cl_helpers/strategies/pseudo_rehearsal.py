"""Pseudo-rehearsal: random inputs labelled by the previous model, replayed as if they were old data."""
from __future__ import annotations

import torch

from .base import Param, register
from .generative_replay import GenerativeReplay


@register
class PseudoRehearsal(GenerativeReplay):
    """Pseudo-rehearsal (Robins 1995): generative replay whose "generator" is noise and never learns.

    While training task t > 0, every mini-batch is joined by `replay_batch_size` random inputs, each pixel
    uniform over the range the inputs span, with the previous classifier's outputs on them as targets
    (soft targets by default, as Robins used the old network's outputs; hard labels with distill=false),
    mixed 1/t : (t-1)/t with the current batch as in `generative_replay_loss`. It keeps the old
    function's values at points that look nothing like the data: the lesson is where that suffices.

    Memory: nothing stored but a frozen copy of the classifier while training. Cost: one old-classifier
    forward of the replay batch per step.
    """

    name = "pseudo_rehearsal"
    label = "Pseudo-rehearsal (noise)"
    params = {
        "distill": Param(True, type=bool, help="soft targets (the old model's outputs) instead of hard labels"),
        "temperature": GenerativeReplay.params["temperature"],
        "replay_batch_size": GenerativeReplay.params["replay_batch_size"],
    }

    def build_generator(self, stream) -> None:
        """No generator: the inputs are noise, and nothing learns the data."""
        self.generator = None

    def dream(self, n: int) -> torch.Tensor:
        """`n` inputs with each value uniform in [lo, hi], the range of the first task's inputs."""
        u = torch.rand(n, self.stream.input_size, generator=self.replay_gen, device=self.device)
        return self.lo + u * (self.hi - self.lo)

