"""One kind of error for bad input, with one-line messages that name the value and what is allowed."""
from __future__ import annotations

import math
from typing import Iterable


class ConfigError(ValueError):
    """Bad input from a user: the message is one line naming the value and what is allowed."""


def check_choice(name: str, value: str, allowed: Iterable[str]) -> str:
    """Return `value` if it is one of `allowed`, else raise ConfigError."""
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value


def check_int(name: str, value: int, low: int = 1, high: int | None = None) -> int:
    """Return `value` if it is an integer in [low, high], else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            as_int = None
        if as_int is None or as_int != value:
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        value = as_int
    if value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise ConfigError(f"{name} {value} is out of range; allowed: {allowed}")
    return value


def check_float(name: str, value: float, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return `value` as float if it lies in the given range (open or closed ends), else raise ConfigError."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    bad = math.isnan(value) or math.isinf(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ConfigError(f"{name} {value:g} is out of range; allowed: {left}{lo}, {hi}{right}")
    return value
