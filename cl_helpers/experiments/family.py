"""The three families measured: what each method stores, how well it learns the new task, how well it keeps old ones.

`stored_numbers` counts what a run's strategy holds at the end beyond the model it started from: every
tensor it keeps (a replay memory, Fisher matrices and anchors, frozen copies of the model, a generator,
PackNet's owner labels), plus the parameters the model grew (LoRA adapters, progressive columns). It walks
the strategy's attributes, so it measures what the code keeps rather than what a formula says it should.
Numbers are counted once per storage element: a view (SI's per-parameter views of its flat Omega and
anchor, EWC's lists of the same Fisher tensors) adds nothing beyond the tensor it looks into, and a tensor
that shares the model's storage is the model. Per-step scratch (the last mini-batch's gradient, inputs or
logits, overwritten at every step) is not memory a method keeps, so it is left out, like activations.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..buffer import ReplayBuffer
from ..models import build_model
from ..results import RunResult
from ..tasks import TaskStream
from ..train import TrainConfig, train_stream

FAMILY = {
    "naive": "reference", "joint": "reference",
    "ewc": "regularization", "online_ewc": "regularization", "si": "regularization", "mas": "regularization",
    "lwf": "regularization",
    "replay": "replay", "agem": "replay", "generative_replay": "replay", "pseudo_rehearsal": "replay",
    "lora": "architecture", "lora_per_task": "architecture", "progressive": "architecture", "packnet": "architecture",
}
# The data it was given, settings, pictures for the chapter, and per-step scratch: the last mini-batch's
# scratch values (generative replay's old logits; SI's task-loss gradient and parameters before the step).
NOT_MEMORY = {"stream", "config", "dreams", "dream_z", "old_replay_logits", "_grad", "_before"}


def _tensors(value: Any, seen: set[int]) -> Iterator[torch.Tensor]:
    """Every tensor that `value` holds (through modules, replay buffers, dicts, lists), each object once."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, nn.Module):
        yield from (*value.parameters(), *value.buffers())
    elif isinstance(value, ReplayBuffer):
        yield from (value.x, value.y, value.task_ids)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v, seen)


def _span(t: torch.Tensor) -> tuple[tuple[int, torch.device, int], int, int]:
    """(storage key, first, one past the last element) of the stretch of its storage a tensor lies in.

    For a contiguous tensor that is exactly its elements; a strided view also spans the gaps between them.
    """
    key = (t.untyped_storage().data_ptr(), t.device, t.element_size())
    start = t.storage_offset()
    if t.numel() == 0:
        return key, start, start
    return key, start, start + 1 + sum((n - 1) * abs(s) for n, s in zip(t.shape, t.stride()))


def distinct_numbers(tensors: Iterable[torch.Tensor], exclude: Iterable[torch.Tensor] = ()) -> int:
    """Storage elements the tensors lie in, each counted once (views share), minus those `exclude` lies in."""
    spans: dict[tuple, list[tuple[int, int]]] = {}
    for t in tensors:
        key, a, b = _span(t)
        if b > a:
            spans.setdefault(key, []).append((a, b))
    excluded: dict[tuple, list[tuple[int, int]]] = {}
    for t in exclude:
        key, a, b = _span(t)
        excluded.setdefault(key, []).append((a, b))
    total = 0
    for key, parts in spans.items():
        held = _merged(parts)
        total += sum(b - a for a, b in held) - _overlap(held, _merged(excluded.get(key, [])))
    return total


def _merged(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open intervals merged where they overlap or touch, sorted."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(parts):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _overlap(xs: list[tuple[int, int]], ys: list[tuple[int, int]]) -> int:
    """Elements two lists of disjoint intervals share."""
    return sum(max(0, min(b, d) - max(a, c)) for a, b in xs for c, d in ys)


def stored_numbers(result: RunResult) -> int:
    """Numbers the method keeps beyond the plain model (tensors held by the strategy + parameters the model grew)."""
    strategy, model = result.strategy, result.model
    stream = strategy.stream
    base = sum(p.numel() for p in build_model(stream, result.config["hidden"]).parameters())
    grown = sum(p.numel() for p in model.parameters()) - base
    if result.method == "joint":   # it keeps every training example seen so far (inputs and labels)
        return sum(t.x_train.numel() + t.y_train.numel() for t in stream)
    own = (*model.parameters(), *model.buffers())
    seen = {id(t) for t in own}
    held = [t for k, v in vars(strategy).items() if k not in NOT_MEMORY for t in _tensors(v, seen)]
    return distinct_numbers(held, exclude=own) + grown


def trained_alone(stream: TaskStream, config: TrainConfig) -> np.ndarray:
    """Accuracy on each task of a fresh single-head network trained on that task alone (Rusu et al.'s baseline).

    Same settings as `config` (sizes, epochs, seed); the task's head is the network's only head. A method's
    R[k, k] minus this is how much the earlier tasks helped it learn task k (transfer in Rusu et al.'s sense).
    """
    out = []
    for task in stream:
        alone = dataclasses.replace(stream, tasks=[dataclasses.replace(task, id=0)], n_heads=1)
        out.append(train_stream(alone, "naive", config, progress=False).acc_matrix[0, 0])
    return np.array(out)


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
    w = max([24] + [len(row["method"]) + 1 for row in rows])  # long names keep the columns aligned
    lines = [f"{'family':<15}{'method':<{w}}{'stored numbers':>15}{'(images)':>10}{'new task':>10}{'old tasks':>11}"
             f"{'ACC':>8}"]
    for row in rows:
        lines.append(f"{row['family']:<15}{row['method']:<{w}}{row['stored']:>15,}{row['images']:>10.0f}"
                     f"{row['new']:>10.3f}{row['old']:>11.3f}{row['acc']:>8.3f}")
    return "\n".join(lines)
