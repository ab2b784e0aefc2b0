"""Chapter 1 exercise: the training loop itself, `train_task(model, task, epochs, batch_size, lr, gen)`.

The student's loop is run on 3 permuted-MNIST tasks as `train_stream(stream, "naive")` runs them (same seed,
model, optimizer and batch order) and must give the same accuracy matrix within `loop.TOLERANCE`; the hooks
of `loop.LoopExercise` name the classic mistakes. `make_loop(...)` builds the loop with one thing done
wrong, for naming a mistake by its result and for the tests.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from ...strategies.naive import Naive
from ...tasks import make_stream
from .loop import LoopExercise


def reference_train_task(model, task, epochs, batch_size, lr, gen):
    """Train `model` on one task: one Adam per task, train mode, each epoch one permutation in mini-batches."""
    model.train()                                             # it may come in eval mode
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)   # once per task: Adam's averages persist
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)   # one shuffle per epoch
        for start in range(0, n, batch_size):                 # the last batch may be smaller
            idx = order[start:start + batch_size]
            x, y = task.x_train[idx], task.y_train[idx]
            optimizer.zero_grad()                             # .grad accumulates otherwise
            loss = F.cross_entropy(model(x, task.id), y)
            loss.backward()
            optimizer.step()


def make_loop(zero_grad: bool = True, train_mode: bool = True, shuffle: str = "epoch",
              optimizer_per: str = "task", drop_last: bool = False, step: bool = True,
              optimizer: Callable[..., Any] = torch.optim.Adam, mix: Callable[..., Any] | None = None,
              after_backward: Callable[..., Any] | None = None, penalty: Callable[..., Any] | None = None,
              after_step: Callable[..., Any] | None = None) -> Callable[..., None]:
    """The reference loop, with one choice changed or with a strategy's additions.

    Changes: shuffle "epoch" | "batch" | "task" | "none"; optimizer_per "task" | "epoch" | "batch"; drop_last
    skips the last smaller batch. Additions (each gets the loop's extra keyword arguments as `extra`), where
    the engine's hooks fire: mix(x, y, tids, extra) -> (x, y, tids) (make_batch, replay);
    after_backward(model, extra) -> ctx, when .grad holds the task loss's gradient (after_task_backward, SI);
    penalty(model, extra) -> tensor or None, backpropagated on top (EWC, SI); after_step(model, extra, ctx).
    """
    def loop(model, task, epochs, batch_size, lr, gen, **extra):
        opt = optimizer(model.parameters(), lr=lr)
        if train_mode:
            model.train()
        n = len(task.y_train)
        order = torch.randperm(n, generator=gen, device=gen.device) if shuffle == "task" else None
        for epoch in range(epochs):
            if optimizer_per == "epoch":
                opt = optimizer(model.parameters(), lr=lr)
            if shuffle == "epoch":
                order = torch.randperm(n, generator=gen, device=gen.device)
            stop = n - n % batch_size if drop_last and n % batch_size else n
            for start in range(0, stop, batch_size):
                if optimizer_per == "batch":
                    opt = optimizer(model.parameters(), lr=lr)
                if shuffle == "batch":
                    idx = torch.randperm(n, generator=gen, device=gen.device)[:batch_size]
                elif shuffle == "none":
                    idx = torch.arange(start, min(start + batch_size, n), device=task.y_train.device)
                else:
                    idx = order[start:start + batch_size]
                x, y = task.x_train[idx], task.y_train[idx]
                tids = torch.full_like(y, task.id)
                if mix is not None:
                    x, y, tids = mix(x, y, tids, extra)
                if zero_grad:
                    opt.zero_grad()
                F.cross_entropy(model(x, tids), y).backward()
                ctx = after_backward(model, extra) if after_backward is not None else None
                extra_loss = penalty(model, extra) if penalty is not None else None
                if extra_loss is not None:
                    extra_loss.backward()
                if step:
                    opt.step()
                if after_step is not None:
                    after_step(model, extra, ctx)
    return loop


MISTAKES = {
    "用了 SGD 而不是 Adam：train_stream 用的是 torch.optim.Adam(model.parameters(), lr=lr)":
        make_loop(optimizer=torch.optim.SGD),
}


def _stream():
    return make_stream("permuted", n_tasks=3, train_size=1000, test_size=500, seed=0)


loop_exercise = LoopExercise(
    "練習 1.2：training loop", reference_train_task, _stream, Naive,
    hints=["先排好結構：每個任務只做一次的準備（切回 train mode、建立 optimizer）放在所有迴圈外面；"
           "每個 epoch 打亂一次順序；每個 mini-batch 做同樣的幾件事。想一想：optimizer 如果建在 epoch 迴圈裡面，"
           "Adam 的移動平均會怎樣？",
           "切 mini-batch：range(0, n, batch_size) 給出每一組的起點，用 order 從這個起點開始的一段當 index，"
           "同時取出 task.x_train 與 task.y_train 的那幾列（最後一段的 slice 會自動變短）。",
           "每個 mini-batch 裡的訓練步有四件事，順序很重要：先清掉上一步的 gradient，再算 loss、backward，"
           "最後讓 optimizer 更新權重。"],
    mistakes=MISTAKES, name="loop_exercise")
