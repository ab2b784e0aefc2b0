"""The quadratic penalty that EWC, SI and MAS share, with a hand-written backward, and flattening helpers."""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
from torch import nn

Tensors = Sequence[torch.Tensor] | Mapping[str, torch.Tensor]


def _values(tensors: Tensors) -> list[torch.Tensor]:
    return list(tensors.values()) if isinstance(tensors, Mapping) else list(tensors)


def quadratic_penalty(params: Tensors, anchors: Tensors, importance: Tensors, strength: float) -> torch.Tensor:
    """strength * sum_i importance_i * (params_i - anchors_i)^2, summed over every element of every tensor.

    The three arguments are matching lists (or dicts, in the same key order) of tensors of equal shapes.
    EWC calls it with strength lambda/2 and the Fisher, SI with c and Omega, MAS with lambda and Omega.
    Gradients flow to `params` only (2 * strength * importance * (params - anchors), computed directly,
    which costs a third of what autograd's generic backward would); anchors and importance are constants.
    """
    params, anchors, importance = _values(params), _values(anchors), _values(importance)
    n = len(params)
    if not (n == len(anchors) == len(importance)) or n == 0:
        raise ValueError(f"quadratic_penalty needs as many anchors and importances as parameters (>= 1), got "
                         f"{n}, {len(anchors)}, {len(importance)}")
    for p, a, w in zip(params, anchors, importance):
        if not (p.shape == a.shape == w.shape):
            raise ValueError(f"quadratic_penalty: shapes differ: parameter {tuple(p.shape)}, anchor "
                             f"{tuple(a.shape)}, importance {tuple(w.shape)}")
    return _Quadratic.apply(float(strength), n, *params, *anchors, *importance)


class _Quadratic(torch.autograd.Function):
    """strength * sum w (p - a)^2 whose backward is one multiply per tensor."""

    @staticmethod
    def forward(ctx, strength: float, n: int, *tensors: torch.Tensor) -> torch.Tensor:
        params, anchors, importance = tensors[:n], tensors[n:2 * n], tensors[2 * n:]
        total = params[0].new_zeros(())
        weighted = []
        for p, a, w in zip(params, anchors, importance):
            d = p - a
            wd = w * d
            total += torch.dot(wd.reshape(-1), d.reshape(-1))
            weighted.append(wd)
        ctx.save_for_backward(*weighted)
        ctx.strength, ctx.n = strength, n
        return total * strength

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        scale = 2 * ctx.strength * grad
        grads = [scale * wd if needed else None
                 for wd, needed in zip(ctx.saved_tensors, ctx.needs_input_grad[2:2 + ctx.n])]
        return (None, None, *grads, *([None] * (2 * ctx.n)))


def flat_params(params: Sequence[nn.Parameter]) -> torch.Tensor:
    """All parameters as one vector (a copy; it keeps the autograd link unless taken under no_grad)."""
    return torch.cat([p.reshape(-1) for p in params])


def flat_grads(params: Sequence[nn.Parameter]) -> torch.Tensor:
    """The parameters' .grad as one vector (zeros where a parameter has no gradient), in the order given."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])


def flat_grad_of(loss: torch.Tensor, params: Sequence[nn.Parameter]) -> torch.Tensor:
    """d loss / d params as one flat vector, in the order given, leaving .grad untouched."""
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(params))])


def set_flat_grads(params: Sequence[nn.Parameter], vector: torch.Tensor) -> None:
    """Write a flat vector back into the parameters' .grad (the inverse of `flat_grads`)."""
    for p, part in zip(params, unflatten(vector, params)):
        if p.grad is None:
            p.grad = part.clone()
        else:
            p.grad.copy_(part)


def unflatten(vector: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Views of a flat vector shaped like the tensors in `like` (the inverse of `flat_params`, no copy)."""
    return [part.view_as(t) for part, t in zip(torch.split(vector, [t.numel() for t in like]), like)]
