"""One kind of error for bad input, and the one place where user values are converted and checked.

Every public entry point (TrainConfig, strategies' Param, make_stream, ReplayBuffer, fisher_diagonal, the
sliders) goes through these checks, so a value is judged the same everywhere:

* integers: Python and NumPy integers (what `np.arange` and sliders hand over), and floats with no
  fractional part (2.0), become a Python int; booleans, strings, fractions, inf and NaN are refused;
* numbers: any real number (NumPy's included) becomes a Python float; booleans, strings, inf, NaN refused;
* flags: only True/False (NumPy's too); "no", 0 and 1 are refused, since "no" would read as true.

Each refusal is a `ConfigError` whose message is one line naming the value and what is allowed. In a
notebook, `course.setup()` makes IPython show that line alone instead of a traceback (`show_config_errors`).

Why a small module and not pydantic or attrs: the rules above are the whole of it (about 60 lines), the
messages must read the same as the CLI's, and the package is installed on Colab with ``--no-deps`` on top
of whatever pydantic version Colab has, so a new dependency would be one more version to go wrong.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

SEED_MAX = 2**32 - 1  # NumPy's legacy seed range; torch accepts more, but one range for all three RNGs


class ConfigError(ValueError):
    """Bad input from a user: the message is one line naming the value and what is allowed."""


def show_value(value: Any) -> str:
    """A short one-line form of a value: arrays and tensors by their shape, long reprs cut."""
    shape = getattr(value, "shape", None)
    if shape is not None and len(tuple(shape)) > 0:
        return f"of shape {tuple(shape)}"
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return `value` if it is one of the strings `allowed`, else raise ConfigError."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"unknown {name} {show_value(value)}; allowed: {', '.join(allowed)}")
    return str(value)


def _range_text(low, high, low_open=False, high_open=False, fmt=str) -> str:
    if high is None and low is not None:
        return f"> {fmt(low)}" if low_open else f">= {fmt(low)}"
    if low is None and high is not None:
        return f"< {fmt(high)}" if high_open else f"<= {fmt(high)}"
    if low is None:
        return "any finite number"
    if not low_open and not high_open and fmt is str:
        return f"{low}..{high}"
    return f"{'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"


def check_int(name: str, value: Any, low: int | None = 1, high: int | None = None) -> int:
    """`value` as a Python int if it is a whole number in [low, high] (None: unbounded), else ConfigError."""
    allowed = _range_text(low, high)
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be an integer, got {show_value(value)}; allowed: {allowed}")
    if not isinstance(value, numbers.Integral):
        as_float = float(value)
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise ConfigError(f"{name} must be an integer, got {show_value(value)}; allowed: {allowed}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"{name} {number} is out of range; allowed: {allowed}")
    return number


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """`value` as a Python float if it is a finite real number in the range (open or closed ends), else ConfigError."""
    allowed = _range_text(low, high, low_open, high_open, fmt=lambda v: f"{v:g}")
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {show_value(value)}; allowed: {allowed}")
    number = float(value)
    bad = not math.isfinite(number)
    if low is not None:
        bad |= number <= low if low_open else number < low
    if high is not None:
        bad |= number >= high if high_open else number > high
    if bad:
        raise ConfigError(f"{name} {number:g} is out of range; allowed: {allowed}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """`value` if it is True or False (NumPy's too), else ConfigError (a string such as "no" would read as true)."""
    if not _is_bool(value):
        raise ConfigError(f"{name} must be True or False, got {show_value(value)}")
    return bool(value)


def check_widths(name: str, widths: Any) -> tuple[int, ...]:
    """Hidden layer widths as a tuple of ints >= 1, e.g. (256, 256); a bare number or a string is refused."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Iterable):
        raise ConfigError(f"{name} must be a list of layer widths such as (256, 256) or (256,), got {show_value(widths)}")
    return tuple(check_int(f"{name}[{i}]", h, 1, 1_000_000) for i, h in enumerate(widths))


def check_seed(name: str, value: Any) -> int:
    """A random seed: an integer in 0..2**32-1."""
    return check_int(name, value, 0, SEED_MAX)


def check_type(name: str, value: Any, kind: type | tuple[type, ...], allowed: str) -> Any:
    """`value` if it is an instance of `kind`, else ConfigError saying what is `allowed`."""
    if not isinstance(value, kind):
        raise ConfigError(f"{name} must be {allowed}, got {type(value).__name__} {show_value(value)}".rstrip())
    return value


def show_config_errors(shell: Any = None) -> bool:
    """Make IPython show a ConfigError as its one line (no traceback); returns False outside IPython.

    Other exceptions keep IPython's usual traceback. The cell still fails (nbval and "Run all" stop there).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False

    def one_line(shell, etype, value, tb, tb_offset=None):
        # IPython's run_code ignores a custom handler's return value, so show it here; ipykernel's
        # _showtraceback sends it as the cell's error (the cell still fails, with this one line).
        stb = [f"\x1b[0;31mConfigError\x1b[0m: {value}"]
        shell._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc((ConfigError,), one_line)
    return True
