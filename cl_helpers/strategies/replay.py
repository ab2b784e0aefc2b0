"""Experience replay: keep a small memory of past examples and train on them alongside the current batch."""
from __future__ import annotations

import torch

from ..buffer import POLICIES, ReplayBuffer
from .base import Param, Strategy, register


def memory_params(batch_default: int, batch_help: str) -> dict[str, Param]:
    """A memory's two knobs, named alike in every method that keeps one: its size, and examples drawn per step."""
    return {
        "buffer_size": Param(1000, 1, 1_000_000, type=int, help="examples the memory holds", log=True),
        "replay_batch_size": Param(batch_default, min(batch_default, 1), 100_000, type=int, help=batch_help),
    }


@register
class Replay(Strategy):
    """Experience replay with a fixed-size memory of past tasks' examples.

    At the end of each task its training examples are offered to the memory (in stream order, each
    once), whose policy keeps a uniform sample of every example seen (reservoir) or equal slots per
    class (balanced). While training task t, every mini-batch is extended with `replay_batch_size`
    examples drawn uniformly from the memory of tasks 0..t-1 (0: as many as the current batch), and
    the loss is the cross-entropy over both together. The memory stores inputs as the task saw them
    (permuted, rotated) and their task id, so a multi-head model replays each through its own head.

    Cost: from the second task on each step trains on the doubled batch (current + replay), so a step
    costs about twice a naive step; that is the method's own work, not overhead.
    """

    name = "replay"
    label = "Experience replay"
    params = {
        **memory_params(0, "memory examples per step (0: the current batch's size)"),
        "policy": Param("reservoir", choices=POLICIES,
                        help="reservoir: uniform over the stream; balanced: equal slots per class"),
    }

    def setup(self, model, stream, config):
        """A fresh memory on the data's device, seeded from the run's seed."""
        self.buffer = ReplayBuffer(self.buffer_size, self.policy, seed=config.seed,
                                   device=stream[0].x_train.device)
        return super().setup(model, stream, config)

    def make_batch(self, x: torch.Tensor, y: torch.Tensor, tids: torch.Tensor, t: int):
        """The current batch followed by a replay batch from the memory (the current one if it is empty)."""
        if len(self.buffer) == 0:
            return x, y, tids
        rx, ry, rt = self.buffer.sample(self.replay_batch_size or len(y))
        return torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])

    def after_task(self, model, task, stream) -> None:
        """Offer the task's training examples to the memory."""
        self.buffer.add(task.x_train, task.y_train, task.id)
