"""LoRA (Hu et al. 2021): a frozen nn.Linear plus a trainable low-rank update, y = W x + b + (alpha/r) B A x.

`add_lora(model, rank)` swaps the targeted nn.Linear layers of a model for `LoRALinear` in place and freezes
everything else, so only the adapters (A: r x in, B: out x r) are trained. B starts at zero, so a fresh
adapter leaves the model's outputs exactly unchanged; `merge()` folds the update into the base weight, after
which the layer costs what the plain nn.Linear costs.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError, check_float, check_int
from .models import count_parameters

ALL = "all"


class LoRALinear(nn.Module):
    """An nn.Linear with its weights frozen plus a rank-`rank` adapter scaled by alpha / rank."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float | None = None):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise ConfigError(f"LoRA wraps an nn.Linear, got {type(base).__name__}")
        self.rank = check_rank(rank, base)
        self.alpha = float(rank) if alpha is None else check_float("alpha", alpha, 0.0, None, low_open=True)
        self.scaling = self.alpha / self.rank
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        w = base.weight
        self.A = nn.Parameter(torch.empty(self.rank, base.in_features, device=w.device, dtype=w.dtype))
        self.B = nn.Parameter(torch.empty(base.out_features, self.rank, device=w.device, dtype=w.dtype))
        self.merged = False
        self.new_adapter()

    @property
    def in_features(self) -> int:
        """Input size of the wrapped layer."""
        return self.base.in_features

    @property
    def out_features(self) -> int:
        """Output size of the wrapped layer."""
        return self.base.out_features

    @torch.no_grad()
    def new_adapter(self) -> "LoRALinear":
        """Start a fresh adapter (A random, B zero); an update merged earlier stays in the base weight."""
        init_adapter(self.A, self.B)
        self.merged = False
        return self

    def delta_weight(self) -> torch.Tensor:
        """The update the adapter adds to the base weight: (alpha / rank) * B @ A, shape (out, in)."""
        return self.scaling * (self.B @ self.A)

    @torch.no_grad()
    def merge(self) -> "LoRALinear":
        """Fold the update into base.weight; from now on forward uses the base alone (no-op if merged)."""
        if not self.merged:
            self.base.weight += self.delta_weight()
            self.merged = True
        return self

    @torch.no_grad()
    def unmerge(self) -> "LoRALinear":
        """Subtract the merged update from base.weight again (no-op if not merged)."""
        if self.merged:
            self.base.weight -= self.delta_weight()
            self.merged = False
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) + (alpha / rank) * x A^T B^T; once merged, base(x) alone."""
        out = self.base(x)
        if self.merged:
            return out
        # Through the r-dimensional bottleneck: two thin products, never the out x in matrix B @ A.
        return out + self.scaling * F.linear(F.linear(x, self.A), self.B)

    def extra_repr(self) -> str:
        """Sizes, rank, alpha and whether the update is merged, for print(model)."""
        return (f"in={self.in_features}, out={self.out_features}, rank={self.rank}, alpha={self.alpha:g}, "
                f"merged={self.merged}")


@torch.no_grad()
def init_adapter(A: torch.Tensor, B: torch.Tensor) -> None:
    """A fresh adapter in place: A as nn.Linear's own init (and PEFT's), B = 0 so that the update B A is zero."""
    nn.init.kaiming_uniform_(A, a=math.sqrt(5))
    nn.init.zeros_(B)


def check_rank(rank: int, layer: nn.Linear, name: str = "") -> int:
    """`rank` if it lies in 1..min(in, out) of `layer`, else ConfigError naming the layer and the range."""
    rank = check_int("LoRA rank", rank, None)  # only that it is an integer; the range is the layer's
    top = min(layer.in_features, layer.out_features)
    if not 1 <= rank <= top:
        where = f" for {name}" if name else ""
        hint = f" (or leave {name} out of the targets)" if name else ""
        raise ConfigError(f"LoRA rank {rank} is out of range{where} ({layer.in_features} -> "
                          f"{layer.out_features}); allowed: 1..{top}{hint}")
    return rank


def linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """The nn.Linear modules of `model` by name, in order (layers inside a LoRA wrapper not included)."""
    wrapped = {name for name, m in model.named_modules() if isinstance(m, LoRALinear)}
    return {name: m for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and name.rpartition(".")[0] not in wrapped}


def find_targets(model: nn.Module, targets: str | Iterable[str] = ALL) -> dict[str, nn.Linear]:
    """The nn.Linear layers named by `targets`: "all", module names, or containers ("body" = its Linears).

    A comma-separated string is a list. Unknown names raise ConfigError listing the Linear layers there are.
    """
    linears = linear_layers(model)
    listing = ", ".join(linears) or "none"
    names = [t.strip() for t in targets.split(",")] if isinstance(targets, str) else [str(t).strip() for t in targets]
    names = [n for n in names if n]
    if not names:
        raise ConfigError(f"LoRA targets {targets!r} name no layer; allowed: all, or some of {listing}")
    if not linears:
        raise ConfigError(f"the model ({type(model).__name__}) has no nn.Linear layer for LoRA; allowed: a model "
                          "with nn.Linear layers")
    if ALL in names:
        return dict(linears)
    found: dict[str, nn.Linear] = {}
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules:
            raise ConfigError(f"unknown LoRA target {name!r}; allowed: all, or some of {listing}")
        inside = {k: m for k, m in linears.items() if k == name or k.startswith(name + ".")}
        if not inside:
            raise ConfigError(f"LoRA target {name!r} ({type(modules[name]).__name__}) holds no nn.Linear; "
                              f"allowed: all, or some of {listing}")
        found.update(inside)
    return found


def replace_module(model: nn.Module, name: str, module: nn.Module) -> None:
    """Put `module` where the submodule called `name` is (works inside nn.Sequential too)."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def add_lora(model: nn.Module, rank: int, alpha: float | None = None,
             targets: str | Iterable[str] = ALL) -> nn.Module:
    """Wrap the targeted nn.Linear layers in LoRALinear in place and freeze every other parameter.

    alpha defaults to the rank (scaling 1). Hu et al. 2021 (and PEFT) instead keep alpha fixed while the rank
    varies, so the scale alpha / rank shrinks as the rank grows: pass alpha to do that. Returns the same model.
    """
    existing = [name for name, m in model.named_modules() if isinstance(m, LoRALinear)]
    if existing:
        raise ConfigError(f"the model already has LoRA adapters ({', '.join(existing)}); "
                          "allowed: a model without LoRA layers")
    chosen = find_targets(model, targets)
    for name, layer in chosen.items():  # check every layer before changing any
        check_rank(rank, layer, name)
    if alpha is not None:
        check_float("alpha", alpha, 0.0, None, low_open=True)
    for p in model.parameters():
        p.requires_grad_(False)
    for name, layer in chosen.items():
        replace_module(model, name, LoRALinear(layer, rank, alpha))
    return model


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """The LoRALinear modules of `model` by name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The adapter matrices (A and B of every LoRALinear) of `model`."""
    return [p for layer in lora_layers(model).values() for p in (layer.A, layer.B)]


def count_trainable(model: nn.Module) -> int:
    """Number of scalar parameters that require grad (for a LoRA model: the adapters alone)."""
    return count_parameters(model, trainable_only=True)


def merge_lora(model: nn.Module) -> nn.Module:
    """Merge every adapter of `model` into its base weight."""
    for layer in lora_layers(model).values():
        layer.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    """Take every merged adapter of `model` out of its base weight again."""
    for layer in lora_layers(model).values():
        layer.unmerge()
    return model
