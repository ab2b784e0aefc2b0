"""Full fine-tuning versus LoRA on a new task: how much each learns of it and forgets of the old one.

A model is trained on one task (the "pretrained" model); one copy is then fine-tuned on another task with
every weight trainable, another with LoRA adapters on the frozen weights. LoRA trains a small fraction of
the parameters and moves the weights only along a low-rank update. Biderman et al. 2024 ("LoRA Learns Less
and Forgets Less", Llama-2-7B) found it learns less of the new task and forgets less of the old one; how much
less it forgets here depends on the rank and on the scale alpha / rank (a small rank at a large scale forgets
more than full fine-tuning). The pretrained model is cached per (stream, training config), so a rank sweep
trains it once.
"""
from __future__ import annotations

import copy
import dataclasses
import weakref
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from torch import nn

from ..device import set_seed
from ..errors import ConfigError, check_float, check_int
from ..lora import ALL, add_lora, check_rank, find_targets
from ..models import build_model, count_parameters
from ..strategies import Strategy
from ..tasks import TaskStream
from ..train import TrainConfig, evaluate, train_stream

DEFAULT_RANK = 8
SWEEP_RANKS = (1, 2, 4, 8, 16, 32)
# The output layer's rank is capped at min(256, 10) = 10, so ranks up to 32 adapt the hidden layers only.
SWEEP_TARGETS = "body"


@dataclass
class FinetuneResult:
    """One fine-tuning run: what it trained, what it reached on the new task and kept of the old one."""

    method: str                # "full" or "lora"
    rank: int | None           # None for full fine-tuning
    alpha: float | None
    targets: str | None
    trainable: int             # parameters the optimizer updated
    total: int                 # parameters of the model (the base plus the adapters for LoRA)
    new_before: float          # new-task accuracy of the pretrained model
    new_after: float           # new-task accuracy after fine-tuning
    old_before: float          # old-task accuracy of the pretrained model
    old_after: float           # old-task accuracy after fine-tuning
    seconds: float             # training time of the fine-tuning (not the pretraining, not evaluation)

    @property
    def forgetting(self) -> float:
        """Old-task accuracy lost by fine-tuning: old_before - old_after."""
        return self.old_before - self.old_after

    @property
    def share(self) -> float:
        """Trainable parameters over the base model's (the adapters not counted): one denominator everywhere."""
        base = self.total - (self.trainable if self.rank is not None else 0)
        return self.trainable / base

    @property
    def label(self) -> str:
        """'full' or 'LoRA r=8' for tables and plots."""
        return "full" if self.rank is None else f"LoRA r={self.rank}"

    def to_dict(self) -> dict:
        """A JSON-ready dict including the forgetting."""
        return {**dataclasses.asdict(self), "forgetting": self.forgetting, "share": self.share}


class _OnTask(Strategy):
    """Plain training of whatever requires grad, labelled with the task's own id (a multi-head model then
    trains and evaluates the same head even though the task runs alone in a one-task stream)."""

    name = "finetune"

    def training_data(self, stream, t: int):
        task = stream[t]
        return task.x_train, task.y_train, torch.full_like(task.y_train, task.id)


_CACHE: dict[int, tuple[weakref.ref, dict]] = {}


def _config(epochs: int, lr: float, batch_size: int, seed: int, hidden: Sequence[int]) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, hidden=tuple(hidden))


def _one_task(stream: TaskStream, i: int) -> TaskStream:
    return dataclasses.replace(stream, tasks=[stream[i]])


def _check_tasks(stream: TaskStream, old_task: int, new_task: int) -> None:
    if len(stream) < 2:
        raise ConfigError(f"fine-tuning needs a stream of at least 2 tasks, got {len(stream)}; allowed: >= 2")
    check_int("old_task", old_task, 0, len(stream) - 1)
    check_int("new_task", new_task, 0, len(stream) - 1)
    if old_task == new_task:
        raise ConfigError(f"new_task {new_task} is the old task; allowed: another of 0..{len(stream) - 1}")


def _check_lora(stream: TaskStream, hidden: Sequence[int], ranks: Iterable[int], alpha: float | None,
                targets) -> None:
    # On a throwaway model of the same shape, so bad settings fail before any training.
    layers = find_targets(build_model(stream, tuple(hidden)), targets)
    for rank in ranks:
        for name, layer in layers.items():
            check_rank(rank, layer, name)
    if alpha is not None:
        check_float("alpha", alpha, 0.0, None, low_open=True)


def pretrained_model(stream: TaskStream, old_task: int = 0, epochs: int = 5, lr: float = 1e-3,
                     batch_size: int = 128, seed: int = 0, hidden: Sequence[int] = (256, 256),
                     progress: bool = False) -> nn.Module:
    """A copy of the model trained on `old_task` alone, trained once per (stream, settings) and cached."""
    config = _config(epochs, lr, batch_size, seed, hidden)
    key = (old_task, tuple(sorted((k, str(v)) for k, v in dataclasses.asdict(config).items())))
    ref, models = _CACHE.get(id(stream), (None, {}))
    if ref is None or ref() is not stream:  # a new stream (or a dead one whose id was reused)
        models = {}
        _CACHE[id(stream)] = (weakref.ref(stream), models)
        weakref.finalize(stream, _CACHE.pop, id(stream), None)  # free the models with the stream
    if key not in models:
        models[key] = train_stream(_one_task(stream, old_task), _OnTask(), config, progress=progress).model
    return copy.deepcopy(models[key])


