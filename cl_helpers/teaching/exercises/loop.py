"""Checking a training loop that a student writes: run it task by task, watch how it trains, compare with train_stream.

A loop exercise gives the student's `train_task(model, task, ...)` a small stream, one task at a time, in the
order and with the seeds `cl_helpers.train.train_stream` uses, and compares the accuracy matrix with
train_stream's for the same strategy and seed. Equal computations give equal matrices up to float rounding
(train_stream uses the fused Adam kernel where there is one), so the tolerance is small: `TOLERANCE`.

While the loop runs, hooks watch what a wrong matrix alone would not explain (`LoopTrace`):

* the model's mode at every training forward (it is handed over in eval mode, as after an evaluation);
* whether the first backward of each step starts from zero gradients (a tensor hook sees the incoming
  gradient, a post-accumulate hook the stored one: they differ when old gradients were not cleared);
* which optimizer objects step, and how often (one per task, one step per mini-batch);
* which training examples each mini-batch holds, by an exact fingerprint of each input row, so that every
  epoch can be checked to be one permutation of the task's examples.

Each finding becomes one plain sentence naming the mistake; a wrong matrix without a finding is matched
against known wrong loops run the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from ...device import set_seed
from ...models import build_model
from ...tasks import Task, TaskStream
from ...train import evaluate_all, train_stream
from .core import Exercise, Report

TOLERANCE = 0.02  # largest |R_ij| difference accepted against train_stream (rounding, never a real mistake)
WEIGHT_TOLERANCE = 1e-3  # largest final-weight difference, relative to the largest weight: rounding only


@dataclass(frozen=True)
class LoopSettings:
    """The small run a loop is checked on: sizes per task and the training knobs passed to train_task."""

    epochs: int = 2
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    hidden: tuple[int, ...] = (100,)

    def kwargs(self, gen: torch.Generator) -> dict[str, Any]:
        """The keyword arguments every train_task receives."""
        return dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, gen=gen)


@dataclass
class LoopTrace:
    """What the hooks saw while one task was trained."""

    n_examples: int
    forwards: int = 0
    forwards_in_eval: int = 0
    stale_grad_steps: int = 0
    optimizer_steps: dict[int, int] = field(default_factory=dict)   # optimizer serial number -> steps
    seen: list[torch.Tensor] = field(default_factory=list)          # current-task indices of each batch

    @property
    def steps(self) -> int:
        """Optimizer steps taken."""
        return sum(self.optimizer_steps.values())


def fingerprint(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """An exact hash of each row of a float32 batch: its bit patterns times fixed random integers, summed in int64."""
    bits = x.detach().reshape(len(x), -1).contiguous().view(torch.int32).long()
    return (bits * coeffs).sum(1)   # integer arithmetic wraps exactly, in any order


class _Watch:
    """Hooks on a model and on every optimizer that fill a LoopTrace for one task."""

    def __init__(self, model: nn.Module, task: Task):
        self.model, self.trace = model, LoopTrace(len(task.y_train))
        gen = torch.Generator().manual_seed(12345)
        self.coeffs = torch.randint(1, 2 ** 31, (task.x_train[0].numel(),), generator=gen).to(task.x_train.device)
        fp = fingerprint(task.x_train, self.coeffs)
        self.sorted_fp, self.order = torch.sort(fp)
        self.fresh, self.incoming, self.serials = True, None, 0
        probe = next(p for p in model.parameters() if p.requires_grad)
        self.handles = [
            model.register_forward_pre_hook(self._forward),
            probe.register_hook(self._incoming),
            probe.register_post_accumulate_grad_hook(self._accumulated),
            register_optimizer_step_post_hook(self._stepped),
        ]

    def _forward(self, module, args) -> None:
        if not torch.is_grad_enabled():
            return   # an evaluation inside the loop is not a training forward
        self.trace.forwards += 1
        self.trace.forwards_in_eval += not module.training
        x = args[0]
        fp = fingerprint(x, self.coeffs)
        pos = torch.searchsorted(self.sorted_fp, fp).clamp_max(len(self.sorted_fp) - 1)
        found = self.sorted_fp[pos] == fp
        self.trace.seen.append(self.order[pos[found]].cpu())

    def _incoming(self, grad: torch.Tensor) -> None:
        if self.fresh:
            self.incoming = grad.detach().clone()

    def _accumulated(self, p: torch.Tensor) -> None:
        if self.fresh and self.incoming is not None:
            if not torch.allclose(p.grad, self.incoming, rtol=1e-5, atol=1e-8):
                self.trace.stale_grad_steps += 1
            self.fresh = False

    def _stepped(self, optimizer, args, kwargs) -> None:
        # A serial number stored on the optimizer: id() is reused once a per-batch optimizer is freed.
        key = getattr(optimizer, "_cl_loop_serial", None)
        if key is None:
            key = self.serials = self.serials + 1
            optimizer._cl_loop_serial = key
        self.trace.optimizer_steps[key] = self.trace.optimizer_steps.get(key, 0) + 1
        self.fresh, self.incoming = True, None

    def close(self) -> None:
        """Remove every hook."""
        for h in self.handles:
            h.remove()


@dataclass
class LoopRun:
    """The accuracy matrix of a loop on a stream, and what the hooks saw on each task."""

    acc_matrix: np.ndarray
    traces: list[LoopTrace]
    weights: torch.Tensor   # the final parameters, flattened


def play_loop(loop: Callable[..., Any], stream: TaskStream, settings: LoopSettings,
              extra: Callable[[nn.Module, int], dict[str, Any]] | None = None,
              after_task: Callable[[nn.Module, Task], None] | None = None, watch: bool = True) -> LoopRun:
    """Train a fresh model with `loop(model, task, epochs=, batch_size=, lr=, gen=, **extra(model, t))` per task.

    Seeds, model and generator as train_stream makes them; the model is handed over in eval mode; after each
    task `after_task(model, task)` (a strategy's end-of-task work) runs, then every task is evaluated.
    """
    set_seed(settings.seed)
    model = build_model(stream, settings.hidden).to(stream[0].x_train.device)
    gen = torch.Generator(device=stream[0].x_train.device).manual_seed(settings.seed)
    R, traces = np.zeros((len(stream), len(stream))), []
    for t, task in enumerate(stream):
        model.eval()
        watcher = _Watch(model, task) if watch else None
        try:
            loop(model, task, **settings.kwargs(gen), **(extra(model, t) if extra else {}))
        finally:
            if watcher is not None:
                watcher.close()
                traces.append(watcher.trace)
        if after_task is not None:
            after_task(model, task)
        R[t] = evaluate_all(model, stream)
    return LoopRun(R, traces, _flat(model))


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu()


def trace_findings(traces: Sequence[LoopTrace], settings: LoopSettings) -> list[str]:
    """One sentence per kind of mistake the hooks saw (empty when the loop trains as train_stream does)."""
    found: list[str] = []
    per_epoch = [math.ceil(tr.n_examples / settings.batch_size) for tr in traces]
    if any(tr.steps == 0 for tr in traces):
        found.append("optimizer.step() is never called, so the weights never change: call it after "
                     "loss.backward() in every mini-batch")
    if any(tr.forwards_in_eval for tr in traces):
        found.append("eval mode left on: the model comes to you in eval mode (as after an evaluation) and "
                     "trained that way; call model.train() before the epochs (dropout and batch norm "
                     "behave differently in eval mode)")
    if any(tr.stale_grad_steps for tr in traces):
        found.append("no zero_grad: each step's gradient still holds the previous mini-batches' gradients "
                     "(PyTorch adds into .grad); call optimizer.zero_grad() before loss.backward()")
    n_opt = [len(tr.optimizer_steps) for tr in traces if tr.steps]
    if any(k >= n for k, n in zip(n_opt, [p * settings.epochs for p in per_epoch])) and any(k > 1 for k in n_opt):
        found.append("optimizer created per batch: Adam's running averages restart at every step; create "
                     "the optimizer once per task, before the epoch loop")
    elif any(k == settings.epochs for k in n_opt) and settings.epochs > 1:
        found.append("optimizer created per epoch: Adam's running averages restart every epoch; create it "
                     "once per task, before the epoch loop")
    elif any(k > 1 for k in n_opt):
        found.append("more than one optimizer per task: create one, before the epoch loop")
    found += _coverage_findings(traces, settings)
    if any(tr.steps and tr.steps != settings.epochs * p for tr, p in zip(traces, per_epoch)) and not found:
        found.append(f"wrong number of steps: {[tr.steps for tr in traces]} per task, expected "
                     f"{[settings.epochs * p for p in per_epoch]} (epochs x ceil(examples / batch_size))")
    return found


def _coverage_findings(traces: Sequence[LoopTrace], settings: LoopSettings) -> list[str]:
    for tr in traces:
        seen = torch.cat(tr.seen) if tr.seen else torch.zeros(0, dtype=torch.long)
        n = tr.n_examples
        if len(seen) == 0 and tr.forwards:
            return ["the current task's examples never reach the model: train on the task's mini-batch "
                    "(plus whatever the method adds), not instead of it"]
        if len(seen) < settings.epochs * n:
            return [f"examples skipped: {len(seen)} training examples seen in {settings.epochs} epochs of {n}; "
                    "keep the last, smaller mini-batch (range(0, n, batch_size) and order[start:start + "
                    "batch_size])"]
        epochs = [seen[e * n:(e + 1) * n] for e in range(settings.epochs)]
        if any(torch.bincount(ep, minlength=n).max() > 1 for ep in epochs):
            return ["a new permutation per batch: within an epoch some examples came twice and others never; "
                    "draw order = torch.randperm(n, generator=gen) once per epoch and slice it"]
        if all(torch.equal(ep, torch.arange(n)) for ep in epochs):
            return ["no shuffling: every epoch visits the examples in the same order 0, 1, 2, ...; use "
                    "order = torch.randperm(n, generator=gen) each epoch"]
        if settings.epochs > 1 and all(torch.equal(ep, epochs[0]) for ep in epochs):
            return ["the same order every epoch: draw a new torch.randperm(n, generator=gen) at the start "
                    "of each epoch, not once per task"]
    return []


class LoopExercise(Exercise):
    """A training-loop exercise: the student's loop against train_stream with a strategy, on a small stream.

    `strategy()` makes a fresh strategy for train_stream; `state(stream, settings)` makes what the loop
    shares across tasks (an EWC memory, a replay buffer...), from which `extra(state)(model, t)` gives task t's extra
    keyword arguments (called before the task, like a strategy's before_task) and `after_task(state)(model, task)` does the strategy's end-of-task work. `mistakes`
    are known wrong loops, named when the student's matrix equals theirs.
    """

    def __init__(self, title: str, reference: Callable[..., Any], make_stream: Callable[[], TaskStream],
                 strategy: Callable[[], Any], hints: Sequence[str],
                 mistakes: dict[str, Callable[..., Any]] | None = None,
                 state: Callable[[TaskStream, LoopSettings], Any] | None = None,
                 extra: Callable[[Any], Callable[[nn.Module, int], dict[str, Any]]] | None = None,
                 after_task: Callable[[Any], Callable[[nn.Module, Task], None]] | None = None,
                 settings: LoopSettings = LoopSettings()):
        super().__init__(title, reference, lambda: [], hints)
        self.make_stream, self.strategy, self.mistakes = make_stream, strategy, dict(mistakes or {})
        self.state, self.extra, self.after_task, self.settings = state, extra, after_task, settings

    def expected(self, stream: TaskStream) -> tuple[np.ndarray, torch.Tensor]:
        """train_stream's accuracy matrix and final weights with the strategy, at the exercise's settings."""
        s = self.settings
        r = train_stream(stream, self.strategy(), epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
                         seed=s.seed, hidden=s.hidden, progress=False)
        return r.acc_matrix, _flat(r.model)

    def play(self, loop: Callable[..., Any], stream: TaskStream, watch: bool = True) -> LoopRun:
        """Run `loop` on the stream as the exercise does (fresh strategy state, the same seeds)."""
        state = self.state(stream, self.settings) if self.state else None
        return play_loop(loop, stream, self.settings, self.extra(state) if self.extra else None,
                         self.after_task(state) if self.after_task else None, watch)

    def run(self, student: Callable[..., Any]) -> Report:
        """Check the student's loop: its matrix against train_stream's, and what the hooks saw."""
        stream = self.make_stream()
        expected, weights = self.expected(stream)
        try:
            got = self.play(student, stream)
        except NotImplementedError:
            return Report(self.title, [], [], not_implemented=True)
        except Exception as exc:  # a student's bug: one line, not a traceback
            return Report(self.title, [], [f"your loop raised {type(exc).__name__}: {exc}"])
        diff = float(np.abs(got.acc_matrix - expected).max())
        case = (f"accuracy matrix on {len(stream)} tasks ({len(stream[0].y_train)} training images each) equals "
                f"train_stream's within {TOLERANCE}")
        findings = trace_findings(got.traces, self.settings)
        drift = float((got.weights - weights).abs().max() / weights.abs().max())
        if drift > WEIGHT_TOLERANCE and not findings:
            findings.append(f"the final weights differ from train_stream's by {drift:.1%} of the largest weight "
                            f"(allowed {WEIGHT_TOLERANCE:.1%}, float rounding): the loop computes something else")
        if diff <= TOLERANCE and not findings:
            return Report(self.title, [f"{case} (largest difference {diff:.4f})",
                                       f"final weights equal train_stream's (largest difference {drift:.1e} "
                                       "of the largest weight)",
                                       "trains as train_stream does: train mode, zero_grad, one optimizer "
                                       "per task, each epoch one permutation of the examples"], [])
        failed = [f"{case}: largest difference {diff:.3f}\n   yours:\n{_matrix(got.acc_matrix)}\n"
                  f"   train_stream:\n{_matrix(expected)}"] if diff > TOLERANCE else []
        if all(f.startswith("the final weights differ") for f in findings):
            findings = [label for label, wrong in self.mistakes.items()
                        if np.abs(self.play(wrong, stream, watch=False).acc_matrix - got.acc_matrix).max() <= 1e-6
                        ] or findings
        return Report(self.title, [], failed + [f"Likely mistake: {f}" for f in findings[:3]])


def _matrix(R: np.ndarray) -> str:
    return "\n".join("     " + " ".join(f"{v:.3f}" for v in row) for row in R)


