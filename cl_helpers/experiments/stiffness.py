"""Where an EWC run's forgetting lives: put back the weights a task's Fisher ranks highest, and re-measure.

With a very large lambda, EWC's forgetting rises again. Two explanations compete: Adam's fixed-size steps make
the stiffest weights jitter around theta*, or the new tasks push the weights the diagonal Fisher calls
unimportant. `restore_by_importance` tells them apart: it copies the final model, resets the given fraction
of weights with the largest F_k to theta*_k, and evaluates task k. If the jitter of important weights caused
the loss, restoring them recovers the task; if the low-Fisher weights did, it does not.
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch

from ..errors import ConfigError
from ..results import RunResult
from ..train import evaluate


def restore_by_importance(result: RunResult, task: int = 0,
                          fractions: Iterable[float] = (0.5, 0.9, 0.99)) -> dict[float, float]:
    """Accuracy on `task` after resetting each fraction of weights with the largest F_task to theta*_task.

    `result` is an `ewc` run (one Fisher and anchor per past task); the final model is left unchanged.
    Fraction 0 gives the run's final accuracy on the task, fraction 1 the accuracy at the task's end.
    """
    strategy = result.strategy
    fishers, anchors = getattr(strategy, "fishers", None), getattr(strategy, "anchors", None)
    if not fishers or getattr(strategy, "online", False):
        raise ConfigError(f"method {result.method!r} keeps no per-task Fisher; allowed: an 'ewc' run")
    if not 0 <= task < len(fishers):
        raise ConfigError(f"task {task} has no stored Fisher; allowed: 0..{len(fishers) - 1}")
    fisher, anchor = fishers[task], anchors[task]
    ranked = torch.cat([f.reshape(-1) for f in fisher.values()]).sort(descending=True).values
    out = {}
    for frac in fractions:
        if not 0 <= frac <= 1:
            raise ConfigError(f"fraction {frac!r} is out of range; allowed: 0..1")
        k = round(frac * ranked.numel())
        model = copy.deepcopy(result.model)
        if k > 0:
            threshold = ranked[k - 1]
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name in fisher:
                        mask = fisher[name] >= threshold
                        p[mask] = anchor[name][mask]
        out[frac] = evaluate(model, strategy.stream[task], strategy)
    return out
