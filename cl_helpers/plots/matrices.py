"""The accuracy matrix R[i, j] as a heatmap with its numbers written in."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..results import RunResult


def plot_acc_matrix(result_or_matrix, ax=None, title: str | None = None):
    """Heatmap of R[i, j] (accuracy on task j after training task i) with the numbers written in."""
    R = result_or_matrix.acc_matrix if isinstance(result_or_matrix, RunResult) else np.asarray(result_or_matrix)
    if ax is None:
        size = 1.0 + 0.7 * len(R)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(R, vmin=0, vmax=1, cmap="viridis")
    for i in range(R.shape[0]):
        for j in range(R.shape[1]):
            ax.text(j, i, f"{R[i, j]:.2f}", ha="center", va="center", fontsize=9,
                    color="black" if R[i, j] > 0.6 else "white")
    ax.set_xticks(range(R.shape[1]))
    ax.set_yticks(range(R.shape[0]))
    ax.set_xlabel("evaluated on task j")
    ax.set_ylabel("after training task i")
    name = result_or_matrix.method if isinstance(result_or_matrix, RunResult) else ""
    ax.set_title(title or (f"accuracy matrix R[i, j]: {name}" if name else "accuracy matrix R[i, j]"))
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04).set_label("test accuracy")
    return ax.figure
