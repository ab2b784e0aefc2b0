"""Pictures of inputs: each task's images as the model sees them, and per-pixel importance maps.

A first-layer weight W[h, i] connects input pixel i to hidden unit h, so summing its Fisher over h gives one
number per pixel: how much the log-likelihood of the task depends on the weights that read that pixel. For a
permuted task the model sees pixel perm[i] at input i; putting each input's importance back at perm[i]
("un-permuting") shows it in the original image layout.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..errors import ConfigError


def plot_task_examples(stream, n: int = 6, index: int = 0):
    """The first `n` test images of every task as the model sees them (permuted, rotated, or a class pair)."""
    T = len(stream)
    fig, axes = plt.subplots(T, n, figsize=(1.1 * n, 1.15 * T), squeeze=False)
    for t, task in enumerate(stream):
        for k in range(n):
            ax = axes[t][k]
            ax.imshow(task.x_test[index + k].view(*stream.image_shape).cpu(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"label {int(task.y_test[index + k])}", fontsize=7)
        axes[t][0].set_ylabel(f"task {t}\n{task.name}", fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


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
