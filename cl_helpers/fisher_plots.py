"""The diagonal Fisher as pictures and a small table: one importance per input pixel, and the Fisher kinds compared.

A first-layer weight W[h, i] connects input pixel i to hidden unit h, so summing its Fisher over h gives one
number per pixel: how much the log-likelihood of the task depends on the weights that read that pixel. For a
permuted task the model sees pixel perm[i] at input i; putting each input's importance back at perm[i]
("un-permuting") shows it in the original image layout.
"""
from __future__ import annotations

import time
from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .errors import ConfigError
from .fisher import FISHER_KINDS, fisher_diagonal

FIRST_LAYER = "body.0.weight"  # the course MLP's first nn.Linear (models.MLP)


def pixel_importance(fisher: Mapping[str, torch.Tensor], image_shape: Sequence[int], layer: str = FIRST_LAYER,
                     perm: torch.Tensor | None = None) -> torch.Tensor:
    """Fisher of the first-layer weights summed over hidden units, as an image; `perm` puts pixels back in place.

    `perm` is the permutation a permuted task applied to its inputs (input i shows original pixel perm[i]);
    None keeps the model's input order.
    """
    if layer not in fisher:
        raise ConfigError(f"no Fisher entry {layer!r}; allowed: {', '.join(fisher)}")
    weight = fisher[layer]
    n_pixels = int(np.prod(image_shape))
    if weight.dim() != 2 or weight.shape[1] != n_pixels:
        raise ConfigError(f"Fisher {layer!r} has shape {tuple(weight.shape)}, which does not read "
                          f"{n_pixels} pixels of an image {tuple(image_shape)}; allowed: (hidden, {n_pixels})")
    per_input = weight.detach().sum(dim=0).cpu()
    if perm is not None:
        if perm.shape != (n_pixels,):
            raise ConfigError(f"perm of shape {tuple(perm.shape)} does not match {n_pixels} pixels; "
                              f"allowed: shape ({n_pixels},)")
        placed = torch.empty_like(per_input)
        placed[perm.cpu()] = per_input
        per_input = placed
    return per_input.view(*image_shape)


def plot_importance_maps(maps: Mapping[str, torch.Tensor], title: str | None = None, cmap: str = "magma"):
    """Importance images side by side, each with its own colour scale (the kinds differ in size, not in shape)."""
    if not maps:
        raise ConfigError("plot_importance_maps needs at least one map; allowed: a dict name -> (H, W) tensor")
    n = len(maps)
    fig, axes = plt.subplots(1, n, figsize=(3.1 * n, 3.2), squeeze=False)
    for ax, (name, image) in zip(axes[0], maps.items()):
        im = ax.imshow(torch.as_tensor(image).detach().cpu().numpy(), cmap=cmap)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def compare_fisher_kinds(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor,
                         kinds: Iterable[str] = FISHER_KINDS, seed: int = 0,
                         task: int | None = None) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, float]]:
    """The diagonal Fisher of `model` on the same samples for each kind, and the seconds each took."""
    fishers, seconds = {}, {}
    for kind in kinds:
        gen = torch.Generator(device=inputs.device).manual_seed(seed)  # only the sampled kind draws from it
        start = time.perf_counter()
        fishers[kind] = fisher_diagonal(model, inputs, labels, kind=kind, task=task, generator=gen)
        seconds[kind] = time.perf_counter() - start
    return fishers, seconds


def _flat(fisher: Mapping[str, torch.Tensor]) -> np.ndarray:
    return torch.cat([f.detach().reshape(-1) for f in fisher.values()]).double().cpu().numpy()


def fisher_kind_stats(fishers: Mapping[str, Mapping[str, torch.Tensor]],
                      reference: str = "exact") -> dict[str, dict[str, float]]:
    """Per kind: total (sum over all parameters), total relative to `reference`, and Pearson correlation with it."""
    if reference not in fishers:
        raise ConfigError(f"reference kind {reference!r} is not among {', '.join(fishers)}; allowed: one of them")
    ref = _flat(fishers[reference])
    out = {}
    for kind, fisher in fishers.items():
        v = _flat(fisher)
        if v.shape != ref.shape:
            raise ConfigError(f"Fisher {kind!r} has {v.size} entries, {reference!r} {ref.size}; allowed: the same model")
        out[kind] = {"total": float(v.sum()), "ratio": float(v.sum() / ref.sum()),
                     "corr": float(np.corrcoef(v, ref)[0, 1])}
    return out


def format_fisher_kinds(fishers: Mapping[str, Mapping[str, torch.Tensor]], seconds: Mapping[str, float] | None = None,
                        reference: str = "exact") -> str:
    """A plain-text table of `fisher_kind_stats`, with the seconds each kind took if given."""
    stats = fisher_kind_stats(fishers, reference)
    head = f"{'kind':<11}{'total F':>10}{'/ ' + reference:>10}{'corr with ' + reference:>17}"
    lines = [head + (f"{'ms':>8}" if seconds else "")]
    for kind, s in stats.items():
        line = f"{kind:<11}{s['total']:>10.4g}{s['ratio']:>10.2f}{s['corr']:>17.3f}"
        lines.append(line + (f"{1000 * seconds[kind]:>8.0f}" if seconds else ""))
    return "\n".join(lines)
