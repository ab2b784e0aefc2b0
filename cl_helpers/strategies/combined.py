"""Several strategies at once, e.g. EWC + replay: each part keeps its own state, the engine sees one strategy.

The hooks of the parts run in the order the parts are named ("ewc+replay": EWC's, then replay's):

- `setup` is chained (each part gets the model the previous one returned), and `before_task`,
  `after_task_backward`, `after_step` and `after_task` run for every part, in order;
- `penalty` is the sum of the parts' penalties (EWC's and SI's quadratic terms add up);
- the hooks that decide what is trained and how have one owner: the part that overrides them, or the base
  behaviour when none does. They come in groups: the model (`parameters_to_train`, `fresh_parameters`,
  `forward`: LoRA, PackNet, Progressive Networks), `training_data` (joint), `make_batch` (replay, generative
  replay), `loss` (LwF, generative replay) and `after_backward` (A-GEM, PackNet). Two parts that both override
  a hook of one group cannot be combined (two architectures, two gradient projections, two batch builders):
  that is refused with one line.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn

from ..errors import ConfigError
from .base import REGISTRY, Strategy

SEPARATOR = "+"
# Groups of hooks that one part at most may override, by what they decide.
OWNED = {"the model": ("parameters_to_train", "fresh_parameters", "forward"), "training_data": ("training_data",),
         "make_batch": ("make_batch",), "loss": ("loss",), "after_backward": ("after_backward",)}
ALL_PARTS = ("before_task", "after_task_backward", "after_step", "after_task")


def _overrides(part: Strategy, hook: str) -> bool:
    return getattr(type(part), hook) is not getattr(Strategy, hook)


class Combined(Strategy):
    """The parts' hooks in the order named; owned hooks come from the one part that overrides them."""

    label = "Combined"

    def __init__(self, parts: Iterable[Strategy]):
        self.parts = list(parts)
        names = [p.name for p in self.parts]
        if len(self.parts) < 2:
            raise ConfigError(f"a combination needs two or more methods, got {SEPARATOR.join(names) or 'none'}")
        if len(set(names)) != len(names):
            raise ConfigError(f"the combination {SEPARATOR.join(names)!r} names a method twice")
        self.name = SEPARATOR.join(names)
        self.label = " + ".join(p.label for p in self.parts)
        self.owner: dict[str, Strategy | None] = {}
        for group, hooks in OWNED.items():
            owners = [p for p in self.parts if any(_overrides(p, h) for h in hooks)]
            if len(owners) > 1:
                raise ConfigError(f"cannot combine {owners[0].name} and {owners[1].name}: both change "
                                  f"{group} ({'/'.join(hooks)}); combine one of them with a method that does "
                                  "not (e.g. ewc, si or mas with replay)")
            for hook in hooks:
                self.owner[hook] = owners[0] if owners else None
        self.config: Any = None
        self.stream: Any = None

    @property
    def hparams(self) -> dict[str, Any]:
        """Each part's hyperparameters, prefixed with its name (ewc.lam, replay.buffer_size)."""
        return {f"{p.name}.{k}": v for p in self.parts for k, v in p.hparams.items()}

    def __repr__(self) -> str:
        return f"Combined({', '.join(map(repr, self.parts))})"

    def setup(self, model: nn.Module, stream, config) -> nn.Module:
        """Every part's setup, in order, each on the model the previous returned."""
        self.stream, self.config = stream, config
        for part in self.parts:
            model = part.setup(model, stream, config)
        return model

    def before_task(self, model, task, stream) -> None:
        for part in self.parts:
            part.before_task(model, task, stream)

    def training_data(self, stream, t):
        owner = self.owner["training_data"]
        return owner.training_data(stream, t) if owner else super().training_data(stream, t)

    def parameters_to_train(self, model):
        owner = self.owner["parameters_to_train"]
        return owner.parameters_to_train(model) if owner else super().parameters_to_train(model)

    def fresh_parameters(self, model):
        owner = self.owner["fresh_parameters"]
        return owner.fresh_parameters(model) if owner else ()

    def make_batch(self, x, y, tids, t):
        owner = self.owner["make_batch"]
        return owner.make_batch(x, y, tids, t) if owner else (x, y, tids)

    def forward(self, model, x, task):
        owner = self.owner["forward"]
        return owner.forward(model, x, task) if owner else model(x, task)

    def loss(self, model, x, y, tids, logits):
        owner = self.owner["loss"]
        return owner.loss(model, x, y, tids, logits) if owner else super().loss(model, x, y, tids, logits)

    def after_task_backward(self, model) -> None:
        for part in self.parts:
            part.after_task_backward(model)

    def penalty(self, model) -> torch.Tensor | None:
        terms = [t for t in (part.penalty(model) for part in self.parts) if t is not None]
        return sum(terms[1:], terms[0]) if terms else None

    def after_backward(self, model) -> None:
        owner = self.owner["after_backward"]
        if owner:
            owner.after_backward(model)

    def after_step(self, model) -> None:
        for part in self.parts:
            part.after_step(model)

    def after_task(self, model, task, stream) -> None:
        for part in self.parts:
            part.after_task(model, task, stream)


def split_name(name: str) -> list[str]:
    """The method names of "ewc+replay" (one name for a single method)."""
    return [n.strip() for n in name.split(SEPARATOR)]


def combine(names: Iterable[str], hparams: dict[str, dict] | None = None, **shared: Any) -> Combined:
    """A Combined strategy of registered methods; `hparams[name]` sets a part's options, and a keyword in
    `shared` goes to the one part that declares it (ambiguous or unknown keywords raise ConfigError)."""
    names = list(names)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        from . import available_strategies
        raise ConfigError(f"unknown method {unknown[0]!r} in {SEPARATOR.join(names)!r}; "
                          f"allowed: {', '.join(available_strategies())}")
    per_part = {n: dict((hparams or {}).get(n, {})) for n in names}
    for key, value in shared.items():
        owners = [n for n in names if key in REGISTRY[n].params]
        if len(owners) != 1:
            where = f"both {owners[0]} and {owners[1]} have it" if owners else "no part has it"
            options = ", ".join(f"{n}: {', '.join(REGISTRY[n].params) or 'none'}" for n in names)
            raise ConfigError(f"option {key!r} for {SEPARATOR.join(names)}: {where}; allowed: {options}")
        per_part[owners[0]][key] = value
    return Combined(REGISTRY[n](**per_part[n]) for n in names)
