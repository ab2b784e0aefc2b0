"""The training engine: tensor-resident mini-batches, strategy hooks, evaluation on every task."""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .device import set_seed
from .errors import ConfigError, check_choice, check_float, check_int
from .models import build_model
from .results import RunResult
from .strategies import Strategy, get_strategy
from .tasks import Task, TaskStream

OPTIMIZERS = ("adam", "sgd")


@dataclass
class TrainConfig:
    """Training knobs; the defaults are the course notebook's (Adam 1e-3, batch 128, 3 epochs, fresh Adam per task)."""

    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    seed: int = 0
    reset_optimizer: bool = True
    hidden: Sequence[int] = field(default=(256, 256))
    eval_batch_size: int = 4096

    def __post_init__(self):
        check_int("epochs", self.epochs, 1, 1000)
        check_int("batch_size", self.batch_size, 1)
        check_float("lr", self.lr, 0.0, 10.0, low_open=True)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_int("seed", self.seed, 0)
        self.hidden = tuple(check_int("hidden size", h, 1) for h in self.hidden)


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, strategy: Strategy | None = None, batch_size: int = 4096) -> float:
    """Accuracy of `model` on `task`'s test set (through the strategy's forward, e.g. a per-task adapter)."""
    return float(_accuracy(model, task, strategy or Strategy(), batch_size))


@torch.no_grad()
def evaluate_all(model: nn.Module, stream: TaskStream, strategy: Strategy | None = None,
                 batch_size: int = 4096) -> np.ndarray:
    """Accuracy on every task of the stream, as an array (one device-to-host copy)."""
    strategy = strategy or Strategy()
    was_training = model.training
    model.eval()
    accs = torch.stack([_accuracy(model, task, strategy, batch_size) for task in stream])
    model.train(was_training)
    return accs.cpu().numpy().astype(float)


def _accuracy(model, task: Task, strategy: Strategy, batch_size: int) -> torch.Tensor:
    correct = torch.zeros((), device=task.y_test.device)
    for start in range(0, len(task.y_test), batch_size):
        x = task.x_test[start:start + batch_size]
        logits = strategy.forward(model, x, task.id)
        correct += (logits.argmax(1) == task.y_test[start:start + batch_size]).sum()
    return correct / len(task.y_test)


def _show_progress(progress: bool) -> bool:
    # tqdm.notebook ignores the TQDM_DISABLE environment default that plain tqdm honours; CI and saved
    # notebooks set it, so it is read here for every front end.
    return progress and os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false")


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """A fresh optimizer of the configured kind over `params`."""
    params = list(params)
    if config.optimizer == "adam":
        # The fused kernel updates all parameters in one pass instead of ~10 element-wise passes per
        # tensor (the same Adam up to float rounding); where this torch or device lacks it, the default.
        try:
            return torch.optim.Adam(params, lr=config.lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr)


def train_stream(stream: TaskStream, strategy: str | Strategy = "naive", config: TrainConfig | None = None,
                 model: nn.Module | None = None, progress: bool = True,
                 report: Callable[[int, int], None] | None = None, **overrides) -> RunResult:
    """Train a model on each task in turn with a strategy; evaluate every task after each epoch and task.

    `overrides` are TrainConfig fields (epochs=..., lr=...) for a one-line call from a notebook;
    `report(done, total)` is called after every epoch (a slider's progress bar).
    """
    if config is None:
        config = TrainConfig(**overrides)
    elif overrides:
        config = TrainConfig(**{**asdict(config), **overrides})
    strategy = get_strategy(strategy)
    device = stream[0].x_train.device
    set_seed(config.seed)
    if model is None:
        model = build_model(stream, config.hidden)
    model = strategy.setup(model.to(device), stream, config)
    model.to(device)
    gen = torch.Generator(device=device).manual_seed(config.seed)

    start = time.perf_counter()
    init_acc = evaluate_all(model, stream, strategy, config.eval_batch_size)
    T = len(stream)
    R = np.zeros((T, T))
    steps, curve, losses, boundaries = [0], [init_acc], [], []
    step, train_seconds, optimizer = 0, 0.0, None
    bar = tqdm(total=T * config.epochs, desc=strategy.name, leave=False, disable=not _show_progress(progress))
    for t, task in enumerate(stream):
        boundaries.append(step)
        model.train()
        strategy.before_task(model, task, stream)
        if optimizer is None or config.reset_optimizer:
            optimizer = make_optimizer(strategy.parameters_to_train(model), config)
        x_all, y_all, tid_all = strategy.training_data(stream, t)
        n = len(y_all)
        for epoch in range(config.epochs):
            t_epoch = time.perf_counter()
            total = torch.zeros((), device=device)
            order = torch.randperm(n, device=device, generator=gen)
            for s in range(0, n, config.batch_size):
                idx = order[s:s + config.batch_size]
                x, y, tids = strategy.make_batch(x_all[idx], y_all[idx], tid_all[idx], t)
                optimizer.zero_grad(set_to_none=True)
                logits = strategy.forward(model, x, tids)
                loss = strategy.loss(model, x, y, tids, logits)
                loss.backward()
                strategy.after_task_backward(model)
                penalty = strategy.penalty(model)
                if penalty is not None:
                    if penalty.requires_grad:
                        penalty.backward()
                    loss = loss + penalty.detach()
                strategy.after_backward(model)
                optimizer.step()
                strategy.after_step(model)
                total += loss.detach()
                step += 1
            train_seconds += time.perf_counter() - t_epoch
            losses.append(float(total) / max(1, -(-n // config.batch_size)))
            steps.append(step)
            curve.append(evaluate_all(model, stream, strategy, config.eval_batch_size))
            bar.update(1)
            bar.set_postfix(task=t, loss=f"{losses[-1]:.3f}")
            if report is not None:
                report(t * config.epochs + epoch + 1, T * config.epochs)
        t_after = time.perf_counter()
        strategy.after_task(model, task, stream)
        train_seconds += time.perf_counter() - t_after
        R[t] = evaluate_all(model, stream, strategy, config.eval_batch_size)
        if not np.isfinite(losses[-1]):
            raise ConfigError(f"training diverged on task {t} (loss {losses[-1]}); lower lr {config.lr:g} "
                              "or the method's strength")
    bar.close()
    return RunResult(
        method=strategy.name, acc_matrix=R, init_acc=init_acc, steps=np.array(steps),
        curve_acc=np.array(curve), task_boundaries=boundaries, epoch_loss=losses,
        seconds=time.perf_counter() - start, train_seconds=train_seconds,
        config={**asdict(config), "hidden": list(config.hidden), **stream.config,
                "method": strategy.name, "hparams": strategy.hparams},
        source=stream.source, task_names=[task.name for task in stream], model=model, strategy=strategy)
