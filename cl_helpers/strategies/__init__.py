"""Continual-learning strategies, one file each; every module in this folder registers itself on import."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Sequence

from ..errors import ConfigError
from .base import REGISTRY, Param, Strategy, register
from .combined import SEPARATOR, Combined, combine, split_name

for _info in pkgutil.iter_modules(__path__):
    if _info.name not in ("base", "combined"):
        importlib.import_module(f"{__name__}.{_info.name}")


def available_strategies() -> list[str]:
    """Names of all strategies, in a teaching order (references first)."""
    order = ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "generative_replay",
             "pseudo_rehearsal", "lora", "lora_per_task", "progressive", "packnet"]
    return sorted(REGISTRY, key=lambda n: (order.index(n) if n in order else len(order), n))


def get_strategy(name: str | Strategy | Sequence[str], **hparams) -> Strategy:
    """A strategy instance by name with its hyperparameters (unknown names and values raise ConfigError).

    Several methods at once: "ewc+replay" or ["ewc", "replay"] (see strategies/combined.py for the hook order);
    a keyword goes to the one part that declares it, or name the part: get_strategy("ewc+replay", ewc={"lam": 10}).
    """
    if isinstance(name, Strategy):
        if hparams:
            raise ConfigError("pass hyperparameters either to the strategy or here, not both")
        return name
    if isinstance(name, (list, tuple)) or (isinstance(name, str) and SEPARATOR in name):
        names = split_name(name) if isinstance(name, str) else list(name)
        per_part = {k: v for k, v in hparams.items() if k in names and isinstance(v, dict)}
        shared = {k: v for k, v in hparams.items() if k not in per_part}
        return combine(names, per_part, **shared)
    if not isinstance(name, str) or name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; allowed: {', '.join(available_strategies())}")
    return REGISTRY[name](**hparams)


__all__ = ["Param", "Strategy", "register", "get_strategy", "available_strategies", "REGISTRY", "Combined",
           "combine"]
