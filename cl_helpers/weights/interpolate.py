"""Weight interpolation, theta(a) = (1 - a) theta_before + a theta_after (WiSE-FT, Wortsman et al. 2022).

Every floating-point entry of the state dict is interpolated: parameters AND buffers such as BatchNorm's running
statistics (a model whose weights are interpolated but whose statistics come from one end is a classic mistake).
Integer buffers (BatchNorm's `num_batches_tracked`) cannot be blended; they come from the nearer end. At a = 0
and a = 1 the result is each model's own state, bit for bit.

A LoRA model is interpolated on its merged weights (`merged_state`): interpolating the factors A and B
separately would scale the update B A by a^2, not by a.
"""
from __future__ import annotations

import copy
from typing import Mapping

import torch
from torch import nn

from ..errors import ConfigError, check_float

StateDict = Mapping[str, torch.Tensor]


def _same_keys(before: StateDict, after: StateDict) -> None:
    if set(before) != set(after):
        missing = sorted(set(before) ^ set(after))
        raise ConfigError(f"the two state dicts differ in their entries (e.g. {missing[0]!r}); allowed: the states "
                          "of two models of one architecture (merge LoRA first: merged_state(model))")
    for k in before:
        if before[k].shape != after[k].shape:
            raise ConfigError(f"{k!r} has shape {tuple(before[k].shape)} in one state and {tuple(after[k].shape)} "
                              "in the other; allowed: two models of one architecture")


def interpolate(before: StateDict, after: StateDict, a: float) -> dict[str, torch.Tensor]:
    """The state (1 - a) before + a after, entry by entry; a outside [0, 1] extrapolates (allowed: -1..2)."""
    a = check_float("a", a, -1.0, 2.0)
    _same_keys(before, after)
    out = {}
    for k, x in before.items():
        y = after[k]
        if a == 0.0:
            out[k] = x.detach().clone()
        elif a == 1.0:
            out[k] = y.detach().clone()
        elif x.is_floating_point():
            out[k] = torch.lerp(x.detach(), y.detach().to(x.dtype), a)
        else:
            out[k] = (x if a < 0.5 else y).detach().clone()
    return out


def merged_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict of `model` with every LoRA adapter folded into its base weight, under plain nn.Linear
    names (so a LoRA model and the model it was made from have the same keys)."""
    return {k: v.detach().clone() for k, v in merged_model(model).state_dict().items()}


def merged_model(model: nn.Module) -> nn.Module:
    """A copy of `model` whose LoRA layers are plain nn.Linear layers holding base weight + update."""
    from ..lora import LoRALinear

    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                linear = copy.deepcopy(child.base)
                with torch.no_grad():
                    if not child.merged:
                        linear.weight += child.delta_weight().to(linear.weight.dtype)
                setattr(module, child_name, linear)
    return model
