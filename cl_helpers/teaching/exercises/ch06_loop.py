"""Chapter 6 exercise 6.1d: SI's bookkeeping around backward and step, checked against train_stream with `si`.

`train_task_si(model, task, epochs, batch_size, lr, gen, si)`: `si` is an `SIState` (flat vectors) that the
package prepares before each task (omega = 0) and consolidates after it, as the `si` strategy does
(`before_task`, `after_task`); the student's loop keeps the path integral omega during the task and adds
the penalty c * sum Omega (theta - theta*)^2 once a task has finished.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...penalties import flat_grads, flat_params
from ...strategies.si import SI
from ...tasks import make_stream
from .ch01_loop import make_loop
from .ch06_si import reference_si_consolidate, reference_si_penalty, reference_si_step
from .loop import LoopExercise, LoopSettings, minibatches

C, XI = 1.0, 1e-3


@dataclass
class SIState:
    """SI's running state as flat vectors: omega (this task's path integral), Omega, anchor theta*, c, xi."""

    c: float
    xi: float
    omega: torch.Tensor | None = None
    Omega: torch.Tensor | None = None
    anchor: torch.Tensor | None = None    # None until the first task has ended
    start: torch.Tensor | None = None     # the parameters when this task began

    def before_task(self, model) -> None:
        """A new task's path starts here, with omega = 0."""
        self.start = flat_params(list(model.parameters())).detach()
        self.omega = torch.zeros_like(self.start)
        if self.Omega is None:
            self.Omega = torch.zeros_like(self.start)

    def after_task(self, model) -> None:
        """Omega += omega / (Delta^2 + xi); theta* becomes the current parameters.

        omega is detached first: a loop that forgot .detach() on `before` or `delta` has the right values but an
        omega still tied to the autograd graph, which must not leak into Omega and the next task's penalty."""
        theta = flat_params(list(model.parameters())).detach()
        self.Omega, self.omega = reference_si_consolidate(self.Omega, self.omega.detach(), theta, self.start, self.xi)
        self.anchor = theta


def reference_train_task_si(model, task, epochs, batch_size, lr, gen, si):
    """The chapter 1 loop; around backward and step, SI reads the task gradient and the step taken."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    params = list(model.parameters())
    n = len(task.y_train)
    for idx in minibatches(n, epochs, batch_size, gen):       # the chapter 1 loop's batches
        optimizer.zero_grad()
        F.cross_entropy(model(task.x_train[idx], task.id), task.y_train[idx]).backward()
        grad_task = flat_grads(params)     # the task loss's gradient alone
        before = flat_params(params).detach()
        if si.anchor is not None:                                        # the penalty, on top of it
            reference_si_penalty(flat_params(params), si.anchor, si.Omega, si.c).backward()
        grad_penalty = flat_grads(params) - grad_task
        optimizer.step()
        delta = flat_params(params).detach() - before                   # the step actually taken
        si.omega = reference_si_step(si.omega, grad_task, grad_penalty, delta)


def _grads(model) -> torch.Tensor:
    return flat_grads(list(model.parameters()))


def _penalty(model, extra):
    si = extra["si"]
    if si.anchor is None:
        return None
    return reference_si_penalty(flat_params(list(model.parameters())), si.anchor, si.Omega, si.c)


def _record(model, extra):
    return _grads(model), flat_params(list(model.parameters())).detach()


def _accumulate(use_total: bool):
    def after_step(model, extra, ctx):
        si, (grad_task, before) = extra["si"], ctx
        # the mistake reads .grad after the penalty's backward: the total gradient
        grad = si.pending if use_total else grad_task
        si.omega = si.omega - grad * (flat_params(list(model.parameters())).detach() - before)
    return after_step


def _total_grad_loop():
    # reads the gradient after the penalty's backward: record it in a penalty hook that backpropagates itself
    def penalty(model, extra):
        pen = _penalty(model, extra)
        if pen is not None:
            pen.backward()
        extra["si"].pending = _grads(model)
        return None
    return make_loop(after_backward=_record, penalty=penalty, after_step=_accumulate(use_total=True))


MISTAKES = {
    "沒有 penalty：第一個任務結束後，要加上 c * sum Omega (theta - theta*)^2（my_penalty）並 backward":
        make_loop(after_backward=_record, after_step=_accumulate(use_total=False)),
    "omega 從來沒更新：optimizer.step() 之後，si.omega = my_step(si.omega, grad_task, grad_penalty, delta)":
        make_loop(penalty=_penalty),
    "path integral 用了總 gradient：grad_task 要在 task loss 的 backward 之後、penalty 的 backward 之前讀"
    "": _total_grad_loop(),
}


def _state(stream, settings: LoopSettings) -> SIState:
    return SIState(C, XI)


def _before(si: SIState):
    def extra(model, t):
        si.before_task(model)
        return {"si": si}
    return extra


si_loop_exercise = LoopExercise(
    "練習 6.1d：把 SI 放進 training loop", reference_train_task_si,
    lambda: make_stream("permuted", n_tasks=3, train_size=1000, test_size=500, seed=0),
    lambda: SI(c=C, xi=XI),
    hints=["SI 在每個 mini-batch 需要三樣東西：只含 task loss 的 gradient、這一步之前的參數、這一步造成的變化。"
           "在 training loop 的哪一個時間點，.grad 裡只有 task loss 的 gradient？",
           "順序是關鍵：task loss 的 backward() 一結束，就把 .grad 與參數各攤平成向量記下來；之後（已有 anchor 時）"
           "才對 penalty 做 backward。backward 會把 gradient 累加到 .grad 上，所以那時 .grad 是總 gradient："
           "penalty 的 gradient 怎麼從它和你記下的向量得到？最後才 optimizer.step()。",
           "step 之後再攤平一次參數，和 step 之前記下的相比，就是這一步造成的變化；把它、兩個 gradient 與 si.omega "
           "交給 my_step，結果存回 si.omega。penalty 要對 flat_params 的結果算（它連著 autograd，backward 才傳得到參數）；"
           "記下的參數與變化只要數值：用 .detach()，否則 si.omega 會一路接上計算圖。"],
    mistakes=MISTAKES, state=_state, extra=_before,
    after_task=lambda si: lambda model, task: si.after_task(model), name="si_loop_exercise")
