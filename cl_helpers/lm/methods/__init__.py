"""The language model's fine-tuning methods, one file each; every module in this folder registers itself on import.

They use the MNIST strategies' `Param` (cl_helpers/strategies/base.py); base.py here says which hooks they have
and why they differ from a Strategy's.
"""
from __future__ import annotations

import importlib
import pkgutil

from ...errors import ConfigError
from .base import BASE_LR, REGISTRY, Method, register

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")

ORDER = ("full", "lora", "replay", "self_replay", "safety_data", "ewc", "kl")
RENAMED = {"self_instruct": "self_replay"}


def available_methods() -> tuple[str, ...]:
    """Names of all methods: chapter 8's order, then any other in alphabetical order."""
    return tuple(sorted(REGISTRY, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)))


def check_method(name) -> str:
    """`name` if it is a registered method, else ConfigError (saying so when it is an old, renamed one)."""
    if name in RENAMED:
        raise ConfigError(f"method {name!r} was renamed {RENAMED[name]!r} (old prompts answered by the stage-0 "
                          f"model); allowed: {', '.join(available_methods())}")
    if not isinstance(name, str) or name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; allowed: {', '.join(available_methods())}")
    return name


def get_method(name: str, **hparams) -> Method:
    """A method instance by name with its hyperparameters (unknown names and values raise ConfigError)."""
    return REGISTRY[check_method(name)](**hparams)


METHODS = available_methods()

__all__ = ["BASE_LR", "METHODS", "REGISTRY", "RENAMED", "Method", "available_methods", "check_method", "get_method",
           "register"]
