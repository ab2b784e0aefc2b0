"""Sequential LoRA fine-tuning: task 0 trains the whole model, each later task a fresh low-rank adapter.

After each later task its adapter is merged into the (frozen) base, so the model stays one plain MLP and
costs nothing extra to evaluate. Each task can move the weights only along a rank-r update: the method learns
less of each new task than naive fine-tuning and keeps more of task 0 (which the whole model learnt), but a
later adapter easily undoes what an earlier adapter learnt, so its average forgetting need not be lower.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import ConfigError
from ..lora import ALL, add_lora, lora_layers
from .base import Param, Strategy, register

DEFAULT_RANK = 8


@dataclass(frozen=True)
class TargetsParam(Param):
    """Which nn.Linear layers get adapters: "all" or comma-separated module names (checked against the model)."""

    def check(self, name: str, value: Any) -> str:
        """`value` as one comma-separated string of names, or ConfigError if it names nothing."""
        if not isinstance(value, str):
            try:
                value = ",".join(str(v) for v in value)
            except TypeError:
                raise ConfigError(f"{name} must be 'all' or layer names such as 'body.0,head', got {value!r}") \
                    from None
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise ConfigError(f"{name} {value!r} names no layer; allowed: all, or layer names such as body.0,head")
        return ALL if ALL in names else ",".join(names)


@dataclass(frozen=True)
class AlphaParam(Param):
    """The adapter scale alpha > 0, or None for alpha = rank (the update is then B A itself)."""

    def check(self, name: str, value: Any) -> float | None:
        """None, or `value` as a float > 0 (else ConfigError)."""
        return None if value is None else super().check(name, value)


LORA_PARAMS = {
    "rank": Param(DEFAULT_RANK, 1, None, type=int, help="rank r of each adapter (1..min(in, out) of a layer)"),
    "alpha": AlphaParam(None, 0.0, None, low_open=True,
                        help="adapter scale: the update is (alpha / rank) * B A; default alpha = rank"),
    "targets": TargetsParam(ALL, type=str, help="layers with adapters: all, or names such as body.0,head"),
}


def set_trainable(params, flag: bool) -> None:
    """Switch requires_grad of every parameter in `params`."""
    for p in params:
        p.requires_grad_(flag)


class AdapterStrategy(Strategy):
    """What the LoRA methods share: task 0 trains the whole model; each later task t trains its adapter alone.

    Subclasses say how the model is wrapped (`wrap`), which parameters are task t's adapter (`adapter_params`),
    and what happens when a task's adapter starts and ends (`start_adapter`, `end_adapter`).
    """

    params = LORA_PARAMS

    def setup(self, model: nn.Module, stream, config) -> nn.Module:
        """Wrap the target layers; everything is frozen until `before_task` picks what trains."""
        super().setup(model, stream, config)
        self.t = -1
        self.wrap(model, stream)
        set_trainable(model.parameters(), False)
        return model

    def wrap(self, model: nn.Module, stream) -> None:
        """Put the adapters into `model` in place."""
        raise NotImplementedError

    def adapter_params(self, t: int | None = None) -> list[nn.Parameter]:
        """Task t's adapter parameters (None: every adapter's)."""
        raise NotImplementedError

    def start_adapter(self, t: int) -> None:
        """Called when task t >= 1 starts, before its adapter is made trainable."""

    def end_adapter(self, t: int) -> None:
        """Called when task t ends."""

    def before_task(self, model: nn.Module, task, stream) -> None:
        """Task 0: everything but the adapters trains. Task t >= 1: the base is frozen and adapter t trains."""
        self.t += 1
        set_trainable(model.parameters(), self.t == 0)
        if self.t == 0:
            set_trainable(self.adapter_params(), False)
            return
        self.start_adapter(self.t)
        set_trainable(self.adapter_params(self.t), True)

    def parameters_to_train(self, model: nn.Module):
        """Every parameter; frozen ones get no gradient and are skipped, and a kept optimizer reaches each adapter."""
        return list(model.parameters())

    def fresh_parameters(self, model: nn.Module):
        """From task 1 on, task t's adapter, just (re-)initialised: a kept optimizer's moments for it are stale."""
        return self.adapter_params(self.t) if self.t > 0 else []

    def after_task(self, model: nn.Module, task, stream) -> None:
        """The task's adapter is final: end it and freeze everything."""
        self.end_adapter(self.t)
        set_trainable(model.parameters(), False)


@register
class LoRA(AdapterStrategy):
    """Train the full model on task 0; then per task a fresh adapter on the frozen base, merged at the task end."""

    name = "lora"
    label = "LoRA (sequential, merged)"

    def wrap(self, model: nn.Module, stream) -> None:
        """LoRALinear on the target layers, merged (B = 0, forward = base alone) for task 0's full training."""
        add_lora(model, self.rank, self.alpha, self.targets)
        self.layers = list(lora_layers(model).values())
        for layer in self.layers:
            layer.merge()  # an exact no-op on the weights since B = 0: forward skips the adapter

    def adapter_params(self, t: int | None = None) -> list[nn.Parameter]:
        """The one adapter per layer that each task re-uses (it is merged and restarted between tasks)."""
        return [p for layer in self.layers for p in (layer.A, layer.B)]

    def start_adapter(self, t: int) -> None:
        """A fresh adapter (A random, B zero) per target layer."""
        for layer in self.layers:
            layer.new_adapter()

    def end_adapter(self, t: int) -> None:
        """Fold the task's adapter into the base weights."""
        for layer in self.layers:
            layer.merge()
