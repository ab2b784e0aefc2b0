"""The training engine: tensor-resident mini-batches, strategy hooks, evaluation on every task."""
from __future__ import annotations

import os
import time
import weakref
import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .device import set_seed
from .errors import (ConfigError, check_bool, check_choice, check_float, check_int, check_seed, check_type,
                     check_widths)
from .models import build_model
from .optim import make_optimizer
from .results import RunResult
from .strategies import REGISTRY, Strategy, get_strategy
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
        # Keep the converted values: a NumPy integer or 2.0 becomes an int here, not deep inside torch.
        self.epochs = check_int("epochs", self.epochs, 1, 1000)
        self.batch_size = check_int("batch_size", self.batch_size, 1)
        self.lr = check_float("lr", self.lr, 0.0, 10.0, low_open=True)
        self.optimizer = check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.seed = check_seed("seed", self.seed)
        self.reset_optimizer = check_bool("reset_optimizer", self.reset_optimizer)
        self.hidden = check_widths("hidden", self.hidden)
        self.eval_batch_size = check_int("eval_batch_size", self.eval_batch_size, 1)



# The strategy each model was last trained with (weakly: it goes when the model goes), so that
# evaluate(model, task) goes through that strategy's forward (a per-task adapter) as the run did.
_TRAINED_WITH: "weakref.WeakKeyDictionary[nn.Module, Strategy]" = weakref.WeakKeyDictionary()


def _model_and_strategy(model: nn.Module | RunResult, strategy: Strategy | None) -> tuple[nn.Module, Strategy]:
    if isinstance(model, RunResult):
        if strategy is not None and strategy is not model.strategy:
            raise ConfigError("pass either a run (its model and strategy are used) or a model and a strategy, "
                              "not a run and another strategy")
        model, strategy = model.model, model.strategy
    check_type("model", model, nn.Module, "a RunResult or an nn.Module")
    if strategy is None:
        return model, _TRAINED_WITH.get(model) or Strategy()
    return model, check_type("strategy", strategy, Strategy, "the run's strategy (run.strategy) or None")


def _task_of(task: Task | int, strategy: Strategy) -> Task:
    if isinstance(task, Task):
        return task
    if strategy.stream is None:
        raise ConfigError(f"task {task!r} is not a Task; allowed: a Task such as stream[0] "
                          "(an index only with a run or a trained strategy)")
    return strategy.stream[check_int("task", task, 0, len(strategy.stream) - 1)]


@torch.no_grad()
def evaluate(model: nn.Module | RunResult, task: Task | int, strategy: Strategy | None = None,
             batch_size: int = 4096) -> float:
    """Accuracy on `task`'s test set, in eval mode, through the strategy's forward (e.g. a per-task adapter).

    Pass the run (`evaluate(run, stream[0])`) or a model and its strategy; a model alone is evaluated
    through the strategy it was last trained with by `train_stream`, so the number agrees with the run's.
    """
    model, strategy = _model_and_strategy(model, strategy)
    task = _task_of(task, strategy)
    batch_size = check_int("batch_size", batch_size, 1)
    was_training = model.training
    model.eval()
    try:
        return float(_accuracy(model, task, strategy, batch_size))
    finally:
        model.train(was_training)


@torch.no_grad()
def evaluate_all(model: nn.Module | RunResult, stream: TaskStream, strategy: Strategy | None = None,
                 batch_size: int = 4096) -> np.ndarray:
    """Accuracy on every task of the stream, as an array (one device-to-host copy); same arguments as `evaluate`."""
    model, strategy = _model_and_strategy(model, strategy)
    check_type("stream", stream, TaskStream, "a TaskStream from make_stream")
    batch_size = check_int("batch_size", batch_size, 1)
    was_training = model.training
    model.eval()
    try:
        accs = torch.stack([_accuracy(model, task, strategy, batch_size) for task in stream])
    finally:
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


