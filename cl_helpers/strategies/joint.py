"""Joint training: the upper reference that sees every task's data at once."""
from __future__ import annotations

import torch

from .base import Strategy, register


@register
class Joint(Strategy):
    """At stage t, train on the union of tasks 0..t; the last stage is training on every task at once.

    Training the union at every stage gives a full accuracy matrix (a row per stage) that is comparable
    with the sequential methods; it costs 1 + 2 + ... + T task-epochs instead of T, because the method's
    own work (seeing all data) is larger.
    """

    name = "joint"
    label = "Joint (upper bound)"

    def training_data(self, stream, t: int):
        xs, ys, ts = zip(*(Strategy.training_data(self, stream, i) for i in range(t + 1)))
        return torch.cat(xs), torch.cat(ys), torch.cat(ts)
