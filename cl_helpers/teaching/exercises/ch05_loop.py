"""Chapter 5 exercise: the chapter 1 loop with a replay batch mixed in, checked against train_stream with `replay`.

`train_task_replay(model, task, epochs, batch_size, lr, gen, buffer)`: `buffer` is a
`cl_helpers.buffer.ReplayBuffer` that the package fills at each task's end exactly as the `replay` strategy
does (`Replay.after_task`: the task's training examples offered to reservoir sampling).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...buffer import ReplayBuffer
from ...strategies.replay import Replay
from ...tasks import make_stream
from .ch01_loop import make_loop
from .loop import LoopExercise, LoopSettings, minibatches

BUFFER_SIZE = 200


def reference_train_task_replay(model, task, epochs, batch_size, lr, gen, buffer):
    """The chapter 1 loop; each mini-batch is extended by as many examples drawn from the replay buffer."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    n = len(task.y_train)
    for idx in minibatches(n, epochs, batch_size, gen):       # the chapter 1 loop's batches
        x, y = task.x_train[idx], task.y_train[idx]
        tids = torch.full_like(y, task.id)               # each example's task id (for multi-head models)
        if len(buffer) > 0:                                # replay: as many memory examples as current ones
            rx, ry, rt = buffer.sample(len(y))
            x, y, tids = torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, tids), y)
        loss.backward()
        optimizer.step()


def _small_replay(x, y, tids, extra):
    buffer = extra["buffer"]
    if not len(buffer):
        return x, y, tids
    rx, ry, rt = buffer.sample(16)
    return torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])


def _batch_size_replay(x, y, tids, extra):
    """A wrong mix: the replay batch always has batch_size examples, also after the epoch's last, smaller batch."""
    buffer = extra["buffer"]
    if not len(buffer):
        return x, y, tids
    rx, ry, rt = buffer.sample(LoopSettings().batch_size)
    return torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])


MISTAKES = {
    "loss 裡沒有 replay batch：把 memory 的樣本接到 x、y 與 task ids 後面": make_loop(),
    "replay batch 的大小不對：抽 buffer.sample(len(y))，和目前的 batch 一樣多":
        make_loop(mix=_small_replay),
    "replay batch 固定抽 buffer.sample(batch_size)：每個任務的樣本數不是 batch_size 的倍數，每個 epoch 最後一個 "
    "mini-batch 比較小，replay batch 要和它一樣大：buffer.sample(len(y))":
        make_loop(mix=_batch_size_replay),
}


def _state(stream, settings: LoopSettings) -> ReplayBuffer:
    return ReplayBuffer(BUFFER_SIZE, "reservoir", seed=settings.seed, device=stream[0].x_train.device)


replay_loop_exercise = LoopExercise(
    "練習 5.2：把 replay 放進 training loop", reference_train_task_replay,
    lambda: make_stream("split", n_tasks=3, scenario="class", train_size=1000, test_size=300),
    lambda: Replay(buffer_size=BUFFER_SIZE),
    hints=["從第 1 章的 loop 開始，只改 forward 之前的一步：每個 mini-batch 接上一個和它一樣大、從 buffer 抽出的 "
           "replay batch。第一個任務時 buffer 是空的，不能抽。",
           "buffer.sample(n) 回傳 n 個樣本的 (x, y, task_ids)；樣本、標籤、task id 三者都要接在目前的 batch 後面，"
           "目前 batch 的 task id 是 torch.full_like(y, task.id)。",
           "tids = torch.full_like(y, task.id)；if len(buffer) > 0: rx, ry, rt = buffer.sample(len(y))；"
           "x, y, tids = torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])；"
           "loss = F.cross_entropy(model(x, tids), y)。"],
    mistakes=MISTAKES, state=_state, extra=lambda buffer: lambda model, t: {"buffer": buffer},
    after_task=lambda buffer: lambda model, task: buffer.add(task.x_train, task.y_train, task.id),
    name="replay_loop_exercise")
