"""A metric against a knob: a hyperparameter sweep, the LoRA rank (two views), the replay buffer size."""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..errors import ConfigError
from ..metrics import new_task_accuracy
from ..results import RunResult
from .matrices import plot_acc_matrix

if TYPE_CHECKING:  # results of cl_helpers.experiments.finetune; plots never import experiments at run time
    from ..experiments.finetune import FinetuneResult


SYMBOLS = {"lam": r"$\lambda$", "c": r"$c$", "alpha": r"$\alpha$", "gamma": r"$\gamma$", "xi": r"$\xi$",
           "temperature": r"$T$"}  # hyperparameters as the chapters write them


def plot_rank_curves(results: Sequence[FinetuneResult], ax=None, title: str | None = None):
    """New-task and old-task accuracy after fine-tuning against the rank (log 2 axis); full fine-tuning at "full".

    Full fine-tuning is drawn as two squares at its own tick right of the ranks, not as lines across the axis,
    so that it never hides the line of the old task before fine-tuning when the two values coincide.
    Forgetting is not drawn here (it is not an accuracy): `plot_rank_sweep` shows it against what was learnt.
    """
    lora = sorted((r for r in results if r.rank is not None), key=lambda r: r.rank)
    if not lora:
        raise ConfigError("plot_rank_curves needs LoRA results; allowed: the list rank_sweep() returned")
    full = next((r for r in results if r.rank is None), None)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    ranks = [r.rank for r in lora]
    series = [("new task", lambda r: r.new_after, "C0"), ("old task after", lambda r: r.old_after, "C1")]
    for name, fn, color in series:
        ax.plot(ranks, [fn(r) for r in lora], "o-", color=color, label=f"{name}, LoRA")
    ticks, names = list(ranks), [str(r) for r in ranks]
    if full is not None:
        at = ranks[-1] * 2 ** 1.5  # one and a half octaves right of the largest rank
        ax.axvline(ranks[-1] * 2 ** 0.75, color="grey", lw=0.8)
        for name, fn, color in series:
            ax.plot([at], [fn(full)], "s", ms=8, color=color, label=f"{name}, full fine-tuning ({fn(full):.3f})")
        ticks.append(at)
        names.append("full")
    ax.axhline(lora[0].old_before, color="black", ls=":", lw=1.2,
               label=f"old task before fine-tuning ({lora[0].old_before:.3f})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, names)
    ax.minorticks_off()
    ax.set_xlim(ranks[0] / 2 ** 0.5, ticks[-1] * 2 ** 0.5)
    ax.set_xlabel("LoRA rank r")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "LoRA: what the rank buys and costs", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.grid(alpha=0.3)
    return ax.figure


def _overlap(a, b) -> float:
    """Area shared by two display-space boxes (0 if they do not touch)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


# Where a point's label may go, in points from the point: right, left, above, below and the four diagonals,
# first close by, then farther out with a thin leader line back to the point (for points packed together).
_DIRECTIONS = ((1, 0, "left"), (-1, 0, "right"), (0, 1, "center"), (0, -1, "center"),
               (0.8, 0.8, "left"), (-0.8, 0.8, "right"), (0.8, -0.8, "left"), (-0.8, -0.8, "right"))
_RADII = (8, 16, 26, 38)


def label_points(ax, points: Sequence[tuple[float, float]], texts: Sequence[str], color="black",
                 fontsize: float = 8) -> list:
    """Annotate each point with its text where it overlaps least the labels, markers and lines already drawn.

    A label that has to sit away from its point gets a thin leader line to it. A point that already carries
    the same text at the same place (two curves through one result) is not labelled twice. Call it once the
    axis limits and the layout are final; returns the annotations.
    """
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    obstacles = [Text.get_window_extent(t, renderer) for t in ax.texts]
    done = {(t.get_text(), tuple(np.round(ax.transData.transform(t.xy)))) for t in ax.texts if hasattr(t, "xy")}
    for line in ax.lines:
        xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        if len(xy) > 1 and line.get_linestyle() not in ("None", "", " "):  # the segments, sampled
            xy = np.concatenate([np.linspace(p, q, 12) for p, q in zip(xy[:-1], xy[1:])])
        r = 4.0 if line.get_marker() not in (None, "None", "", " ") else 1.5
        obstacles += [Bbox([[x - r, y - r], [x + r, y + r]]) for x, y in xy]
    placed, labels = [], list(obstacles[:len(ax.texts)])
    for (x, y), text in zip(points, texts):
        key = (text, tuple(np.round(ax.transData.transform((x, y)))))
        if key in done:
            continue
        best = None
        for radius in _RADII:
            for dx, dy, ha in _DIRECTIONS:
                arrow = None if radius == _RADII[0] else dict(arrowstyle="-", lw=0.6, color=color, shrinkA=1,
                                                              shrinkB=3)
                ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx * radius, dy * radius),
                                  ha=ha, va="center", fontsize=fontsize, color=color, arrowprops=arrow)
                ann.update_positions(renderer)  # where the text lands, as drawing would put it
                box = Text.get_window_extent(ann, renderer).padded(3)
                cost = sum(_overlap(box, o) for o in obstacles)
                cost += box.width * box.height - _overlap(box, frame)  # outside the axes counts as overlap
                leader = []
                if arrow is not None:  # the leader line must not cross a label either
                    start = ax.transData.transform((x, y))
                    end = np.array([box.x0 + box.width / 2, box.y0 + box.height / 2])
                    leader = [Bbox([q - 1, q + 1]) for q in np.linspace(start, end, 16)[3:-3]]
                    cost += sum(_overlap(q, o) for q in leader for o in labels) * 20
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, ann, box, leader)
                else:
                    ann.remove()
                if cost == 0:
                    break
            if best[0] == 0:
                break
        obstacles += [best[2]] + best[3]
        labels.append(best[2])
        done.add(key)
        placed.append(best[1])
    return placed


def plot_rank_sweep(results: Sequence[FinetuneResult] | Mapping[str, Sequence[FinetuneResult]], ax=None,
                    title: str | None = None):
    """Forgetting against new-task accuracy, one point per rank (full fine-tuning as a star): learn vs forget.

    `results`: one sweep (the list rank_sweep() returned), or several by name, e.g. {"alpha = 8": ..., "alpha = r":
    ...}, each drawn as its own curve. Rank labels are placed so that they do not overprint each other.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.2))
    groups = list(results.items()) if isinstance(results, Mapping) else [("LoRA", results)]
    everything = [r for _, rs in groups for r in rs]
    if not everything:
        raise ConfigError("plot_rank_sweep needs results; allowed: the list rank_sweep() returned")
    colors = [f"C{k}" for k in (0, 2, 4, 5, 6, 7)]
    curves = []
    for k, ((name, rs), color) in enumerate(zip(groups, colors)):
        lora = sorted((r for r in rs if r.rank is not None), key=lambda r: r.rank)
        # each later curve's markers smaller and of another shape: a result two curves share shows both
        ax.plot([r.new_after for r in lora], [r.forgetting for r in lora], "os^Dv<"[k % 6] + "-",
                ms=max(7 - 2 * k, 3), color=color, label=name)
        curves.append((lora, color))
    full = next((r for r in everything if r.rank is None), None)
    if full is not None:
        ax.plot(full.new_after, full.forgetting, "*", ms=14, color="C3", label="full fine-tuning")
    ax.axhline(0, color="black", lw=0.8)
    ax.margins(x=0.08, y=0.1)
    ax.autoscale_view()
    ax.set_ylim(bottom=min(0.0, min(r.forgetting for r in everything) - 0.01))
    ax.set_xlabel("new-task accuracy (learns more ->)")
    ax.set_ylabel("old-task forgetting (forgets more ->)")
    ax.set_title(title or "learning vs forgetting, one point per rank", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(groups) + 1)
    ax.grid(alpha=0.3)
    for (lora, color), k in zip(curves, range(len(curves))):
        points, texts = _rank_groups(ax, lora, max(7 - 2 * k, 3))
        label_points(ax, points, texts, color=color)
    return ax.figure


