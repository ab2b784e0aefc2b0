"""Task vectors (Ilharco et al. 2023): tau = theta_after - theta_before, added, scaled, negated, merged.

`ties_merge` is TIES-merging (Yadav et al. 2023): per tensor, keep each task vector's largest-magnitude
`density` share of entries (trim), elect a sign per entry from the sum of the trimmed vectors, and average
only the entries that agree with it (disjoint mean), so two tasks' updates that pull an entry in opposite
directions do not cancel into nothing. Trimming is per tensor here, as mergekit does; the paper ranks
each whole task vector at once.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..errors import ConfigError, check_float
from .interpolate import StateDict, _same_keys


def task_vector(before: StateDict, after: StateDict) -> dict[str, torch.Tensor]:
    """after - before for every floating-point entry (integer buffers are not part of a task vector)."""
    _same_keys(before, after)
    return {k: (after[k].detach() - x.detach()) for k, x in before.items() if x.is_floating_point()}


def add_vectors(base: StateDict, vectors: Sequence[Mapping[str, torch.Tensor]],
                scales: Sequence[float] | float = 1.0) -> dict[str, torch.Tensor]:
    """base + sum_i scale_i * vector_i (a negative scale removes what a task taught: negation)."""
    vectors = list(vectors)
    scales = [scales] * len(vectors) if isinstance(scales, (int, float)) else list(scales)
    if len(scales) != len(vectors):
        raise ConfigError(f"{len(scales)} scales for {len(vectors)} task vectors; allowed: one scale, or one each")
    out = {k: v.detach().clone() for k, v in base.items()}
    for vec, s in zip(vectors, scales):
        s = check_float("scale", s, -10.0, 10.0)
        for k, d in vec.items():
            if k not in out:
                raise ConfigError(f"the task vector has {k!r}, the base state does not; allowed: vectors of the "
                                  "same architecture")
            out[k] = out[k] + s * d.to(out[k].dtype)
    return out


def _trim(d: torch.Tensor, density: float) -> torch.Tensor:
    keep = max(1, int(round(density * d.numel())))
    if keep >= d.numel():
        return d.clone()
    threshold = d.abs().flatten().kthvalue(d.numel() - keep + 1).values
    return torch.where(d.abs() >= threshold, d, torch.zeros_like(d))


def ties_merge(vectors: Sequence[Mapping[str, torch.Tensor]], density: float = 0.2) -> dict[str, torch.Tensor]:
    """One task vector from several by TIES: trim to `density` (0..1], elect signs, disjoint mean."""
    vectors = list(vectors)
    if len(vectors) < 2:
        raise ConfigError(f"TIES merges two or more task vectors, got {len(vectors)}")
    density = check_float("density", density, 0.0, 1.0, low_open=True)
    keys = set(vectors[0])
    if any(set(v) != keys for v in vectors[1:]):
        raise ConfigError("the task vectors have different entries; allowed: vectors of one architecture")
    merged = {}
    for k in vectors[0]:
        trimmed = torch.stack([_trim(v[k].detach(), density) for v in vectors])
        sign = torch.sign(trimmed.sum(0))
        agree = (torch.sign(trimmed) == sign) & (trimmed != 0)
        count = agree.sum(0).clamp(min=1)
        merged[k] = torch.where(agree, trimmed, torch.zeros_like(trimmed)).sum(0) / count
    return merged
