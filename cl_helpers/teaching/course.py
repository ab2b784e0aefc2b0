"""What every chapter's first cell calls (the device, fast mode, a note for Colab users), and the claim checks.

`expect(condition, claim)` guards a sentence of the prose that states something about the run next to it.
In CI (fast mode) and when the saved outputs are made (tools/execute_notebooks.py sets CL_CHECK_CLAIMS=1), a
claim that no longer holds raises ClaimError, so a chapter cannot say what its outputs contradict. A student
whose run differs (another torch, a GPU, edited settings) gets a short note instead of a crash.
"""
from __future__ import annotations

import os
import sys
import time
from typing import TypeVar

import torch

from ..device import describe_device, get_device, set_seed
from ..errors import check_seed, show_config_errors

T = TypeVar("T")
_STARTED: float | None = None   # when setup() ran: a chapter's clock, read by run_time()


def fast_mode() -> bool:
    """True when CL_FAST=1: CI and the browser test shrink sizes but run every cell."""
    return os.environ.get("CL_FAST", "") not in ("", "0")


def strict_claims() -> bool:
    """True when a false claim must fail: CL_CHECK_CLAIMS=1, or fast mode unless CL_CHECK_CLAIMS=0."""
    flag = os.environ.get("CL_CHECK_CLAIMS")
    if flag is not None and flag.strip() != "":
        return flag.strip() != "0"
    return fast_mode()


class ClaimError(AssertionError):
    """A sentence of a chapter no longer matches what its run produced."""


def expect(condition: bool, claim: str, full_only: bool = False) -> None:
    """Check a claim the prose makes about the run: raise ClaimError in CI, print a short note for a student.

    `full_only`: the claim is about the full-size experiment (what the saved outputs show) and fast mode's
    small sizes cannot support it; in fast mode it is neither checked nor noted, and it is checked when the
    outputs are saved. Returns nothing, so a cell that ends with a check shows no stray `True`.
    """
    if (full_only and fast_mode()) or bool(condition):
        return
    if strict_claims():
        raise ClaimError(f"the chapter claims: {claim}; this run contradicts it")
    print(f"⚠️ 注意：課文說「{claim}」，但你這次執行的結果不是這樣（可能是不同的 torch 版本、GPU，或你改了設定）。"
          "以你看到的數字為準，也歡迎回報給助教。")


def run_time() -> None:
    """Print the seconds since setup(): the last cell of a chapter says how long the whole run took."""
    if _STARTED is None:
        raise RuntimeError("course.setup() was not called: run the chapter's first cell")
    seconds = time.perf_counter() - _STARTED
    print(f"chapter run time: {seconds:.0f} s ({'fast' if fast_mode() else 'full'} mode, device: "
          f"{describe_device(get_device())})")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def pick(full: T, fast: T) -> T:
    """`fast` in fast mode, else `full`: one line per size in the notebooks, e.g. epochs = pick(3, 1)."""
    return fast if fast_mode() else full


def setup(seed: int = 0, quiet: bool = False) -> torch.device:
    """Seed everything, pick the device and print where the chapter runs; returns the device.

    In IPython, a ConfigError (a bad value in a call) is then shown as its one line, not a traceback.
    """
    from .. import __version__

    global _STARTED
    _STARTED = time.perf_counter()
    show_config_errors()
    set_seed(check_seed("seed", seed))
    device = get_device()
    if not quiet:
        mode = "fast (CL_FAST=1: small sizes)" if fast_mode() else "full"
        print(f"cl_helpers {__version__} | torch {torch.__version__} | device: {describe_device(device)} | mode: {mode}")
        if in_colab() and device.type == "cpu":
            print("Colab 目前使用 CPU。要用 GPU：Runtime > Change runtime type > T4 GPU，然後重新執行。"
                  " (To use a GPU: Runtime > Change runtime type > GPU, then run again.)")
    return device
