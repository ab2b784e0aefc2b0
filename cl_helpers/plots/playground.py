"""Pictures of the 2-parameter playground: loss contours of tasks A and B, training paths, A's Fisher ellipse."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from ..playground import Playground, losses_at

TASK_COLORS = {"A": "tab:blue", "B": "tab:orange"}
# Each path has its own colour, line, marker and end marker; naive (thin, solid) and L2 (thin, dashed) are drawn
# ON TOP of EWC's wide pale line, so where paths share a stretch (all start at A's optimum) every one stays visible.
# The lines stay under the optimum stars (zorder 5); the end markers are hollow rings drawn over them, so a path that
# ends on a star shows both.
PATH_STYLES = {"naive": dict(color="black", ls="-", lw=1.5, marker=".", end="o", zorder=4.5),
               "L2": dict(color="tab:purple", ls="--", lw=2.5, marker="s", end="s", zorder=4.7),
               "EWC": dict(color="tab:green", ls="-", lw=5, alpha=0.6, marker="^", end="D", zorder=4.3)}


def plot_landscape(pg: Playground, ax=None, levels: int = 12, n: int = 101):
    """Loss contours of A (blue) and B (orange) over the weight plane, each optimum marked with a star."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5.5))
    for name, task in pg.tasks.items():
        w1, w2, loss = pg.grid(name, n)
        # Levels spaced in the loss above the optimum, denser near it, so each bowl's shape is visible.
        lowest = float(losses_at(task.optimum, task))
        ax.contour(w1, w2, loss, levels=lowest + (loss.max() - lowest) * np.linspace(0.02, 1, levels) ** 2,
                   colors=TASK_COLORS[name], linewidths=0.8, alpha=0.7)
        ax.plot(*task.optimum.numpy(), marker="*", ms=16, color=TASK_COLORS[name], mec="black", ls="none",
                label=f"optimum of task {name}", zorder=5)
    ax.set_xlabel("weight w1")
    ax.set_ylabel("weight w2")
    ax.set_aspect("equal")
    ax.set_xlim(*pg.extent[:2])
    ax.set_ylim(*pg.extent[2:])
    ax.locator_params(nbins=5)   # fewer tick labels: text layout is most of a slider redraw's time
    return ax


def fisher_ellipse(pg: Playground, level: float | None = None, n: int = 200) -> np.ndarray:
    """Points (n, 2) of {w : sum_i F_i (w_i - w*_A,i)^2 = level}, the equal-penalty curve of EWC's spring.

    Default level: the curve's longest semi-axis is a third of the distance between the two optima.
    """
    f = pg.fisher_A.numpy()
    if level is None:
        gap = float(np.linalg.norm((pg.A.optimum - pg.B.optimum).numpy()))
        level = f.min() * (gap / 3) ** 2
    t = np.linspace(0, 2 * np.pi, n)
    return pg.A.optimum.numpy() + np.stack([np.cos(t), np.sin(t)], 1) * np.sqrt(level / f)


def _path(ax, path: np.ndarray, label: str, every: int = 10, color: str = "black", marker: str = ".",
          end: str = "o", zorder: float = 3, **style) -> None:
    """One training path: a line with a marker every `every` steps, and a ring at its end (under the stars)."""
    ax.plot(path[:, 0], path[:, 1], label=label, color=color, marker=marker, ms=4, markevery=every,
            zorder=zorder, **style)
    ax.plot(*path[-1], marker=end, ms=12, mfc="none", mec=color, mew=2, ls="none", zorder=5.5)   # over the stars


def plot_interference(pg: Playground, path: np.ndarray, title: str | None = None):
    """Left: the path of training on B from A's optimum over both loss surfaces. Right: both losses along it."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1.1, 1]})
    plot_landscape(pg, ax)
    _path(ax, path, f"gradient descent on B ({len(path) - 1} steps)", **PATH_STYLES["naive"])
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "training on B, starting at A's optimum")
    steps = np.arange(len(path))
    for name, task in pg.tasks.items():
        ax2.plot(steps, losses_at(path, task), color=TASK_COLORS[name], lw=2, label=f"loss on task {name}")
    ax2.set_xlabel("gradient-descent step on task B")
    ax2.set_ylabel("mean cross-entropy")
    ax2.set_title("the loss on A rises as the loss on B falls")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_penalty_paths(pg: Playground, paths: Mapping[str, np.ndarray], lam: float, ax=None,
                       title: str | None = None):
    """Paths of naive, L2 and EWC training on B from A's optimum, with A's Fisher drawn as an ellipse."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6))
    plot_landscape(pg, ax)
    ellipse = fisher_ellipse(pg)
    ax.fill(ellipse[:, 0], ellipse[:, 1], color="tab:green", alpha=0.15, lw=0,
            label="A's Fisher: equal-penalty ellipse")
    ax.plot(ellipse[:, 0], ellipse[:, 1], color="tab:green", lw=1)
    for name, path in paths.items():
        _path(ax, path, name, **PATH_STYLES.get(name, {}))
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)   # the paths run low and right: keep them clear
    ax.set_title(title or f"training on B from A's optimum, lambda = {lam:.3g}")
    return ax.figure


def penalty_view(pg: Playground, lam: float, paths: Mapping[str, np.ndarray]):
    """The chapter 3 slider's picture and text line: paths at `lam` and each end point's loss on A and B."""
    fig = plot_penalty_paths(pg, paths, lam)
    ends = " | ".join(f"{name} end: A {float(losses_at(p[-1], pg.A)):.3f}, B {float(losses_at(p[-1], pg.B)):.3f}"
                      for name, p in paths.items())
    return fig, f"lambda = {lam:.3g} | loss at the end point ({ends})"
