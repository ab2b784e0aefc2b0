"""Where an EWC run's forgetting lives: put back the weights a task's Fisher ranks highest, and re-measure.

With a very large lambda, EWC's forgetting rises again. Two explanations compete: Adam's fixed-size steps make
the stiffest weights jitter around theta*, or the new tasks push the weights the Fisher calls unimportant.
`restore_by_importance` tells them apart: it copies the final model, resets the given fraction of weights with
the largest F_k to theta*_k, and evaluates task k. If the jitter of important weights caused the loss,
restoring them recovers the task; if the low-Fisher weights did, it does not.

`zero_fisher_split` then looks at the weights whose Fisher is exactly 0 (every per-sample gradient of the
task's Fisher inputs is 0 there, so any quadratic penalty built from those gradients, diagonal or full, leaves
them free), and `silent_units` at the ReLU units behind them: silent on every Fisher input at theta*_k (and whether they
stay silent on all of the task's training and test inputs at theta*_k, and fire on those test inputs at the end).
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch
from torch import nn

from ..errors import ConfigError
from ..results import RunResult
from ..train import evaluate


def _task_terms(result: RunResult, task: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    strategy = result.strategy
    fishers, anchors = getattr(strategy, "fishers", None), getattr(strategy, "anchors", None)
    if not fishers or getattr(strategy, "online", False):
        raise ConfigError(f"method {result.method!r} keeps no per-task Fisher; allowed: an 'ewc' run")
    if not 0 <= task < len(fishers):
        raise ConfigError(f"task {task} has no stored Fisher; allowed: 0..{len(fishers) - 1}")
    return fishers[task], anchors[task]


def _restored(result: RunResult, anchor: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> nn.Module:
    model = copy.deepcopy(result.model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in masks:
                p[masks[name]] = anchor[name][masks[name]]
    return model


def restore_by_importance(result: RunResult, task: int = 0,
                          fractions: Iterable[float] = (0.5, 0.9, 0.99)) -> dict[float, float]:
    """Accuracy on `task` after resetting each fraction of weights with the largest F_task to theta*_task.

    `result` is an `ewc` run (one Fisher and anchor per past task); the final model is left unchanged.
    Exactly round(fraction * n) weights are reset (equal Fisher values, such as the many exact zeros, are
    ranked by position), so fraction 0 gives the run's final accuracy on the task and fraction 1 the
    accuracy at the task's end.
    """
    fisher, anchor = _task_terms(result, task)
    flat = torch.cat([f.reshape(-1) for f in fisher.values()])
    order = torch.sort(flat, descending=True, stable=True).indices
    sizes = [f.numel() for f in fisher.values()]
    out = {}
    for frac in fractions:
        if not 0 <= frac <= 1:
            raise ConfigError(f"fraction {frac!r} is out of range; allowed: 0..1")
        chosen = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
        chosen[order[:round(frac * flat.numel())]] = True
        masks = {name: m.view_as(f) for (name, f), m in zip(fisher.items(), chosen.split(sizes))}
        out[frac] = evaluate(_restored(result, anchor, masks), result.strategy.stream[task], result.strategy)
    return out


def zero_fisher_split(result: RunResult, task: int = 0) -> dict[str, float]:
    """Split the weights at F_task == 0 vs > 0: their share, mean |theta - theta*_task|, task accuracy when restored.

    Keys: "zero_fraction", "zero_count", "weights"; "zero_on_silent" (the share of the zero-Fisher weights
    that are attached to a ReLU unit silent on every Fisher input at theta*_task, see `silent_units`);
    "move_zero" / "move_nonzero" (mean absolute distance from theta*_task of the final weights in each group);
    "restore_zero" / "restore_nonzero" (accuracy on `task` after resetting only that group to theta*_task);
    "final" and "at_task_end" (R[T-1, task] and R[task, task]).
    """
    fisher, anchor = _task_terms(result, task)
    params = dict(result.model.named_parameters())
    zero = {name: f == 0 for name, f in fisher.items()}
    nonzero = {name: ~z for name, z in zero.items()}
    n = sum(f.numel() for f in fisher.values())

    def move(masks):
        d = [(params[k].detach() - anchor[k]).abs()[m] for k, m in masks.items()]
        total = sum(int(m.sum()) for m in masks.values())
        return float(sum(x.sum() for x in d) / total) if total else 0.0

    stream_task = result.strategy.stream[task]
    attached = _attached(result.model, _silent_at_anchor(result, task))
    n_zero = sum(int(z.sum()) for z in zero.values())
    on_silent = sum(int((z & attached[k]).sum()) for k, z in zero.items() if k in attached)
    return {"zero_fraction": n_zero / n, "zero_on_silent": on_silent / n_zero if n_zero else 0.0,
            "zero_count": n_zero, "weights": n,
            "move_zero": move(zero), "move_nonzero": move(nonzero),
            "restore_zero": evaluate(_restored(result, anchor, zero), stream_task, result.strategy),
            "restore_nonzero": evaluate(_restored(result, anchor, nonzero), stream_task, result.strategy),
            "final": float(result.acc_matrix[-1, task]), "at_task_end": float(result.acc_matrix[task, task])}


def _check_mlp(model: nn.Module) -> None:
    if not isinstance(getattr(model, "body", None), nn.Sequential) or not isinstance(getattr(model, "head", None),
                                                                                    nn.Linear):
        raise ConfigError("silent units need the course's MLP (model.body of Linear and ReLU layers, model.head)")


def _relu_outputs(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    outs, h = [], x.flatten(1)
    for layer in model.body:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            outs.append(h)
    return outs


def _anchored(result: RunResult, task: int) -> nn.Module:
    """A copy of the final model with every parameter put back at theta*_task, in eval mode."""
    _, anchor = _task_terms(result, task)
    model = copy.deepcopy(result.model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in anchor:
                p.copy_(anchor[name])
    return model.eval()


@torch.no_grad()
def _silent(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Per hidden ReLU layer, a bool per unit: output 0 on every input in `x`."""
    was_training = model.training
    model.eval()
    try:
        return [h.amax(0) == 0 for h in _relu_outputs(model, x)]
    finally:
        model.train(was_training)


