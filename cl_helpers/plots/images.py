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


def plot_importance_maps(maps: Mapping[str, torch.Tensor], title: str | None = None, cmap: str = "magma",
                         shared_scale: bool = True, cbar_label: str = "importance (shared scale)"):
    """Importance images side by side: on one shared colour scale with one colour bar (sizes compare), or each
    on its own scale with its own bar (`shared_scale=False`: shapes compare)."""
    if not maps:
        raise ConfigError("plot_importance_maps needs at least one map; allowed: a dict name -> (H, W) tensor")
    images = {name: torch.as_tensor(image).detach().cpu().float().numpy() for name, image in maps.items()}
    n = len(images)
    vmin = min(float(im.min()) for im in images.values()) if shared_scale else None
    vmax = max(float(im.max()) for im in images.values()) if shared_scale else None
    fig, axes = plt.subplots(1, n, figsize=(3.1 * n + (0.6 if shared_scale else 0), 3.2), squeeze=False,
                             layout="constrained")
    for ax, (name, image) in zip(axes[0], images.items()):
        im = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if not shared_scale:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if shared_scale:
        fig.colorbar(im, ax=list(axes[0]), fraction=0.046 / n * 2, pad=0.02, label=cbar_label)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_dreams(dreams: Sequence[torch.Tensor], image_shape: Sequence[int], n: int = 10,
                title: str | None = None):
    """Generated inputs, one row per stage (the same latent codes decoded after task 0, 1, ...)."""
    rows = len(dreams)
    if rows == 0:
        raise ConfigError("no generated samples to show: the generator has not finished a task yet")
    scale = min(1.0, 12.0 / n)   # at most 12 inches wide: 20 samples a row must not shrink to a sliver in a notebook
    fig, axes = plt.subplots(rows, n, figsize=(scale * n, scale * 1.05 * rows + 0.4), squeeze=False)
    for t, images in enumerate(dreams):
        for k in range(n):
            ax = axes[t][k]
            ax.imshow(images[k].view(*image_shape).cpu(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[t][0].set_ylabel(f"after\ntask {t}", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title or "the generator's samples (same latent codes at every stage)", fontsize=10)
    fig.tight_layout()
    return fig
