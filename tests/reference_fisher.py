"""The obvious, slow reference for the diagonal Fisher: one backward per sample (and per class for `exact`).

It lives with the tests (and the Fisher benchmark), not in the package: `cl_helpers.fisher.fisher_diagonal` is
checked against it. It shares only the label draw of the `sampled` kind, so that both square the same labels.
"""
from __future__ import annotations

import torch
from torch import nn

from cl_helpers.errors import ConfigError, check_choice
from cl_helpers.fisher import FISHER_KINDS, _check_inputs, _targets, _uniforms


def fisher_diagonal_loop(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None = None,
                         kind: str = "exact", task: int | torch.Tensor | None = None,
                         generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The same Fisher as `fisher_diagonal`, by one backward per sample (and class): the slow, obvious reference."""
    check_choice("fisher kind", kind, FISHER_KINDS)
    n = _check_inputs(inputs, task)
    if kind == "empirical" and labels is None:
        raise ConfigError("fisher kind 'empirical' needs the true labels; allowed: labels of shape (N,)")
    uniforms = _uniforms(n, generator, inputs.device) if kind == "sampled" else None
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    fisher = {name: torch.zeros_like(p) for name, p in named}
    was_training = model.training
    model.eval()
    try:
        for i in range(n):
            x = inputs[i:i + 1]
            t = task[i:i + 1] if isinstance(task, torch.Tensor) else task
            logits = model(x) if t is None else model(x, t)
            log_p = torch.log_softmax(logits, dim=1)[0]
            probs = log_p.detach().exp()
            if kind == "exact":
                pairs = [(c, probs[c]) for c in range(len(probs))]
            else:
                y = _targets(kind, probs[None], labels, uniforms, i)[0] if kind != "empirical" else labels[i]
                pairs = [(int(y), 1.0)]
            for c, weight in pairs:
                grads = torch.autograd.grad(log_p[c], [p for _, p in named], retain_graph=True, allow_unused=True)
                for (name, _), g in zip(named, grads):
                    if g is not None:
                        fisher[name] += weight * g ** 2
    finally:
        model.train(was_training)
    return {name: f / n for name, f in fisher.items()}
