"""Mixing stage-0 data into the new data: replay (old examples), self_replay (old prompts, the old model's
answers) and safety_data (refusal examples only). One idea, three sources of the mixed-in sequences."""
from __future__ import annotations

import torch

from ...strategies.base import Param
from ..data import LMData
from ..generate import generate
from .base import Method, register

FRACTION = Param(0.05, 0.0, 1.0, low_open=True,
                 help="share of the stage-0 training set mixed in (safety_data: as many refusal examples)")


def replay_set(stage0, fraction: float, seed: int, own_answers: bool = False) -> LMData:
    """A random `fraction` of the stage-0 training set; with own_answers, the stage-0 model's answers replace the labels."""
    key = ("replay", fraction, seed, own_answers)
    if key not in stage0.cache:
        data = stage0.world.stage0
        g = torch.Generator().manual_seed(10_000 + seed)
        chosen = data.take(torch.randperm(len(data), generator=g)[:max(1, round(fraction * len(data)))])
        if own_answers:  # the old model answers the old prompts; its answers replace the labels
            chosen = LMData(chosen.prompts, generate(stage0.model, chosen.prompts), chosen.families)
        stage0.cache[key] = chosen
    return stage0.cache[key]


def safety_set(stage0, fraction: float, seed: int) -> LMData:
    """round(fraction * |stage-0 training set|) refusal examples: the forbidden family, shuffled, repeated if needed."""
    key = ("safety", fraction, seed)
    if key not in stage0.cache:
        data = stage0.world.stage0
        refusals = data.family("forbidden")
        g = torch.Generator().manual_seed(30_000 + seed)
        order = torch.randperm(len(refusals), generator=g).tolist()
        n = max(1, round(fraction * len(data)))
        stage0.cache[key] = refusals.take([order[i % len(order)] for i in range(n)])
    return stage0.cache[key]


@register
class Replay(Method):
    """The new data plus a random `fraction` of the stage-0 training set, with its labels (chapter 5)."""

    name = "replay"
    label = "Replay"
    params = {"fraction": FRACTION}
    aliases = {"replay_fraction": "fraction"}
    own_answers = False

    def training_data(self, data: LMData) -> LMData:
        """The new data, then the replayed stage-0 examples (drawn from the run's seed, cached per stage 0)."""
        return data + replay_set(self.stage0, self.fraction, self.config.seed, self.own_answers)

    def tag(self) -> str:
        """The label's " 5%": the fraction mixed in."""
        return f" {self.fraction:.0%}"


@register
class SelfReplay(Replay):
    """The same stage-0 prompts as replay, answered by the stage-0 model itself (greedy) instead of their labels.

    No old labels needed, only the old model. (It was called ``self_instruct``; the homework's "self-instruct"
    file is something else: the NEW task's questions answered by the old model, i.e. self-distillation, which
    `finetune.self_distill_set` builds for this toy.)
    """

    name = "self_replay"
    label = "Self-replay"
    own_answers = True


@register
class SafetyData(Replay):
    """The new data plus refusal examples only, as many as `fraction` of the stage-0 training set.

    Bianchi et al. 2024 add safety examples so, without the benign look-alikes that `replay` brings along.
    """

    name = "safety_data"
    label = "Safety data"

    def training_data(self, data: LMData) -> LMData:
        """The new data, then the refusal examples."""
        return data + safety_set(self.stage0, self.fraction, self.config.seed)