def clear_pretrained_cache() -> None:
    """Forget every cached pretrained model."""
    _CACHE.clear()


def finetune(stream: TaskStream, rank: int | None = None, alpha: float | None = None,
             targets: str | Iterable[str] = ALL, old_task: int = 0, new_task: int = 1, epochs: int = 5,
             lr: float = 1e-3, batch_size: int = 128, seed: int = 0, hidden: Sequence[int] = (256, 256),
             progress: bool = False, pretrain_epochs: int | None = None) -> FinetuneResult:
    """Fine-tune the pretrained model on `new_task`: fully (rank None) or with LoRA adapters of `rank`.

    The pretrained model is trained for `pretrain_epochs` (None: `epochs`), so a slider over `epochs` can
    keep starting from the same cached model.
    """
    _check_tasks(stream, old_task, new_task)
    config = _config(epochs, lr, batch_size, seed, hidden)
    if rank is not None:
        _check_lora(stream, hidden, [rank], alpha, targets)
    pre_epochs = epochs if pretrain_epochs is None else check_int("pretrain_epochs", pretrain_epochs, 1, 1000)
    model = pretrained_model(stream, old_task, pre_epochs, lr, batch_size, seed, hidden, progress)
    old, new = stream[old_task], stream[new_task]
    old_before, new_before = evaluate(model, old), evaluate(model, new)
    if rank is not None:
        set_seed(seed)  # the adapters' random A
        add_lora(model, rank, alpha, targets)
    trainable = count_parameters(model)
    run = train_stream(_one_task(stream, new_task), _OnTask(), config, model=model, progress=progress)
    model = run.model.eval()  # train_stream trains a copy of the model it is given
    targets_name = None if rank is None else (targets if isinstance(targets, str) else ",".join(targets))
    return FinetuneResult(
        method="full" if rank is None else "lora", rank=rank,
        alpha=None if rank is None else (float(rank) if alpha is None else float(alpha)), targets=targets_name,
        trainable=trainable, total=count_parameters(model, trainable_only=False), new_before=new_before,
        new_after=evaluate(model, new), old_before=old_before, old_after=evaluate(model, old),
        seconds=run.train_seconds)


def compare_finetuning(stream: TaskStream, rank: int = DEFAULT_RANK, alpha: float | None = None,
                       epochs: int = 5, targets: str | Iterable[str] = ALL, old_task: int = 0, new_task: int = 1,
                       lr: float = 1e-3, batch_size: int = 128, seed: int = 0,
                       hidden: Sequence[int] = (256, 256), progress: bool = False) -> list[FinetuneResult]:
    """[full fine-tuning, LoRA] from the same pretrained model, same data order and optimizer settings."""
    _check_tasks(stream, old_task, new_task)
    _check_lora(stream, hidden, [rank], alpha, targets)
    common = dict(old_task=old_task, new_task=new_task, epochs=epochs, lr=lr, batch_size=batch_size,
                  seed=seed, hidden=hidden, progress=progress)
    return [finetune(stream, None, **common), finetune(stream, rank, alpha, targets, **common)]


def rank_sweep(stream: TaskStream, ranks: Sequence[int] = SWEEP_RANKS, alpha: float | None = None,
               targets: str | Iterable[str] = SWEEP_TARGETS, full: bool = True, epochs: int = 5,
               old_task: int = 0, new_task: int = 1, lr: float = 1e-3, batch_size: int = 128, seed: int = 0,
               hidden: Sequence[int] = (256, 256), progress: bool = False) -> list[FinetuneResult]:
    """LoRA fine-tuning at each rank (plus full fine-tuning first if `full`), from one pretrained model.

    `alpha`: a number keeps alpha fixed while the rank varies (Hu et al. 2021's convention: the scale alpha / r
    shrinks as r grows); None sets alpha = r at every rank (the scale stays 1).
    """
    ranks = list(ranks)
    if not ranks:
        raise ConfigError("rank_sweep needs at least one rank; allowed: ranks >= 1")
    _check_tasks(stream, old_task, new_task)
    _check_lora(stream, hidden, ranks, alpha, targets)
    common = dict(old_task=old_task, new_task=new_task, epochs=epochs, lr=lr, batch_size=batch_size,
                  seed=seed, hidden=hidden, progress=progress)
    out = [finetune(stream, None, **common)] if full else []
    return out + [finetune(stream, r, alpha, targets, **common) for r in ranks]


def format_finetuning(results: Iterable[FinetuneResult], labels: Sequence[str] | None = None) -> str:
    """A plain-text table: method, trainable parameters, new-task accuracy, old task before/after, forgetting.

    `labels`: one name per result instead of its own label ("full", "LoRA r=8").
    """
    results = list(results)
    names = [r.label for r in results] if labels is None else [str(n) for n in labels]
    if len(names) != len(results):
        raise ConfigError(f"{len(names)} labels for {len(results)} results; allowed: one label per result")
    w = max([12] + [len(n) + 2 for n in names])
    lines = [f"{'method':<{w}}{'trainable':>11}{'share':>8}{'new task':>10}{'old before':>12}{'old after':>11}"
             f"{'forgetting':>12}{'seconds':>9}"]
    for r, name in zip(results, names):
        lines.append(f"{name:<{w}}{r.trainable:>11,}{r.share:>8.1%}{r.new_after:>10.4f}"
                     f"{r.old_before:>12.4f}{r.old_after:>11.4f}{r.forgetting:>12.4f}{r.seconds:>9.2f}")
    return "\n".join(lines)
