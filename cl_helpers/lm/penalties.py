"""What the regularizing methods add to the fine-tuning loss: EWC's penalty and the KL to the base model.

EWC (Kirkpatrick et al. 2017) here uses the empirical Fisher of sequences: the mean over N stage-0
examples of the squared gradient of each example's answer log-likelihood (the sum over its answer tokens),
computed per example with torch.func (vmap over grad, no Python loop over examples). The penalty is
cl_helpers' `quadratic_penalty` with strength lambda / 2, as in chapter 3.

KL to the base model (LwF's idea, Li & Hoiem 2016, with the frozen stage-0 model as the teacher): the mean
over the batch's real token positions of KL(base || model) of the next-token distributions, on the new
data's own prompts. It costs one more forward pass of the base model per step.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn.attention import SDPBackend, sdpa_kernel

from ..penalties import quadratic_penalty
from .data import LMData
from .tokenizer import PAD, encode_pairs
from .train import ExtraLoss


def sequence_fisher(model: nn.Module, data: LMData, chunk: int = 64) -> dict[str, torch.Tensor]:
    """Empirical diagonal Fisher per trainable parameter: mean over examples of (d log p(answer) / d theta)^2."""
    device = next(model.parameters()).device
    ids, mask = encode_pairs(data.prompts, data.answers, model.config.context)
    ids, mask = ids.to(device), mask.to(device)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    buffers = dict(model.named_buffers())

    def log_likelihood(p: dict, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, {**p, **frozen, **buffers}, (x[None, :-1],))[0]
        logp = torch.log_softmax(logits, -1).gather(-1, x[1:, None])[:, 0]
        return (logp * m).sum()

    per_example = vmap(grad(log_likelihood), in_dims=(None, 0, 0))
    total = {n: torch.zeros_like(params[n]) for n in names}
    model.eval()
    # vmap has no batching rule for the fused attention kernels (it would warn and loop over examples);
    # the math kernel is plain batched matmuls and softmax.
    with sdpa_kernel([SDPBackend.MATH]):
        for start in range(0, len(ids), chunk):
            grads = per_example(params, ids[start:start + chunk], mask[start:start + chunk].float())
            for n in names:
                total[n] += grads[n].pow(2).sum(0)
    return {n: t / len(ids) for n, t in total.items()}


def ewc_loss(model: nn.Module, fisher: dict[str, torch.Tensor], lam: float) -> ExtraLoss:
    """lambda/2 * sum F (theta - theta_stage0)^2 over the trainable parameters, anchored at their values now."""
    names = list(fisher)
    params = dict(model.named_parameters())
    anchors = [params[n].detach().clone() for n in names]
    importance = [fisher[n] for n in names]

    def extra(model: nn.Module, ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        return quadratic_penalty([params[n] for n in names], anchors, importance, lam / 2)

    return extra


def kl_loss(base: nn.Module, weight: float) -> ExtraLoss:
    """weight * mean over real positions of KL(base || model) of the next-token distributions."""
    base.eval()
    for p in base.parameters():
        p.requires_grad_(False)

    def extra(model: nn.Module, ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = torch.log_softmax(base(ids[:, :-1]), -1)
        real = ids[:, :-1] != PAD
        kl = F.kl_div(torch.log_softmax(logits, -1)[real], target[real], log_target=True, reduction="batchmean")
        return weight * kl

    return extra
