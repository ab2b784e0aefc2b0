"""Continual-learning strategies, one file each; every module in this folder registers itself on import."""
from __future__ import annotations

import importlib
import pkgutil

from ..errors import ConfigError
from .base import REGISTRY, Param, Strategy, register

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")


def available_strategies() -> list[str]:
    """Names of all strategies, in a teaching order (references first)."""
    order = ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "generative_replay",
             "pseudo_rehearsal", "lora", "lora_per_task", "progressive", "packnet"]
    return sorted(REGISTRY, key=lambda n: (order.index(n) if n in order else len(order), n))


def get_strategy(name: str | Strategy, **hparams) -> Strategy:
    """A strategy instance by name with its hyperparameters (unknown names and values raise ConfigError)."""
    if isinstance(name, Strategy):
        if hparams:
            raise ConfigError("pass hyperparameters either to the strategy or here, not both")
        return name
    if name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; allowed: {', '.join(available_strategies())}")
    return REGISTRY[name](**hparams)


__all__ = ["Param", "Strategy", "register", "get_strategy", "available_strategies", "REGISTRY"]
