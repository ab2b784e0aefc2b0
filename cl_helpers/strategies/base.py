"""The hook interface every continual-learning strategy plugs into, and its hyperparameter declarations.

The engine (`cl_helpers.train`) calls, per run and task:

    model = s.setup(model, stream, config)          # once; may wrap or replace the model (LoRA)
    for t, task in enumerate(stream):
        s.before_task(model, task, stream)
        (optimizer: fresh per task, or kept, forgetting the state of s.fresh_parameters(model))
        x, y, tids = s.training_data(stream, t)      # joint: every task so far
        for each epoch, for each mini-batch:
            x, y, tids = s.make_batch(x, y, tids, t)  # replay: append memory examples
            logits = s.forward(model, x, tids)
            task_loss = s.loss(model, x, y, tids, logits)
            task_loss.backward()
            s.after_task_backward(model)             # .grad holds the task loss's gradient alone (SI)
            penalty = s.penalty(model)               # EWC, SI, MAS; None for no extra term
            penalty.backward()                       # if not None: .grad now holds the total gradient
            s.after_backward(model)                  # A-GEM projects the total gradient here
            optimizer.step()
            s.after_step(model)                      # SI's path integral
        s.after_task(model, task, stream)            # EWC's Fisher, SI's Omega, MAS's importance
    evaluation always goes through s.forward(model, x, task_id) with model.eval() and no grad.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, check_bool, check_choice, check_float, check_int

REGISTRY: dict[str, type["Strategy"]] = {}


@dataclass(frozen=True)
class Param:
    """A strategy hyperparameter: default, allowed range (or choices), help text, and whether it is log-scaled."""

    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    type: type = float
    choices: tuple[str, ...] | None = None
    help: str = ""
    log: bool = False

    def check(self, name: str, value: Any) -> Any:
        """Return `value` converted and range-checked, or raise ConfigError naming it and the allowed range."""
        if self.choices is not None:
            return check_choice(name, value, self.choices)
        if self.type is int:
            return check_int(name, value, int(self.low) if self.low is not None else None,
                             int(self.high) if self.high is not None else None)
        if self.type is bool:
            return check_bool(name, value)
        return check_float(name, value, self.low, self.high, self.low_open, self.high_open)


def check_hparams(owner: str, params: dict[str, Param], hparams: dict[str, Any]) -> dict[str, Any]:
    """`hparams` completed with the defaults of `params`, each value converted and checked by its Param.

    An unknown key or a bad value raises ConfigError naming `owner` (a method's name). Strategies build
    themselves with it, and so do the language model's fine-tuning methods (`cl_helpers.lm.methods`).
    """
    unknown = sorted(set(hparams) - set(params))
    if unknown:
        allowed = ", ".join(params) or "none"
        raise ConfigError(f"unknown option {unknown[0]!r} for {owner}; allowed: {allowed}")
    return {key: spec.check(f"{owner} {key}", hparams.get(key, spec.default)) for key, spec in params.items()}


def registrar(registry: dict[str, type], kind: str) -> Callable[[type], type]:
    """A class decorator that files a class under its `name` in `registry`; two classes of one name are a bug."""
    def register(cls: type) -> type:
        if cls.name in registry and registry[cls.name] is not cls:
            raise RuntimeError(f"two {kind} are named {cls.name!r}")
        registry[cls.name] = cls
        return cls
    return register


# Class decorator: make a strategy available by its `name` (CLI, widgets, `get_strategy`).
register = registrar(REGISTRY, "strategies")


class Configurable:
    """What a strategy and a language-model method (lm/methods) share: a name and Param-checked hyperparameters."""

    name: ClassVar[str] = "base"
    label: ClassVar[str] = "Base"
    params: ClassVar[dict[str, Param]] = {}

    def __init__(self, **hparams: Any):
        for key, value in check_hparams(self.name, self.params, hparams).items():
            setattr(self, key, value)
        self.config: Any = None

    @property
    def hparams(self) -> dict[str, Any]:
        """The hyperparameters as set, for results, configs and tables."""
        return {key: getattr(self, key) for key in self.params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({args})"


class Strategy(Configurable):
    """Plain sequential fine-tuning; subclasses override the hooks they need (see the module docstring)."""

    def __init__(self, **hparams: Any):
        super().__init__(**hparams)
        self.stream: Any = None

    # ---- hooks -------------------------------------------------------------------------------------
    def setup(self, model: nn.Module, stream, config) -> nn.Module:
        """Called once before the first task; returns the model to train (it may wrap the given one)."""
        self.stream, self.config = stream, config
        return model

    def before_task(self, model: nn.Module, task, stream) -> None:
        """Called before training on `task`."""

    def training_data(self, stream, t: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The (inputs, labels, task ids) trained on during task t; by default task t's training set."""
        task = stream[t]
        tids = torch.full_like(task.y_train, t)
        return task.x_train, task.y_train, tids

    def parameters_to_train(self, model: nn.Module) -> Iterable[nn.Parameter]:
        """The parameters the optimizer updates (those that require grad)."""
        return [p for p in model.parameters() if p.requires_grad]

    def fresh_parameters(self, model: nn.Module) -> Iterable[nn.Parameter]:
        """Parameters that `before_task` re-initialised: an optimizer kept across tasks forgets their state."""
        return ()

    def make_batch(self, x: torch.Tensor, y: torch.Tensor, tids: torch.Tensor, t: int):
        """The mini-batch actually trained on; replay appends memory examples here."""
        return x, y, tids

    def forward(self, model: nn.Module, x: torch.Tensor, task: int | torch.Tensor) -> torch.Tensor:
        """Logits of `model` on `x` for the given task id(s); used for training and evaluation."""
        return model(x, task)

    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, tids: torch.Tensor,
             logits: torch.Tensor) -> torch.Tensor:
        """The task loss (cross-entropy); LwF adds distillation here."""
        return F.cross_entropy(logits, y)

    def after_task_backward(self, model: nn.Module) -> None:
        """Called when `.grad` holds the gradient of the task loss alone."""

    def penalty(self, model: nn.Module) -> torch.Tensor | None:
        """An extra loss term (regularization), or None."""
        return None

    def after_backward(self, model: nn.Module) -> None:
        """Called when `.grad` holds the total gradient, before the optimizer step."""

    def after_step(self, model: nn.Module) -> None:
        """Called after each optimizer step."""

    def after_task(self, model: nn.Module, task, stream) -> None:
        """Called after training on `task`, before the end-of-task evaluation."""

    # ---- shared by methods ---------------------------------------------------------------------------
    def task_subset(self, task, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Generator]:
        """`n` training examples of `task` drawn without replacement, seeded by the run's seed and the task id.

        Returns the inputs, their labels and the generator (seeded alike), for any further draw (a sampled Fisher).
        """
        x, y = task.x_train, task.y_train
        seed = (self.config.seed if self.config is not None else 0) * 1009 + task.id
        gen = torch.Generator(device=x.device).manual_seed(seed)
        idx = torch.randperm(len(y), generator=gen, device=x.device)[:min(n, len(y))]
        return x[idx], y[idx], gen
