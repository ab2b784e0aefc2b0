"""The course's model: an MLP (784-256-256-10 by default) with an optional multi-head output."""
from __future__ import annotations

import operator
from typing import Sequence

import torch
from torch import nn

from .errors import check_int, check_widths


class MLP(nn.Module):
    """Fully connected ReLU network; with `n_heads > 1` each task id picks its own block of output units.

    The heads share one `nn.Linear` of `n_heads * n_outputs` units, so a batch that mixes tasks (replay,
    joint training) costs one matrix product; each example reads its own task's block.
    """

    def __init__(self, input_size: int = 784, hidden: Sequence[int] = (256, 256), n_outputs: int = 10,
                 n_heads: int = 1):
        super().__init__()
        width = check_int("input_size", input_size, 1, 10_000_000)
        self.n_outputs = check_int("n_outputs", n_outputs, 1, 1_000_000)
        self.n_heads = check_int("n_heads", n_heads, 1, 10_000)
        layers: list[nn.Module] = []
        for h in check_widths("hidden", hidden):
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, self.n_outputs * self.n_heads)

    def forward(self, x: torch.Tensor, task: int | torch.Tensor | None = None) -> torch.Tensor:
        """Logits of shape (N, n_outputs); `task` (an int or one id per example) picks the head."""
        out = self.head(self.body(x.flatten(1)))
        if self.n_heads == 1:
            return out
        out = out.view(len(out), self.n_heads, self.n_outputs)
        if task is None:
            raise ValueError("this multi-head model needs the task id of each example")
        if not isinstance(task, torch.Tensor):
            return out[:, operator.index(task)]  # an int, NumPy's included
        return out.gather(1, task.view(-1, 1, 1).expand(-1, 1, self.n_outputs)).squeeze(1)


def build_model(stream, hidden: Sequence[int] = (256, 256)) -> MLP:
    """An MLP sized for a task stream: input size from the data, outputs and heads from the scenario."""
    return MLP(stream.input_size, hidden, stream.n_outputs, stream.n_heads)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