def _rank_groups(ax, lora: Sequence[FinetuneResult], marker_size: float) -> tuple[list, list[str]]:
    """Label spots of a rank curve: consecutive ranks whose markers overlap share one label ("r=16–128")."""
    xy = ax.transData.transform([(r.new_after, r.forgetting) for r in lora])
    touch = marker_size * ax.figure.dpi / 72  # marker diameter in pixels
    groups = [[0]]
    for i in range(1, len(lora)):
        if np.hypot(*(xy[i] - xy[i - 1])) < touch:
            groups[-1].append(i)
        else:
            groups.append([i])
    points, texts = [], []
    for g in groups:
        points.append((float(np.mean([lora[i].new_after for i in g])), float(np.mean([lora[i].forgetting for i in g]))))
        first, last = lora[g[0]].rank, lora[g[-1]].rank
        texts.append(f"r={first}" if len(g) == 1 else f"r={first}\u2013{last}")
    return points, texts


def plot_sweep(results: Sequence[RunResult], param: str, baseline: RunResult | None = None, log: bool = True,
               ax=None, title: str | None = None):
    """Accuracies (left) and forgetting (right) against the swept value; the baseline's as dashed lines.

    `ax`: None or a pair of axes. The x axis names the hyperparameter by its symbol (lam -> lambda).
    """
    if not results:
        raise ConfigError("plot_sweep needs at least one result; allowed: the list sweep() returned")
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(12, 4))
    acc_ax, fgt_ax = ax
    x = [r.strategy.hparams[param] for r in results]
    panels = [(acc_ax, [("ACC (final average accuracy)", lambda r: r.summary()["acc"], "C0"),
                        ("new-task accuracy (mean R[j, j], j >= 1)", lambda r: new_task_accuracy(r.acc_matrix), "C2")]),
              (fgt_ax, [("average forgetting", lambda r: r.summary()["forgetting"], "C3")])]
    for a, series in panels:
        for name, fn, color in series:
            a.plot(x, [fn(r) for r in results], "o-", color=color, label=name)
            if baseline is not None:
                # drawn above the swept curve (zorder) and thinner, so a curve that runs along it cannot hide it
                a.axhline(fn(baseline), color=color, ls=(0, (4, 3)), lw=1.4, alpha=0.8, zorder=3,
                          label=f"{baseline.method}: {fn(baseline):.3f} (dashed)")
        if log:
            a.set_xscale("log")
        a.set_xlabel(SYMBOLS.get(param, param) + (" (log scale)" if log else ""))
        a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
        a.grid(alpha=0.3)
    acc_ax.set_ylabel("test accuracy")
    acc_ax.set_ylim(0, 1.02)
    fgt_values = [r.summary()["forgetting"] for r in results] + ([baseline.summary()["forgetting"]] if baseline else [])
    fgt_ax.set_ylim(min(0.0, min(fgt_values)) - 0.01, max(fgt_values) * 1.15 + 0.01)
    fgt_ax.axhline(0, color="black", lw=0.8)
    fgt_ax.set_ylabel("average forgetting (lower is better)")
    method = results[0].method
    fig = acc_ax.figure
    fig.suptitle(title or f"{method}: sweeping {SYMBOLS.get(param, param)}")
    fig.tight_layout()
    return fig


