"""What every chapter's first cell calls: the device, fast mode, and a note for Colab users."""
from __future__ import annotations

import os
import sys
from typing import TypeVar

import torch

from ..device import describe_device, get_device, set_seed

T = TypeVar("T")


def fast_mode() -> bool:
    """True when CL_FAST=1: CI and the browser test shrink sizes but run every cell."""
    return os.environ.get("CL_FAST", "") not in ("", "0")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def pick(full: T, fast: T) -> T:
    """`fast` in fast mode, else `full`: one line per size in the notebooks, e.g. epochs = pick(3, 1)."""
    return fast if fast_mode() else full


def setup(seed: int = 0, quiet: bool = False) -> torch.device:
    """Seed everything, pick the device and print where the chapter runs; returns the device."""
    from .. import __version__

    set_seed(seed)
    device = get_device()
    if not quiet:
        mode = "fast (CL_FAST=1: small sizes)" if fast_mode() else "full"
        print(f"cl_helpers {__version__} | torch {torch.__version__} | device: {describe_device(device)} | mode: {mode}")
        if in_colab() and device.type == "cpu":
            print("Colab 目前使用 CPU。要用 GPU：Runtime > Change runtime type > T4 GPU，然後重新執行。"
                  " (To use a GPU: Runtime > Change runtime type > GPU, then run again.)")
    return device
