"""Sequential LoRA fine-tuning: task 0 trains the whole model, each later task a fresh low-rank adapter.

After each later task its adapter is merged into the (frozen) base, so the model stays one plain MLP and
costs nothing extra to evaluate. Each task can move the weights only along a rank-r update, so the method
learns less of each new task and forgets less of the old ones than naive fine-tuning (Biderman et al. 2024).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import ConfigError
from ..lora import ALL, add_lora, lora_layers, lora_parameters
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


@register
class LoRA(Strategy):
    """Train the full model on task 0; then per task a fresh adapter on the frozen base, merged at the task end."""

    name = "lora"
    label = "LoRA (sequential, merged)"
    params = LORA_PARAMS

    def setup(self, model: nn.Module, stream, config) -> nn.Module:
        """Wrap the target layers; they start merged (B = 0, forward = base alone) for task 0's full training."""
        super().setup(model, stream, config)
        self.t = -1
        add_lora(model, self.rank, self.alpha, self.targets)
        for layer in lora_layers(model).values():
            layer.merge()  # an exact no-op on the weights since B = 0: forward skips the adapter
        set_trainable(model.parameters(), False)
        return model

    def before_task(self, model: nn.Module, task, stream) -> None:
        """Task 0: everything trains. Later tasks: base frozen, a fresh adapter per target layer."""
        self.t += 1
        if self.t == 0:
            set_trainable(model.parameters(), True)
            set_trainable(lora_parameters(model), False)
            return
        set_trainable(model.parameters(), False)
        for layer in lora_layers(model).values():
            layer.new_adapter()
        set_trainable(lora_parameters(model), True)

    def parameters_to_train(self, model: nn.Module):
        """Every parameter; frozen ones get no gradient and are skipped, and a kept optimizer reaches each adapter."""
        return list(model.parameters())

    def fresh_parameters(self, model: nn.Module):
        """From task 1 on, the adapters `before_task` has just re-initialised (their old Adam moments are stale)."""
        return list(lora_parameters(model)) if self.t > 0 else []

    def after_task(self, model: nn.Module, task, stream) -> None:
        """Fold the task's adapter into the base weights."""
        for layer in lora_layers(model).values():
            layer.merge()
        set_trainable(model.parameters(), False)