def train_stream(stream: TaskStream, strategy: str | Strategy = "naive", config: TrainConfig | None = None,
                 model: nn.Module | None = None, progress: bool = True,
                 report: Callable[[int, int], None] | None = None, **overrides) -> RunResult:
    """Train a model on each task in turn with a strategy; evaluate every task after each epoch and task.

    `overrides` are TrainConfig fields (epochs=..., lr=...) for a one-line call from a notebook; a method's
    hyperparameters go to the strategy: `train_stream(stream, get_strategy("ewc", lam=10))`.
    `model` is copied, never changed, so the same model can start several runs; the trained one is
    `result.model`. `report(done, total)` is called after every epoch (a slider's progress bar).
    """
    check_type("stream", stream, TaskStream, "a TaskStream from make_stream")
    _check_overrides(strategy, overrides)
    if config is None:
        config = TrainConfig(**overrides)
    else:
        check_type("config", config, TrainConfig, "a TrainConfig")
        config = TrainConfig(**{**asdict(config), **overrides})
    strategy = get_strategy(strategy)
    if strategy.stream is not None:
        # Already used by a run: that run's result keeps its own strategy (its model may need it to evaluate).
        strategy = copy.deepcopy(strategy)
    progress = check_bool("progress", progress)
    if report is not None and not callable(report):
        raise ConfigError(f"report must be a function report(done, total) or None, got {report!r}")
    device = stream[0].x_train.device
    set_seed(config.seed)
    if model is None:
        model = build_model(stream, config.hidden)
    else:
        check_type("model", model, nn.Module, "an nn.Module such as build_model(stream)")
        model = copy.deepcopy(model)  # the caller's model stays as it was and can start another run
    model = strategy.setup(model.to(device), stream, config)
    model.to(device)
    _check_fits(model, stream, strategy)
    _TRAINED_WITH[model] = strategy
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
        else:
            for p in strategy.fresh_parameters(model):
                optimizer.state.pop(p, None)  # a re-initialised adapter starts with no Adam moments
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
        # the stream's seed (its permutations) is stream_seed; seed is the training seed, as in TrainConfig
        config={**{("stream_seed" if k == "seed" else k): v for k, v in stream.config.items()},
                **asdict(config), "hidden": list(config.hidden),
                "method": strategy.name, "hparams": strategy.hparams},
        source=stream.source, task_names=[task.name for task in stream], model=model, strategy=strategy)


def _check_overrides(strategy: str | Strategy, overrides: dict[str, Any]) -> None:
    """Every keyword of train_stream must be a TrainConfig field; a method's hyperparameter gets a pointer."""
    allowed = [f.name for f in fields(TrainConfig)]
    for key, value in overrides.items():
        if key in allowed:
            continue
        cls = type(strategy) if isinstance(strategy, Strategy) else (
            REGISTRY.get(strategy) if isinstance(strategy, str) else None)
        if cls is not None and key in cls.params:
            raise ConfigError(f"{key} is a hyperparameter of {cls.name}, not of training; pass it to the "
                              f"method: train_stream(stream, get_strategy({cls.name!r}, {key}={value!r}))")
        raise ConfigError(f"unknown option {key!r} for train_stream; allowed: {', '.join(allowed)}")


def _check_fits(model: nn.Module, stream: TaskStream, strategy: Strategy) -> None:
    """One forward on one test image: a model built for other data fails here with one line."""
    task = stream[0]
    try:
        with torch.no_grad():
            out = strategy.forward(model, task.x_test[:1], task.id)
    except (RuntimeError, ValueError, IndexError) as exc:
        raise ConfigError(f"the model does not fit this stream ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                          f"allowed: a model taking {stream.input_size} inputs, e.g. build_model(stream)") from None
    wanted = max(max(t.classes) for t in stream) + 1
    if out.dim() != 2 or out.shape[1] < wanted:
        raise ConfigError(f"the model gives {tuple(out.shape[1:])} outputs, the stream has labels up to "
                          f"{wanted - 1}; allowed: a model with {stream.n_outputs} outputs per head, "
                          "e.g. build_model(stream)")
