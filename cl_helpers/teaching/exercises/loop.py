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
        found.append("optimizer.step() 從來沒被呼叫，權重完全沒變：每個 mini-batch 在 loss.backward() 之後"
                     "都要呼叫它")
    if any(tr.forwards_in_eval for tr in traces):
        found.append("eval mode 沒關掉：model 交給你時是 eval mode（就像剛評估完），你用 eval mode 訓練了；"
                     "在 epochs 之前呼叫 model.train()（dropout、batch norm 在 eval mode 的行為不同）")
    if any(tr.stale_grad_steps for tr in traces):
        found.append("沒有 zero_grad：每一步的 gradient 還留著前面 mini-batch 的 gradient（PyTorch 會累加到 "
                     ".grad）；在 loss.backward() 之前呼叫 optimizer.zero_grad()")
    n_opt = [len(tr.optimizer_steps) for tr in traces if tr.steps]
    if any(k >= n for k, n in zip(n_opt, [p * settings.epochs for p in per_epoch])) and any(k > 1 for k in n_opt):
        found.append("每個 batch 都建立新的 optimizer：Adam 的移動平均每一步都從頭開始；每個任務只建立一次，"
                     "放在 epoch 迴圈之前")
    elif any(k == settings.epochs for k in n_opt) and settings.epochs > 1:
        found.append("每個 epoch 都建立新的 optimizer：Adam 的移動平均每個 epoch 都從頭開始；每個任務只建立一次，"
                     "放在 epoch 迴圈之前")
    elif any(k > 1 for k in n_opt):
        found.append("一個任務用了不只一個 optimizer：只建立一個，放在 epoch 迴圈之前")
    found += _coverage_findings(traces, settings)
    if any(tr.steps and tr.steps != settings.epochs * p for tr, p in zip(traces, per_epoch)) and not found:
        found.append(f"步數不對：每個任務 {[tr.steps for tr in traces]} 步，應該是 "
                     f"{[settings.epochs * p for p in per_epoch]}（epochs x ceil(樣本數 / batch_size)）")
    return found


def _coverage_findings(traces: Sequence[LoopTrace], settings: LoopSettings) -> list[str]:
    for tr in traces:
        seen = torch.cat(tr.seen) if tr.seen else torch.zeros(0, dtype=torch.long)
        n = tr.n_examples
        if len(seen) == 0 and tr.forwards:
            return ["目前任務的樣本從來沒進到 model：要訓練的是這個任務的 mini-batch（再加上方法額外加的），"
                    "不是用別的東西取代它"]
        if len(seen) < settings.epochs * n:
            return [f"有樣本被跳過：{settings.epochs} 個 epochs、每個 {n} 個樣本，只看到 {len(seen)} 個；"
                    "最後一個比較小的 mini-batch 也要訓練（range(0, n, batch_size) 與 order[start:start + "
                    "batch_size]）"]
        epochs = [seen[e * n:(e + 1) * n] for e in range(settings.epochs)]
        if any(torch.bincount(ep, minlength=n).max() > 1 for ep in epochs):
            return ["每個 batch 都重抽 permutation：同一個 epoch 裡有些樣本出現兩次、有些從沒出現；每個 epoch "
                    "抽一次 order = torch.randperm(n, generator=gen)，再切成 mini-batches"]
        if all(torch.equal(ep, torch.arange(n)) for ep in epochs):
            return ["沒有 shuffle：每個 epoch 都照 0, 1, 2, ... 的順序；每個 epoch 用 "
                    "order = torch.randperm(n, generator=gen)"]
        if settings.epochs > 1 and all(torch.equal(ep, epochs[0]) for ep in epochs):
            return ["每個 epoch 的順序都一樣：在每個 epoch 開始時重新抽 torch.randperm(n, generator=gen)，"
                    "不是整個任務只抽一次"]
    return []


class LoopExercise(Exercise):
    """A training-loop exercise: the student's loop against train_stream with a strategy, on a small stream.

    `strategy()` makes a fresh strategy for train_stream; `state(stream, settings)` makes what the loop
    shares across tasks (an EWC memory, a replay buffer...). From it, `extra(state)(model, t)` gives task t's
    extra keyword arguments (called before the task, like a strategy's before_task) and
    `after_task(state)(model, task)` does the strategy's end-of-task work. `mistakes` are known wrong loops,
    named when the student's accuracy matrix equals theirs.
    """

    def __init__(self, title: str, reference: Callable[..., Any], make_stream: Callable[[], TaskStream],
                 strategy: Callable[[], Any], hints: Sequence[str],
                 mistakes: dict[str, Callable[..., Any]] | None = None,
                 state: Callable[[TaskStream, LoopSettings], Any] | None = None,
                 extra: Callable[[Any], Callable[[nn.Module, int], dict[str, Any]]] | None = None,
                 after_task: Callable[[Any], Callable[[nn.Module, Task], None]] | None = None,
                 settings: LoopSettings = LoopSettings(), name: str = "exercise"):
        super().__init__(title, reference, lambda: [], hints, name=name)
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
            return Report(self.title, [], [f"你的 loop 執行時發生 {type(exc).__name__}: {exc}"])
        diff = float(np.abs(got.acc_matrix - expected).max())
        case = (f"{len(stream)} 個任務（每個 {len(stream[0].y_train)} 張訓練圖）的 accuracy matrix 與 "
                f"train_stream 相差不超過 {TOLERANCE}")
        findings = trace_findings(got.traces, self.settings)
        drift = float((got.weights - weights).abs().max() / weights.abs().max())
        if drift > WEIGHT_TOLERANCE and not findings:
            findings.append(f"最後的權重和 train_stream 的差了最大權重的 {drift:.1%}（容許 {WEIGHT_TOLERANCE:.1%}，"
                            "只是浮點誤差）：你的 loop 算的是別的東西")
        if diff <= TOLERANCE and not findings:
            return Report(self.title, [f"{case}（最大差距 {diff:.4f}）",
                                       f"最後的權重與 train_stream 相同（最大差距是最大權重的 {drift:.1e}）",
                                       "訓練方式與 train_stream 相同：train mode、zero_grad、每個任務一個 "
                                       "optimizer、每個 epoch 是樣本的一個 permutation"], [])
        failed = [f"{case}：最大差距 {diff:.3f}\n   你的：\n{_matrix(got.acc_matrix)}\n"
                  f"   train_stream：\n{_matrix(expected)}"] if diff > TOLERANCE else []
        if all(f.startswith("最後的權重和") for f in findings):
            findings = [label for label, wrong in self.mistakes.items()
                        if np.abs(self.play(wrong, stream, watch=False).acc_matrix - got.acc_matrix).max() <= 1e-6
                        ] or findings
        return Report(self.title, [], failed + [f"可能的錯誤：{f}" for f in findings[:3]])


def _matrix(R: np.ndarray) -> str:
    return "\n".join("     " + " ".join(f"{v:.3f}" for v in row) for row in R)


def minibatches(n: int, epochs: int, batch_size: int, gen: torch.Generator):
    """Each epoch's shuffled mini-batch indices, drawn as train_stream draws them (one permutation per epoch)."""
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]
