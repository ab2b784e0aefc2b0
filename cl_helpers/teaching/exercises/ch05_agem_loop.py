"""Chapter 5 exercise (optional): A-GEM's projection in the chapter 1 loop, checked against train_stream with `agem`.

`train_task_agem(model, task, epochs, batch_size, lr, gen, memory)`: `memory` is a `cl_helpers.buffer.ReplayBuffer`
that the package fills at each task's end exactly as the `agem` strategy does (`AGEM.after_task`). Between
`loss.backward()` and `optimizer.step()` (the engine's `after_backward` hook), the loop computes the reference
gradient on REPLAY_BATCH memory examples and, when the step's gradient points against it, replaces `.grad` by the
projection.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...buffer import ReplayBuffer
from ...penalties import flat_grad_of, flat_grads, set_flat_grads
from ...strategies.agem import AGEM
from ...tasks import make_stream
from .ch01_loop import make_loop
from .loop import LoopExercise, LoopSettings, minibatches

BUFFER_SIZE = 200
REPLAY_BATCH = 64


def reference_train_task_agem(model, task, epochs, batch_size, lr, gen, memory):
    """The chapter 1 loop; after backward, .grad is projected so that the memory's loss does not go up."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    params = list(model.parameters())
    for idx in minibatches(len(task.y_train), epochs, batch_size, gen):   # the chapter 1 loop's batches
        x, y = task.x_train[idx], task.y_train[idx]
        optimizer.zero_grad()
        F.cross_entropy(model(x, torch.full_like(y, task.id)), y).backward()
        if len(memory) > 0:
            mx, my, mt = memory.sample(REPLAY_BATCH)
            # autograd.grad (in flat_grad_of), not backward(): .grad must keep the step's own gradient g
            g_ref = flat_grad_of(F.cross_entropy(model(mx, mt), my), params)
            g = flat_grads(params)
            dot = g @ g_ref
            if dot < 0:                                       # g would raise the memory's loss: project it
                g = g - dot / (g_ref @ g_ref) * g_ref
                set_flat_grads(params, g)
        optimizer.step()


def _project_every_step(model, extra):
    """A wrong after_backward: the projection applied whether or not g points against g_ref."""
    memory = extra["memory"]
    if len(memory):
        params = list(model.parameters())
        mx, my, mt = memory.sample(REPLAY_BATCH)
        g_ref = flat_grad_of(F.cross_entropy(model(mx, mt), my), params)
        g = flat_grads(params)
        set_flat_grads(params, g - (g @ g_ref) / (g_ref @ g_ref) * g_ref)


def _ref_by_backward(model, extra):
    """A wrong after_backward: g_ref by backward(), which adds it into .grad (g is lost; .grad keeps g + g_ref)."""
    memory = extra["memory"]
    if len(memory):
        params = list(model.parameters())
        g = flat_grads(params)                       # a copy of the step's gradient, taken before
        mx, my, mt = memory.sample(REPLAY_BATCH)
        F.cross_entropy(model(mx, mt), my).backward()
        g_ref = flat_grads(params)                   # the mistake: this is g + g_ref, not g_ref
        dot = g @ g_ref
        if dot < 0:
            set_flat_grads(params, g - dot / (g_ref @ g_ref) * g_ref)


MISTAKES = {
    "沒有投影（或投影算好了卻沒寫回 .grad）：optimizer.step() 用的還是原本的 gradient，等於 naive":
        make_loop(),
    "每一步都投影：只有 g · g_ref < 0（g 會讓 memory 的 loss 上升）時才投影，否則 g 保持原樣":
        make_loop(after_backward=_project_every_step),
    "用 backward() 算 g_ref：它把 g_ref 加進 .grad，於是 .grad 變成 g + g_ref（不投影時也留著）。"
    "改用 torch.autograd.grad(loss, params)，.grad 保持這一步的 g":
        make_loop(after_backward=_ref_by_backward),
}


def _state(stream, settings: LoopSettings) -> ReplayBuffer:
    return ReplayBuffer(BUFFER_SIZE, "reservoir", seed=settings.seed, device=stream[0].x_train.device)


agem_loop_exercise = LoopExercise(
    "練習 5.3（選做）：A-GEM 的投影", reference_train_task_agem,
    lambda: make_stream("split", n_tasks=3, scenario="class", train_size=1000, test_size=300),
    lambda: AGEM(buffer_size=BUFFER_SIZE, replay_batch_size=REPLAY_BATCH),
    hints=["從第 1 章的 loop 開始，只改 loss.backward() 和 optimizer.step() 之間。memory 是空的（第一個任務）"
           "時什麼都不做。",
           "否則 mx, my, mt = memory.sample(64)；用 torch.autograd.grad(F.cross_entropy(model(mx, mt), my), params) "
           "算 g_ref（不要用 backward()：它會把 g_ref 加進 .grad）。把 g 和 g_ref 各自攤平接成一個向量。",
           "dot = g @ g_ref；只有 dot < 0 時 g = g - dot / (g_ref @ g_ref) * g_ref，再用 "
           "torch.nn.utils.vector_to_parameters(g, [p.grad for p in params]) 寫回 .grad。"],
    mistakes=MISTAKES, state=_state, extra=lambda memory: lambda model, t: {"memory": memory},
    after_task=lambda memory: lambda model, task: memory.add(task.x_train, task.y_train, task.id),
    name="agem_loop_exercise")
