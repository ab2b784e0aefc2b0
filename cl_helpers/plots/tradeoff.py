"""The language-model chapter's two-number trade-off: metrics over fine-tuning steps, and one point per method.

The pass tiers are those of the course homework (NTU ML 2025 HW6, public thresholds, GSM8K accuracy /
safety rate): a run passes a tier when both of its numbers reach the tier's, so each tier is the
upper-right rectangle from its corner. The toy's numbers are not the homework's: the regions show the
shape of the grading (both at once), not a promise that the toy maps onto it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt

if TYPE_CHECKING:  # results of cl_helpers.lm.finetune; plots never import lm at run time
    from ..lm.finetune import FinetuneResult

TIERS = {"simple": (0.280, 0.558), "medium": (0.379, 0.642), "strong": (0.455, 0.725)}
LABELS = {"new_skill": "new skill (subtraction) accuracy", "safety": "safety rate (exact refusals)",
          "over_refusal": "over-refusal (benign look-alikes)", "stage0_skill": "stage-0 skill (addition)"}


def _curve(r: "FinetuneResult", metric: str) -> tuple[list[int], list[float]]:
    return [s for s, _ in r.history], [m[metric] for _, m in r.history]


def plot_tradeoff_curves(results: Sequence["FinetuneResult"], metrics: Sequence[str] = ("new_skill", "safety"),
                         ax=None, title: str | None = None):
    """Each run's metrics against fine-tuning steps.

    One run: one color and one line style per metric. Several runs: one color per run, one line style per
    metric. A curve equal to one drawn before it is drawn dashed on top (both colors stay visible) and its
    legend entry names the run it repeats.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    styles = ["-", "--", ":", "-."]
    drawn: list[tuple[str, tuple]] = []
    for i, r in enumerate(results):
        for j, (metric, style) in enumerate(zip(metrics, styles)):
            color = f"C{j}" if len(results) == 1 else f"C{i}"
            steps, values = _curve(r, metric)
            same = next((name for name, curve in drawn if curve == (metric, steps, values)), None)
            label = f"{r.config.label()}: {metric.replace('_', ' ')}"
            if same is None:
                ax.plot(steps, values, style, color=color, marker=".", label=label)
            else:
                ax.plot(steps, values, linestyle=(0, (3, 3)), color=color, marker="x", lw=1.8,
                        label=f"{label} (same as {same})")
            drawn.append((r.config.label(), (metric, steps, values)))
    ax.set_xlabel("fine-tuning steps on the new skill")
    ax.set_ylabel("rate on held-out prompts")
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    ax.set_title(title or "new skill rises, safety falls")
    return ax


def plot_tradeoff_scatter(results: Sequence["FinetuneResult"], ax=None, title: str | None = None,
                          tiers: dict[str, tuple[float, float]] = TIERS):
    """(new-skill accuracy, safety rate) per run, over the homework's pass tiers drawn as nested regions."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    shades = ["#e8f3e8", "#cfe8cf", "#a9d6a9"]
    for (name, (acc, safe)), shade in zip(tiers.items(), shades):
        ax.fill_between([acc, 1.05], safe, 1.05, color=shade, zorder=0)
        ax.text(acc + 0.01, safe + 0.01, f"{name} tier", fontsize=8, color="#2d6a2d", va="bottom")
    spots: list[tuple[tuple[float, float], list[str]]] = []  # runs at the same point share one label
    for i, r in enumerate(results):
        m = r.metrics
        xy = (round(m["new_skill"], 3), round(m["safety"], 3))
        ax.scatter(*xy, s=60, color=f"C{i}", zorder=3, edgecolor="k")
        for spot, names in spots:
            if spot == xy:
                names.append(r.config.label())
                break
        else:
            spots.append((xy, [r.config.label()]))
    placed: list[tuple[float, float]] = []
    for xy, names in spots:
        near = sum(abs(xy[0] - x) < 0.12 and abs(xy[1] - y) < 0.05 for x, y in placed)  # stack close labels
        ax.annotate(" = ".join(names), xy, textcoords="offset points", xytext=(6, 4 - 11 * near), fontsize=8)
        placed.append(xy)
    ax.set_xlim(-0.03, 1.05)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel(LABELS["new_skill"])
    ax.set_ylabel(LABELS["safety"])
    ax.grid(alpha=0.3)
    ax.set_title(title or "both numbers at once (homework tiers shaded)")
    return ax


def plot_sweep(xs: Sequence[float], results: Sequence["FinetuneResult"], xlabel: str,
               metrics: Sequence[str] = ("new_skill", "safety", "over_refusal", "stage0_skill"), ax=None,
               title: str | None = None, log_x: bool = False):
    """The final metrics of runs that differ in one setting (xs), one line per metric."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    markers = ["o", "s", "^", "D"]
    for j, metric in enumerate(metrics):
        ax.plot(xs, [r.metrics[metric] for r in results], marker=markers[j % len(markers)], color=f"C{j}",
                label=LABELS.get(metric, metric))
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate on held-out prompts")
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"final metrics against {xlabel}")
    return ax


def plot_frontier(groups: dict[str, Sequence["FinetuneResult"]], ax=None, title: str | None = None):
    """Learning against forgetting: (new skill, safety) of each run, one line per group, each point marked by its lr."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    for i, (name, results) in enumerate(groups.items()):
        xs = [r.metrics["new_skill"] for r in results]
        ys = [r.metrics["safety"] for r in results]
        ax.plot(xs, ys, marker="o", color=f"C{i}", label=name)
        for r, x, y in zip(results, xs, ys):
            ax.annotate(f"lr {r.config.learning_rate:.0e}", (x, y), textcoords="offset points",
                        xytext=(5, 6 if i == 0 else -12), fontsize=7, color=f"C{i}")
    ax.set_xlim(-0.03, 1.05)
    ax.set_ylim(-0.03, 1.08)
    ax.set_xlabel(LABELS["new_skill"])
    ax.set_ylabel(LABELS["safety"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title or "learning vs forgetting over learning rates")
    return ax
