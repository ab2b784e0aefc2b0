"""Looking at forgetting after the fact: every-step evaluation (the stability gap), the weights at each task
switch, interpolation between them (WiSE-FT), and how fast a forgotten task comes back (spurious forgetting).

`probed_run` trains like `train_stream` with one more part combined in, `Probe`, which evaluates the chosen
tasks every `every` optimizer steps on the first `n_test` test images and keeps the weights at each task's
start. Evaluating after every step (not every epoch) is what shows the stability gap of De Lange et al. 2023:
right after a task switch the old task's accuracy drops sharply, then partly recovers (De Lange et al. see it
even with replay). `ProbedRun.gap` also reports the lowest point just before the switch: the curve's own wobble.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, check_int
from ..results import RunResult
from ..strategies import Combined, Strategy, get_strategy
from ..tasks import Task, TaskStream
from ..train import evaluate, train_stream
from ..lora import add_lora
from ..weights import interpolate, merged_state, task_vector


class Probe(Strategy):
    """A part to combine with a method: accuracy on every task every `every` steps, weights at task starts.

    It evaluates through the plain forward `model(x, task_id)`, so it suits methods that keep it (naive,
    EWC, SI, replay, LwF...), not those that own the forward (LoRA per task, PackNet).
    """

    name = "probe"
    label = "Probe"

    def __init__(self, every: int = 5, n_test: int = 500):
        super().__init__()
        self.every = check_int("every", every, 1)
        self.n_test = check_int("n_test", n_test, 1)
        self.steps: list[int] = []
        self.acc: list[np.ndarray] = []
        self.starts: list[dict[str, torch.Tensor]] = []
        self._step = 0

    @torch.no_grad()
    def _measure(self, model: nn.Module) -> None:
        was_training = model.training
        model.eval()
        accs = [(model(t.x_test[:self.n_test], t.id).argmax(1) == t.y_test[:self.n_test]).float().mean()
                for t in self.stream]
        model.train(was_training)
        self.steps.append(self._step)
        self.acc.append(torch.stack(accs).cpu().numpy())

    def before_task(self, model, task, stream) -> None:
        self.starts.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        if not self.steps:
            self._measure(model)

    def after_step(self, model) -> None:
        self._step += 1
        if self._step % self.every == 0:
            self._measure(model)


@dataclass
class ProbedRun:
    """A run evaluated every few steps: `acc[k, j]` is task j's accuracy after `steps[k]` steps."""

    result: RunResult
    steps: np.ndarray
    acc: np.ndarray
    boundaries: list[int]
    starts: list[dict[str, torch.Tensor]] = field(repr=False)

    def final_state(self) -> dict[str, torch.Tensor]:
        """The weights at the end of the run."""
        return {k: v.detach().clone() for k, v in self.result.model.state_dict().items()}

    def gap(self, task: int = 0, switch: int = 1, window: int | None = None,
            before: int | None = None) -> dict[str, float]:
        """Task `task`'s accuracy at the start of task `switch`, its lowest in the `window` steps after (default:
        the whole next task), and at the end of that task: the dip and the recovery of the stability gap.

        `lowest_before` and `mean_before` are the lowest and the mean in the `before` steps up to the switch
        (default: the second half of the previous task): how far the curve wobbles on its own, what a dip must
        exceed to be more than noise (the minimum of many noisy evaluations is biased low, after the switch as
        before it); `mean_after` is the mean in the `window` steps after the switch, to compare with it."""
        start = self.boundaries[switch]
        end = self.boundaries[switch + 1] if switch + 1 < len(self.boundaries) else int(self.steps[-1])
        stop = end if window is None else min(end, start + window)
        previous = self.boundaries[switch - 1] if switch > 0 else 0
        before = max(1, (start - previous) // 2) if before is None else check_int("before", before, 1)
        at = self.acc[self.steps <= start, task][-1]
        inside = (self.steps > start) & (self.steps <= stop)
        ahead = (self.steps > start - before) & (self.steps <= start)
        after = self.acc[self.steps <= end, task][-1]
        return {"before": float(at), "lowest": float(self.acc[inside, task].min()), "end": float(after),
                "lowest_step": int(self.steps[inside][self.acc[inside, task].argmin()] - start),
                "lowest_before": float(self.acc[ahead, task].min()),
                "mean_before": float(self.acc[ahead, task].mean()), "mean_after": float(self.acc[inside, task].mean())}

    def at(self, task: int, steps: Sequence[int]) -> np.ndarray:
        """Task `task`'s accuracy at the last evaluation at or before each of `steps` (e.g. the epoch ends)."""
        return np.array([self.acc[self.steps <= s, task][-1] for s in steps])


def probed_run(stream: TaskStream, method: str | Strategy = "naive", every: int = 5, n_test: int = 500,
               **train) -> ProbedRun:
    """`train_stream(stream, method, **train)` evaluated every `every` steps (see Probe)."""
    probe = Probe(every, n_test)
    base = get_strategy(method)
    strategy = Combined([*(base.parts if isinstance(base, Combined) else [base]), probe])
    result = train_stream(stream, strategy, progress=False, **train)
    probe = result.strategy.parts[-1]
    return ProbedRun(result, np.array(probe.steps), np.array(probe.acc), list(result.task_boundaries),
                     probe.starts)


def interpolation_curve(model: nn.Module, before: dict[str, torch.Tensor], after: dict[str, torch.Tensor],
                        tasks: Sequence[Task], alphas: Sequence[float] = tuple(np.linspace(0, 1, 11))) -> np.ndarray:
    """Accuracy on each task (columns) of the weights (1 - a) before + a after, for each a (rows); `model` gives
    the architecture and is not changed."""
    if len(tasks) == 0:
        raise ConfigError("interpolation_curve needs at least one task to evaluate")
    probe = copy.deepcopy(model)
    rows = []
    for a in alphas:
        probe.load_state_dict(interpolate(before, after, float(a)))
        rows.append([evaluate(probe, t, Strategy()) for t in tasks])
    return np.array(rows)


def accuracies(model: nn.Module, state: dict[str, torch.Tensor], tasks: Sequence[Task]) -> np.ndarray:
    """Test accuracy on each task of `model`'s architecture with the weights `state` (model not changed)."""
    probe = copy.deepcopy(model)
    probe.load_state_dict(state)
    return np.array([evaluate(probe, t, Strategy()) for t in tasks])


def recovery_curve(model: nn.Module, task: Task, n_examples: int, steps: int = 30, lr: float = 1e-3,
                   seed: int = 0, eval_tasks: Sequence[Task] | None = None) -> np.ndarray:
    """Test accuracy before and after each of `steps` full-batch Adam steps on `task`'s first `n_examples`
    training images (how fast a forgotten task comes back), on `eval_tasks` (default: `task` alone), as an
    array (steps + 1, len(eval_tasks)); `model` is copied, not changed."""
    n_examples = check_int("n_examples", n_examples, 1, len(task.y_train))
    steps = check_int("steps", steps, 1, 10_000)
    eval_tasks = [task] if eval_tasks is None else list(eval_tasks)
    torch.manual_seed(seed)
    m = copy.deepcopy(model)
    x, y = task.x_train[:n_examples], task.y_train[:n_examples]
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=lr)
    accs = [[evaluate(m, t, Strategy()) for t in eval_tasks]]
    for _ in range(steps):
        m.train()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(m(x, task.id), y).backward()
        opt.step()
        accs.append([evaluate(m, t, Strategy()) for t in eval_tasks])
    return np.array(accs)


def substream(stream: TaskStream, tasks: Sequence[int]) -> TaskStream:
    """The stream made of the given tasks only (their ids, classes and data unchanged)."""
    if not tasks or any(not 0 <= i < len(stream) for i in tasks):
        raise ConfigError(f"tasks {list(tasks)} must be task indices of the stream (0..{len(stream) - 1})")
    return replace(stream, tasks=[stream[i] for i in tasks])


def finetuned_vector(base: nn.Module, stream: TaskStream, tasks: Sequence[int], rank: int | None = 8,
                     **train) -> dict[str, torch.Tensor]:
    """The task vector of fine-tuning `base` on the stream's `tasks` (several: trained on all of them at once, as
    joint training's last stage) with a LoRA adapter of `rank` on every layer (None: every weight)."""
    model = copy.deepcopy(base)
    if rank is not None:
        model = add_lora(model, rank=rank)
    result = train_stream(substream(stream, tasks), "joint" if len(tasks) > 1 else "naive", model=model,
                          progress=False, **train)
    return task_vector(base.state_dict(), merged_state(result.model))