def plot_buffer_effect(acc_by_size: Mapping[int, float], current: RunResult,
                       baselines: Mapping[str, float] | None = None):
    """Left: final ACC against buffer size for the sizes tried so far (current one circled); right: R of this run."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    sizes = sorted(acc_by_size)
    a.plot(sizes, [acc_by_size[s] for s in sizes], marker="o", color="tab:green", label="replay (sizes tried)")
    size = current.config.get("hparams", {}).get("buffer_size")
    acc = current.summary()["acc"]
    a.scatter([size], [acc], s=160, facecolors="none", edgecolors="black", linewidths=2, zorder=5,
              label=f"buffer size = {size}: ACC {acc:.3f}")
    # Each reference line has its own colour, line style and marker; the markers sit at staggered x positions,
    # so two baselines that nearly coincide (naive and EWC in class-incremental split MNIST) both stay visible.
    styles, markers = ("--", ":", "-.", (0, (5, 2, 1, 2))), ("v", "s", "^", "D")
    refs = list((baselines or {}).items())
    known = sizes + ([size] if size is not None else [])
    lo, hi = (min(known) / 1.3, max(known) * 1.3) if known else (1.0, 10.0)
    xs = np.geomspace(lo, hi, 4 * max(len(refs), 1) + 1)
    for k, (name, value) in enumerate(refs):
        a.plot(xs, np.full_like(xs, value), ls=styles[k % len(styles)], lw=1.5, color=f"C{k + 3}",
               marker=markers[k % len(markers)], ms=6, markevery=(k + 1, len(refs) + 1) if refs else None,
               label=f"{name}: ACC {value:.3f}")
    a.set_xscale("log")
    a.set_xlim(lo, hi)
    a.set_ylim(0, 1.02)
    a.set_xlabel("buffer size (examples in memory, log scale)")
    a.set_ylabel("final ACC (all tasks)")
    a.set_title("replay: final ACC against buffer size")
    a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    a.grid(alpha=0.3)
    plot_acc_matrix(current, ax=b, title=f"R[i, j], buffer size = {size}")
    fig.tight_layout()
    return fig
