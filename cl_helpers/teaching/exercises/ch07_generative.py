"""Chapter 7 exercise: the generative replay loss, labels from the previous model and the 1/t mixing.

The student writes `replay_loss(logits, y, replay_logits, old_replay_logits, tasks_seen)`: cross-entropy on
the current batch (logits, y), cross-entropy on the replayed inputs against the hard labels the PREVIOUS
model gives them (the argmax of old_replay_logits), mixed (1/t) current + (1 - 1/t) replayed with t =
tasks_seen. The reference agrees with `cl_helpers.strategies.generative_replay.generative_replay_loss` with hard
labels (tests/test_exercises.py checks it); it is written out here because the last hint step prints it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .core import Case, Exercise


def reference_replay_loss(logits: torch.Tensor, y: torch.Tensor, replay_logits: torch.Tensor,
                          old_replay_logits: torch.Tensor, tasks_seen: int) -> torch.Tensor:
    """(1/t) CE(logits, y) + (1 - 1/t) CE(replay_logits, argmax of the previous model's logits)."""
    labels = old_replay_logits.argmax(1)   # hard labels from the PREVIOUS model
    w = 1.0 / tasks_seen                   # the current task is one of the t tasks seen so far
    return w * F.cross_entropy(logits, y) + (1 - w) * F.cross_entropy(replay_logits, labels)


def _ce(logits, labels):
    return F.cross_entropy(logits, labels)


MISTAKES = {
    "重播樣本的 label 用了目前的模型：要用**上一個**模型給的 label（old_replay_logits.argmax(1)）；"
    "正在訓練的模型跟自己的答案一致，什麼也學不到":
        lambda lg, y, rl, old, t: _ce(lg, y) / t + (1 - 1 / t) * _ce(rl, rl.argmax(1)),
    "各佔一半：只在 t = 2 時剛好正確；目前任務只是 t 個任務中的一個，權重是 1/t，重播的舊任務是 1 - 1/t"
    "（t = 3 時是 1/3 與 2/3）":
        lambda lg, y, rl, old, t: 0.5 * _ce(lg, y) + 0.5 * _ce(rl, old.argmax(1)),
    "權重放反了：目前的 batch 是 1/t，重播的（前面 t - 1 個任務）是 1 - 1/t":
        lambda lg, y, rl, old, t: (1 - 1 / t) * _ce(lg, y) + _ce(rl, old.argmax(1)) / t,
    "沒有加權：兩個 loss 直接相加了；要乘上 1/t 與 1 - 1/t":
        lambda lg, y, rl, old, t: _ce(lg, y) + _ce(rl, old.argmax(1)),
    "兩個 batch 接在一起算一個 cross-entropy（experience replay 的做法）：那是按 batch 大小加權，"
    "不是 1/t 比 (t-1)/t":
        lambda lg, y, rl, old, t: _ce(torch.cat([lg, rl]), torch.cat([y, old.argmax(1)])),
    "t 差了 1（off-by-one）：tasks_seen 已經包含目前的任務，目前任務的權重就是 1 / tasks_seen":
        lambda lg, y, rl, old, t: _ce(lg, y) / (t + 1) + (1 - 1 / (t + 1)) * _ce(rl, old.argmax(1)),
}


def _cases() -> list[Case]:
    g = torch.Generator().manual_seed(7)
    cases = []
    for t, n, m in ((2, 4, 6), (3, 3, 5), (5, 5, 4)):
        logits = torch.randn(n, 10, generator=g, dtype=torch.float64)
        y = torch.randint(2 * (t - 1), 2 * t, (n,), generator=g)
        replay = torch.randn(m, 10, generator=g, dtype=torch.float64)
        old = torch.randn(m, 10, generator=g, dtype=torch.float64)
        old[:, 2 * (t - 1):] = float("-inf")                    # classes not seen before this task
        replay[:, 2 * (t - 1)] += 3.0                           # the current model prefers a new class
        cases.append(Case(f"第 t = {t} 個任務：{n} 個目前的輸入、{m} 個重播的輸入，10 個輸出，"
                          f"上一個模型認得類別 0..{2 * (t - 1) - 1}",
                          (logits, y, replay, old, t), mistakes=MISTAKES))
    return cases


replay_loss_exercise = Exercise(
    "練習 7.1：generative replay 的 loss", reference_replay_loss, _cases,
    hints=["兩個 cross-entropy：目前的 batch 對 y；重播的輸入對「上一個模型」給的 label。old_replay_logits 與 "
           "replay_logits 哪一個是上一個模型的？",
           "Hard label 就是每一列 logits 最大的那個類別。該取哪一個 logits 的最大值？"
           "（還沒見過的類別已經是 -inf，不會被選到。）算 cross-entropy 時，預測用的又是哪一個 logits？",
           "加權：tasks_seen 已經包含目前的任務。目前的 batch 代表其中幾個任務、重播的代表幾個？"
           "兩個權重加起來是 1。"],
    name="replay_loss_exercise")