def _silent_at_anchor(result: RunResult, task: int) -> list[torch.Tensor]:
    """Per hidden ReLU layer, a bool per unit: silent (output 0) on every Fisher input of `task` at theta*_task."""
    _check_mlp(result.model)
    strategy = result.strategy
    x, _, _ = strategy.task_subset(strategy.stream[task], strategy.importance_samples)
    return _silent(_anchored(result, task), x)


def _attached(model: nn.Module, silent: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per parameter, the entries attached to a silent unit: its incoming weights and bias, its outgoing weights."""
    linears = [(f"body.{i}", m) for i, m in enumerate(model.body) if isinstance(m, nn.Linear)] + [("head", model.head)]
    masks = {f"{n}.{k}": torch.zeros_like(getattr(m, k), dtype=torch.bool)
             for n, m in linears for k in ("weight", "bias")}
    for (name, _), (after, _), s in zip(linears, linears[1:], silent):
        masks[f"{name}.weight"][s, :] = True
        masks[f"{name}.bias"][s] = True
        masks[f"{after}.weight"][:, s] = True
    return masks


def silent_units(result: RunResult, task: int = 0) -> list[dict[str, int]]:
    """Per hidden ReLU layer, ReLU units that are silent at theta*_task and what became of them.

    Keys: "units"; "silent": silent (output 0) on all of the task's Fisher inputs at theta*_task (the
    strategy's own draw, `task_subset`, `importance_samples` of them); of those, "silent_train" and
    "silent_test": also silent on every one of the task's training / test inputs at theta*_task; and
    "woken": of the "silent_test" units, those that fire on at least one of the same test inputs in the final
    model (the same images before and after). Needs the course's MLP (a `body` of Linear and ReLU layers, then
    `head`).
    """
    silent = _silent_at_anchor(result, task)
    data = result.strategy.stream[task]
    anchored = _anchored(result, task)
    train0, test0 = _silent(anchored, data.x_train), _silent(anchored, data.x_test)
    test_end = _silent(result.model, data.x_test)
    return [{"units": int(s.numel()), "silent": int(s.sum()), "silent_train": int((s & a).sum()),
             "silent_test": int((s & b).sum()), "woken": int((s & b & ~c).sum())}
            for s, a, b, c in zip(silent, train0, test0, test_end)]
