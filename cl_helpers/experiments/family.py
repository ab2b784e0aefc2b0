"""The three families measured: what each method stores, how well it learns the new task, how well it keeps old ones.

`stored_numbers` counts what a run's strategy holds at the end beyond the model it started from: every
tensor it keeps (a replay memory, Fisher matrices and anchors, frozen copies of the model, a generator,
PackNet's owner labels), plus the parameters the model grew (LoRA adapters, progressive columns). It walks
the strategy's attributes, so it measures what the code keeps rather than what a formula says it should.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..buffer import ReplayBuffer
from ..models import build_model
from ..results import RunResult

FAMILY = {
    "naive": "reference", "joint": "reference",
    "ewc": "regularization", "online_ewc": "regularization", "si": "regularization", "mas": "regularization",
    "lwf": "regularization",
    "replay": "replay", "agem": "replay", "generative_replay": "replay", "pseudo_rehearsal": "replay",
    "lora": "architecture", "lora_per_task": "architecture", "progressive": "architecture", "packnet": "architecture",
}
# The data it was given, settings, pictures for the chapter, and the last mini-batch's scratch values.
NOT_MEMORY = {"stream", "config", "dreams", "dream_z", "old_replay_logits"}


def _numbers(value: Any, seen: set[int]) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, nn.Module):
        return sum(_numbers(t, seen) for t in (*value.parameters(), *value.buffers()))
    if isinstance(value, ReplayBuffer):
        return value.x.numel() + value.y.numel() + value.task_ids.numel()
    if isinstance(value, dict):
        return sum(_numbers(v, seen) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_numbers(v, seen) for v in value)
    return 0


def stored_numbers(result: RunResult) -> int:
    """Numbers the method keeps beyond the plain model (tensors held by the strategy + parameters the model grew)."""
    strategy, model = result.strategy, result.model
    stream = strategy.stream
    base = sum(p.numel() for p in build_model(stream, result.config["hidden"]).parameters())
    grown = sum(p.numel() for p in model.parameters()) - base
    if result.method == "joint":   # it keeps every training example seen so far (inputs and labels)
        return sum(t.x_train.numel() + t.y_train.numel() for t in stream)
    seen = {id(t) for t in (*model.parameters(), *model.buffers())}
    held = sum(_numbers(v, seen) for k, v in vars(strategy).items() if k not in NOT_MEMORY)
    return held + grown


def family_row(result: RunResult, label: str | None = None) -> dict[str, Any]:
    """One method's row: family, stored numbers (and in images), mean R[k, k] (new), mean R[T-1, j<T-1] (old), ACC."""
    R = result.acc_matrix
    T = len(R)
    numbers = stored_numbers(result)
    name = result.strategy.name if result.strategy is not None else result.method   # a relabelled run keeps it
    return {"method": label or result.method, "family": FAMILY.get(name, "?"),
            "stored": numbers, "images": numbers / result.strategy.stream.input_size,
            "new": float(np.mean(np.diag(R))), "old": float(R[T - 1, :T - 1].mean()), "acc": float(R[T - 1].mean())}


def format_family_table(results: Iterable[RunResult], labels: Sequence[str] | None = None) -> str:
    """A plain-text table of `family_row` for each run, grouped by family in the order given."""
    results = list(results)
    rows = [family_row(r, labels[i] if labels else None) for i, r in enumerate(results)]
    order = ["reference", "regularization", "replay", "architecture", "?"]
    rows.sort(key=lambda row: order.index(row["family"]))
    lines = [f"{'family':<15}{'method':<24}{'stored numbers':>15}{'(images)':>10}{'new task':>10}{'old tasks':>11}"
             f"{'ACC':>8}"]
    for row in rows:
        lines.append(f"{row['family']:<15}{row['method']:<24}{row['stored']:>15,}{row['images']:>10.0f}"
                     f"{row['new']:>10.3f}{row['old']:>11.3f}{row['acc']:>8.3f}")
    return "\n".join(lines)
