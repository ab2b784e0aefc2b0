"""Chapter 3 exercise: the chapter 1 loop with EWC's penalty in the loss, checked against train_stream with `ewc`.

`train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam)`: `old_tasks` is a list of
(fisher, anchor) dicts, one per finished task, that the package fills at each task's end exactly as the `ewc`
strategy does (`EWC.after_task`: the exact Fisher on 200 training images, the parameters as anchor).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...strategies.ewc import EWC
from ...tasks import make_stream
from ...train import TrainConfig
from .ch01_loop import make_loop
from .ch03_ewc import reference_ewc_penalty
from .loop import LoopExercise, LoopSettings, minibatches

LAM = 100.0
SETTINGS = LoopSettings()


def reference_train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam):
    """The chapter 1 loop; the loss adds (lam/2) sum F (theta - theta*)^2 for every earlier task."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    n = len(task.y_train)
    for idx in minibatches(n, epochs, batch_size, gen):       # the chapter 1 loop's batches
        optimizer.zero_grad()
        loss = F.cross_entropy(model(task.x_train[idx], task.id), task.y_train[idx])
        params = dict(model.named_parameters())
        for fisher, anchor in old_tasks:                   # EWC: one spring per earlier task
            loss = loss + reference_ewc_penalty(params, anchor, fisher, lam)
        loss.backward()
        optimizer.step()


def _penalty(terms, lam_scale: float = 1.0):
    def penalty(model, extra):
        chosen = terms(extra["old_tasks"])
        if not chosen:
            return None
        params = dict(model.named_parameters())
        return sum(reference_ewc_penalty(params, a, f, lam_scale * extra["lam"]) for f, a in chosen)
    return penalty


MISTAKES = {
    "backward 的 loss 裡沒有 penalty：在 loss.backward() 之前把它加進 loss": make_loop(),
    "只有最後一個任務的彈簧：old_tasks 裡的每一組 (fisher, anchor) 都要加一個 penalty":
        make_loop(penalty=_penalty(lambda terms: terms[-1:])),
    "penalty 被減掉了：loss = task loss + penalty": make_loop(penalty=_penalty(lambda terms: terms, -1.0)),
}


def _state(stream, settings: LoopSettings) -> EWC:
    ewc = EWC(lam=LAM)
    ewc.setup(None, stream, TrainConfig(seed=settings.seed))
    return ewc


ewc_loop_exercise = LoopExercise(
    "練習 C（把 EWC 放進 training loop）", reference_train_task_ewc,
    lambda: make_stream("permuted", n_tasks=3, train_size=1000, test_size=500, seed=0),
    lambda: EWC(lam=LAM),
    hints=["從第 1 章的 loop 開始，只改 loss：算完 cross-entropy 之後、backward 之前，對 old_tasks 裡的每一組 "
           "(fisher, anchor) 各加上一項練習 A 的 penalty。其他部分（Adam、randperm、batch）和第 1 章一模一樣。",
           "（幾乎是解答）每個 mini-batch 取當下的 params = dict(model.named_parameters())（不要 detach），"
           "對每一組 (fisher, anchor) 做 loss = loss + my_ewc_penalty(params, anchor, fisher, lam)，全部加完再 loss.backward()。"],
    mistakes=MISTAKES, state=_state,
    extra=lambda ewc: lambda model, t: {"old_tasks": list(zip(ewc.fishers, ewc.anchors)), "lam": ewc.lam},
    after_task=lambda ewc: lambda model, task: ewc.after_task(model, task, ewc.stream),
    settings=SETTINGS, name="ewc_loop_exercise")
