"""Where tensors live and how runs are made repeatable."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import ConfigError, show_value

_VALID = ("cpu", "cuda", "mps")


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on: `prefer`, else $CL_DEVICE, else CUDA, then Apple MPS, then CPU."""
    choice = prefer if prefer is not None else os.environ.get("CL_DEVICE") or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError, ValueError, OverflowError):
        raise ConfigError(f"unknown device {show_value(choice)}; allowed: cpu, cuda, cuda:N, mps") from None
    if device.type not in _VALID:
        raise ConfigError(f"unknown device {show_value(choice)}; allowed: cpu, cuda, cuda:N, mps")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {show_value(choice)} asked for, but no CUDA GPU is available; allowed here: cpu")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"device {show_value(choice)} asked for, but Apple MPS is not available; allowed here: cpu")
    return device


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch so the same seed gives the same numbers on the same machine."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"
    return device.type
