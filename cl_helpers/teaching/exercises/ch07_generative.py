"""Chapter 7 exercise: the generative replay loss, labels from the previous model and the 1/t mixing.

The student writes `replay_loss(logits, y, replay_logits, old_replay_logits, tasks_seen)`: cross-entropy on
the current batch (logits, y), cross-entropy on the replayed inputs against the hard labels the PREVIOUS
model gives them (the argmax of old_replay_logits), mixed (1/t) current + (1 - 1/t) replayed with t =
tasks_seen. The reference is `cl_helpers.strategies.generative_replay.generative_replay_loss` with hard labels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...strategies.generative_replay import generative_replay_loss
from .core import Case, Exercise


def reference_replay_loss(logits: torch.Tensor, y: torch.Tensor, replay_logits: torch.Tensor,
                          old_replay_logits: torch.Tensor, tasks_seen: int) -> torch.Tensor:
    """(1/t) CE(logits, y) + (1 - 1/t) CE(replay_logits, argmax of the previous model's logits)."""
    return generative_replay_loss(logits, y, replay_logits, old_replay_logits, tasks_seen)


def _ce(logits, labels):
    return F.cross_entropy(logits, labels)


MISTAKES = {
    "labels from the current model: the replayed inputs must be labelled by the PREVIOUS model "
    "(old_replay_logits.argmax(1)); the model being trained agreeing with itself teaches it nothing":
        lambda lg, y, rl, old, t: _ce(lg, y) / t + (1 - 1 / t) * _ce(rl, rl.argmax(1)),
    "mixed 50/50: the current task is one task out of t, so its weight is 1/t and the replayed tasks' is 1 - 1/t":
        lambda lg, y, rl, old, t: 0.5 * _ce(lg, y) + 0.5 * _ce(rl, old.argmax(1)),
    "weights swapped: the current batch gets 1/t, the replayed ones (t - 1 earlier tasks) 1 - 1/t":
        lambda lg, y, rl, old, t: (1 - 1 / t) * _ce(lg, y) + _ce(rl, old.argmax(1)) / t,
    "no weights: the two losses were added; weigh them 1/t and 1 - 1/t":
        lambda lg, y, rl, old, t: _ce(lg, y) + _ce(rl, old.argmax(1)),
    "one cross-entropy over both batches together (as experience replay does): that weighs them by batch "
    "size, not 1/t : (t-1)/t":
        lambda lg, y, rl, old, t: _ce(torch.cat([lg, rl]), torch.cat([y, old.argmax(1)])),
    "t off by one: tasks_seen already counts the current task; the current weight is 1 / tasks_seen":
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
        cases.append(Case(f"task number t = {t}: {n} current and {m} replayed inputs, 10 output units, "
                          f"the previous model knows classes 0..{2 * (t - 1) - 1}",
                          (logits, y, replay, old, t), mistakes=MISTAKES))
    return cases


replay_loss_exercise = Exercise(
    "Exercise 7.1: the generative replay loss", reference_replay_loss, _cases,
    hints=["Two cross-entropies: the current batch against y; the replayed inputs against labels you make from "
           "old_replay_logits (which model's logits are those?). Then weigh them by how many tasks each stands for.",
           "labels = old_replay_logits.argmax(1); w = 1 / tasks_seen; "
           "return w * CE(logits, y) + (1 - w) * CE(replay_logits, labels)"],
    name="replay_loss_exercise")
